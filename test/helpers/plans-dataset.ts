import { sql, type Kysely } from 'kysely'
import type { DB } from '../../src/db/schema.ts'

// The heavy tests' archive (test/heavy): 100,000 posts over 50 blogs, 200 authors and 500 tags,
// analyzed, so that the planner weighs plans as it would for a real publisher's archive.

export const POSTS = 100_000

export async function loadPlansDataset (db: Kysely<DB>) {
  const statements = [
    sql`INSERT INTO blogs (id, slug, title) SELECT gen_random_uuid(), 'blog-' || i, 'Blog ' || i FROM generate_series(1, 50) i`,
    sql`INSERT INTO authors (id, slug, name) SELECT gen_random_uuid(), 'author-' || i, 'Author ' || i FROM generate_series(1, 200) i`,
    sql`INSERT INTO tags (id, slug, name) SELECT gen_random_uuid(), 'tag-' || i, 'Tag ' || i FROM generate_series(1, 500) i`,
    // A few percent drafts and deleted posts, like a real archive.
    // One post in fifty in French, the rest in English.
    sql`INSERT INTO posts (id, blog_id, slug, title, body_text, language, is_breaking, status, published_at, deleted_at)
        SELECT gen_random_uuid(), b.ids[1 + i % 50], 'post-' || i, 'Post ' || i, 'body text of post ' || i, CASE WHEN i % 50 = 7 THEN 'fr' ELSE 'en' END, i % 100 = 3,
               CASE WHEN i % 40 = 0 THEN 'draft' ELSE 'published' END,
               CASE WHEN i % 40 = 0 THEN NULL ELSE now() - make_interval(mins => i) END,
               CASE WHEN i % 97 = 0 THEN now() END
        FROM generate_series(1, ${POSTS}) i, (SELECT array_agg(id ORDER BY slug) AS ids FROM blogs) b`,
    sql`INSERT INTO post_authors (post_id, author_id, position)
        SELECT p.id, a.ids[1 + abs(hashtext(p.id::text)) % 200], 0
        FROM posts p, (SELECT array_agg(id ORDER BY slug) AS ids FROM authors) a`,
    sql`INSERT INTO post_tags (post_id, tag_id, position)
        SELECT p.id, g.ids[1 + abs(hashtext(p.slug)) % 500], 0
        FROM posts p, (SELECT array_agg(id ORDER BY slug) AS ids FROM tags) g`,
    sql`ANALYZE`
  ]
  for (const statement of statements) await statement.execute(db)
}
