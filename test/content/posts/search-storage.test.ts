import { sql, type Kysely } from 'kysely'
import t from 'tap'
import type { Test } from 'tap'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import type { DB } from '../../../src/db/schema.ts'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { createTestDatabase } from '../../helpers/test-database.ts'

// A full-text list walks posts in list order and tests each one's search vector
// (posts.repository.ts, listInWindows). Kept out of line, in the TOAST table, each test read
// the vector's chunks through the TOAST index: most of the walk's cost. The vector is kept on
// the row (the search_vector_inline migration). Counted in buffers, which do not depend on how
// fast the machine is: testing the vectors of posts with large ones reads no page beyond the
// posts' own, while reading their bodies (kept out of line) reads the TOAST table's pages.

const POSTS = 60
const MIGRATION = '2026-12-02T02-00-00_search_vector_inline'

/** Shared buffers (hit or read) the execution of `query` touched. */
async function buffersOf (db: Kysely<DB>, query: ReturnType<typeof sql>): Promise<number> {
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query}`.execute(db)
  const plan = rows[0]?.['QUERY PLAN']
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as Array<{ Plan: { 'Shared Hit Blocks': number, 'Shared Read Blocks': number } }>
  const top = parsed[0]?.Plan
  if (top === undefined) throw new Error('no plan')
  return top['Shared Hit Blocks'] + top['Shared Read Blocks']
}

/** POSTS posts of a new blog, with 400 distinct words each: a vector of some 6 KB, which the default storage moves out of line. */
async function postsWithLargeVectors (db: Kysely<DB>): Promise<string> {
  const blog = await newBlog(db)
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, subtitle, excerpt, lead_image_url, lead_image_caption, body_text, body_html, language, status, published_at)
    SELECT gen_random_uuid(), ${blog.id}, 'post-' || i, 'Post ' || i || repeat(' with a headline of some length', 3), repeat('A subtitle ', 10),
           repeat('An excerpt of the kind lists show. ', 10), 'https://images.example.com/' || md5(i::text) || '.jpg', repeat('A caption ', 8),
           words, '<p>' || words || '</p>', 'en', 'published', now() - make_interval(mins => i)
    FROM generate_series(1, ${POSTS}) i
    CROSS JOIN LATERAL (SELECT string_agg('w' || substr(md5(i || '-' || w), 1, 9), ' ') AS words FROM generate_series(1, 400) w) AS body`.execute(db)
  return blog.id
}

/** Checks that testing the blog's posts' vectors reads no page beyond their rows, and that the count could have seen it. */
async function vectorsReadFromRows (t: Test, db: Kysely<DB>, blogId: string): Promise<void> {
  const sizes = await sql<{ smallest: number }>`SELECT min(pg_column_size(search)) AS smallest FROM posts WHERE blog_id = ${blogId}`.execute(db)
  t.ok(Number(sizes.rows[0]?.smallest) > 2_500, `each vector is larger than a row keeps by default (smallest ${sizes.rows[0]?.smallest} bytes)`)
  const rowsOnly = await buffersOf(db, sql`SELECT count(*) FROM posts p WHERE p.blog_id = ${blogId}`)
  const testingVectors = await buffersOf(db, sql`SELECT count(*) FILTER (WHERE p.search @@ to_tsquery('simple', 'nowhere')) FROM posts p WHERE p.blog_id = ${blogId}`)
  const readingBodies = await buffersOf(db, sql`SELECT count(*) FILTER (WHERE length(p.body_text) > 0) FROM posts p WHERE p.blog_id = ${blogId}`)
  t.ok(readingBodies - rowsOnly >= POSTS, `reading ${POSTS} bodies kept out of line touches the TOAST table (${readingBodies - rowsOnly} more buffers): the measure sees it`)
  t.ok(testingVectors - rowsOnly < POSTS / 4, `testing ${POSTS} vectors touches no page beyond the rows (${testingVectors - rowsOnly} more buffers)`)
  // What a list page shows stays on the row too: with a large vector kept there, the default
  // target (a row under 2 KB) would push every other text column out of line instead.
  const readingListColumns = await buffersOf(db, sql`SELECT count(*) FILTER (WHERE length(p.title) + length(p.subtitle) + length(p.excerpt) +
    length(p.lead_image_url) + length(p.lead_image_caption) > 0) FROM posts p WHERE p.blog_id = ${blogId}`)
  t.ok(readingListColumns - rowsOnly < POSTS / 4, `reading ${POSTS} posts' titles, subtitles, excerpts and images touches no page beyond the rows (${readingListColumns - rowsOnly} more buffers)`)
}

t.test('a new post\'s search vector is read from its row, not from the TOAST table', async (t) => {
  const { app } = await buildTestApp(t)
  await vectorsReadFromRows(t, app.db, await postsWithLargeVectors(app.db))
})

t.test('the migration moves the vectors of posts written before it onto their rows', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  t.equal((await migrateDownThrough(db, MIGRATION)).at(-1), MIGRATION, `undone back to before ${MIGRATION}`)
  const blogId = await postsWithLargeVectors(db as Kysely<DB>)
  const rowsOnly = await buffersOf(db as Kysely<DB>, sql`SELECT count(*) FROM posts p WHERE p.blog_id = ${blogId}`)
  const before = await buffersOf(db as Kysely<DB>, sql`SELECT count(*) FILTER (WHERE p.search @@ to_tsquery('simple', 'nowhere')) FROM posts p WHERE p.blog_id = ${blogId}`)
  t.ok(before - rowsOnly >= POSTS, `before it, testing their vectors reads the TOAST table (${before - rowsOnly} more buffers)`)
  await migrateToLatest(db)
  await vectorsReadFromRows(t, db as Kysely<DB>, blogId)
})
