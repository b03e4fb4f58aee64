import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { publiclyVisible } from '../../content/posts/posts.repository.ts'

// What sitemaps list: public posts that may be indexed (not noindex), by blog and month of
// publication, and for Google News the last two days' posts.

export interface SitemapMonth { blog_id: string, blog_slug: string, month: string, posts: number, lastmod: Date }

/** Every (blog, month) with indexable public posts, how many, and when the newest of them changed. */
export async function sitemapMonths (db: Executor, blogId: string | undefined): Promise<SitemapMonth[]> {
  // Grouped on the columns of posts_sitemap_idx alone (an index-only scan); names come after.
  const { rows } = await sql<{ blog_id: string, blog_slug: string, month: string, posts: string, lastmod: Date }>`
    SELECT s.blog_id, b.slug AS blog_slug, to_char(s.month, 'YYYY-MM') AS month, s.posts, s.lastmod
    FROM (
      SELECT p.blog_id, date_trunc('month', p.published_at AT TIME ZONE 'UTC') AS month, count(*) AS posts, max(p.updated_at) AS lastmod
      FROM posts p
      WHERE ${publiclyVisible()} AND NOT p.noindex ${blogId === undefined ? sql`` : sql`AND p.blog_id = ${blogId}`}
      GROUP BY 1, 2
    ) s JOIN blogs b ON b.id = s.blog_id
    ORDER BY b.slug, s.month DESC`.execute(db)
  return rows.map((row) => ({ ...row, posts: Number(row.posts) }))
}

export interface SitemapPostRow {
  id: string
  slug: string
  title: string
  language: string
  published_at: Date
  updated_at: Date
  blog_slug: string
  blog_title: string
  blog_website_url: string | null
  blog_post_url_template: string | null
}

function selectSitemapPosts (db: Executor) {
  return db.selectFrom('posts as p').innerJoin('blogs as b', 'b.id', 'p.blog_id')
    .select(['p.id', 'p.slug', 'p.title', 'p.language', 'p.updated_at', 'b.slug as blog_slug', 'b.title as blog_title',
      'b.website_url as blog_website_url', 'b.post_url_template as blog_post_url_template'])
    .select(sql<Date>`p.published_at`.as('published_at'))
    .where(publiclyVisible()).where('p.noindex', '=', false)
}

/** One sitemap page: a blog's indexable posts of one month, in publication order, a slice of at most `limit`. */
export async function sitemapPosts (db: Executor, blogId: string, month: string, offset: number, limit: number): Promise<SitemapPostRow[]> {
  const start = new Date(`${month}-01T00:00:00Z`)
  const end = new Date(start)
  end.setUTCMonth(end.getUTCMonth() + 1)
  return selectSitemapPosts(db).where('p.blog_id', '=', blogId).where('p.published_at', '>=', start).where('p.published_at', '<', end)
    .orderBy('p.published_at', 'desc').orderBy('p.id', 'desc').offset(offset).limit(sql.lit(limit)).execute() as Promise<SitemapPostRow[]>
}

/** Google News: indexable posts published in the last `hours`, newest first, at most `limit`. */
export async function newsSitemapPosts (db: Executor, blogId: string | undefined, hours: number, limit: number): Promise<SitemapPostRow[]> {
  let query = selectSitemapPosts(db).where(sql<boolean>`p.published_at > now() - make_interval(hours => ${hours})`)
  if (blogId !== undefined) query = query.where('p.blog_id', '=', blogId)
  return query.orderBy('p.published_at', 'desc').orderBy('p.id', 'desc').limit(sql.lit(limit)).execute() as Promise<SitemapPostRow[]>
}
