import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { publiclyVisible } from '../../content/posts/posts.repository.ts'

// What sitemaps list: public posts that may be indexed (not noindex), by blog and month of
// publication, and for Google News the last two days' posts.

export interface SitemapMonth { blog_id: string, blog_slug: string, month: string, posts: number, lastmod: Date }

/**
 * Every (blog, month) with indexable public posts, how many, and when the month's page last
 * changed. Months before the current one come from sitemap_months, kept by triggers (the
 * sitemap_months migration): all their posts' times have come, so the count there is the count
 * of visible posts. The current month and later are grouped live, since a scheduled post
 * appears there at its time without a write: each blog's range of posts_sitemap_idx from the
 * month's start, an index-only scan.
 */
export async function sitemapMonths (db: Executor, blogId: string | undefined): Promise<SitemapMonth[]> {
  const { rows } = await sitemapMonthsQuery(blogId).execute(db)
  return rows.map((row) => ({ ...row, posts: Number(row.posts) }))
}

/** sitemapMonths' statement (the heavy plan test reads its plan). */
export function sitemapMonthsQuery (blogId: string | undefined) {
  return sql<{ blog_id: string, blog_slug: string, month: string, posts: string, lastmod: Date }>`
    SELECT s.blog_id, s.blog_slug, s.month, s.posts, s.lastmod FROM (${months(blogId)}) s ORDER BY s.blog_order, s.month_start DESC`
}

/**
 * The months, unordered: `month` as YYYY-MM, and for ordering by blog slug and month, the
 * blog's place among the blogs by slug and the month's start (thousands of rows sorted by a
 * number and a time rather than by two texts: 9 ms less at a million posts).
 */
function months (blogId: string | undefined) {
  const currentMonth = sql<Date>`date_trunc('month', now() AT TIME ZONE 'UTC')`
  const oneBlog = (column: string) => blogId === undefined ? sql`` : sql`AND ${sql.ref(column)} = ${blogId}`
  return sql`
    SELECT s.blog_id, b.slug AS blog_slug, b.blog_order, s.month AS month_start, to_char(s.month, 'YYYY-MM') AS month, s.posts, s.lastmod
    FROM (
      SELECT m.blog_id, m.month::timestamp AS month, m.posts::bigint AS posts, m.lastmod
      FROM sitemap_months m
      WHERE m.posts > 0 AND m.month < ${currentMonth} ${oneBlog('m.blog_id')}
      UNION ALL
      SELECT c.id, date_trunc('month', p.published_at AT TIME ZONE 'UTC'), count(*), max(p.updated_at)
      FROM blogs c CROSS JOIN LATERAL (
        SELECT p.published_at, p.updated_at FROM posts p
        WHERE p.blog_id = c.id AND ${publiclyVisible()} AND NOT p.noindex AND p.published_at >= ${currentMonth} AT TIME ZONE 'UTC'
      ) p
      WHERE true ${oneBlog('c.id')}
      GROUP BY 1, 2
    ) s JOIN (SELECT id, slug, row_number() OVER (ORDER BY slug) AS blog_order FROM blogs) b ON b.id = s.blog_id`
}

/**
 * The sitemap index's entries, one XML line per sitemap page (a month, or each 50,000 posts of
 * it), in sitemapMonths' order, as PostgreSQL writes them: at a million posts some 6,000 lines,
 * which cost the API 48 ms of CPU a request to read as rows and write out (against 20 ms of
 * PostgreSQL's). `loc` is `address.before` (already XML-escaped), the blog's slug (letters,
 * digits and hyphens by the blogs table's CHECK: nothing to encode or escape), `address.after`,
 * the month and the page; lastmod as Date.prototype.toISOString writes it. A month's pages after
 * its first are written by a subquery that only months of more than `urlsPerPage` posts run.
 */
export async function sitemapIndexEntries (db: Executor, blogId: string | undefined, address: { before: string, after: string }, urlsPerPage: number): Promise<string> {
  const { rows } = await sql<{ xml: string | null }>`
    SELECT string_agg('  <sitemap><loc>' || e.loc || '</loc>' || e.lastmod || '</sitemap>' || CASE WHEN s.posts <= ${urlsPerPage} THEN '' ELSE (
        SELECT string_agg(E'\n  <sitemap><loc>' || e.loc || '&amp;page=' || page || '</loc>' || e.lastmod || '</sitemap>', '' ORDER BY page)
        FROM generate_series(2, ((s.posts + ${urlsPerPage - 1}) / ${urlsPerPage})::int) AS page) END,
      E'\n' ORDER BY s.blog_order, s.month_start DESC) AS xml
    FROM (${months(blogId)}) s
    CROSS JOIN LATERAL (SELECT ${address.before} || s.blog_slug || ${address.after} || s.month AS loc,
      '<lastmod>' || to_char(s.lastmod AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '</lastmod>' AS lastmod) e`.execute(db)
  return rows[0]?.xml ?? ''
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
    // A literal, like the news window's hours below: with parameters the planner could not use
    // the values, and PostgreSQL planned each news sitemap afresh (test/heavy/plans-reused.test.ts).
    .where(publiclyVisible()).where('p.noindex', '=', sql.lit(false))
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
  let query = selectSitemapPosts(db).where(sql<boolean>`p.published_at > now() - make_interval(hours => ${sql.lit(hours)})`)
  if (blogId !== undefined) query = query.where('p.blog_id', '=', blogId)
  return query.orderBy('p.published_at', 'desc').orderBy('p.id', 'desc').limit(sql.lit(limit)).execute() as Promise<SitemapPostRow[]>
}
