import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import type { DB } from '../../../src/db/schema.ts'
import { newBlog } from '../../helpers/factories.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { buildTestApp } from '../../helpers/test-app.ts'
import { createTestDatabase } from '../../helpers/test-database.ts'

// The fields lists read stay on the post's row however long the article (the
// list_fields_on_the_row migration): PostgreSQL fits a row under its target by moving EXTENDED
// columns out of line, largest first, before any MAIN one, and the search vector is MAIN. With
// the fields EXTENDED, an article whose vector nearly filled the page had its title, slug,
// excerpt and bylines moved to the TOAST table, and a page of posts read each from there.
// Articles of growing length here, up to a vector larger than a page; a field is on the row,
// uncompressed, when it takes more bytes there than its text (its header; the texts here do not
// compress, so out of line is the only other place for them). The control: the
// same article with the fields EXTENDED has them out of line, so the check can see it.

const SUMMARY_FIELDS = ['title', 'slug', 'excerpt', 'lead_image_caption', 'author_summaries'] as const
/** Distinct words per article: vectors of some 3 KB to well past a page. */
const WORD_COUNTS = [80, 150, 200, 260, 400, 1200]

const MIGRATION = '2026-12-02T07-00-00_list_fields_on_the_row'

/** A post of `words` distinct words (body and vector grow with them), published `at` (SQL). */
async function insertArticle (db: Kysely<any>, blogId: string, words: number, slug: string, at = sql`now() - interval '1 hour'`): Promise<void> {
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, excerpt, lead_image_url, lead_image_caption, body_html, body_text, language, status, published_at, author_summaries)
    SELECT gen_random_uuid(), ${blogId}, ${slug}, 'A long read in ' || ${words} || ' distinct words, with a title of ordinary length',
      'An excerpt, ' || md5('excerpt' || ${words}) || md5(${slug}), 'https://images.example/lead.jpg', 'A caption ' || md5(${slug}),
      body, body, 'en', ${sql`CASE WHEN ${at} > now() THEN 'scheduled' ELSE 'published' END`}, ${at},
      json_build_array(json_build_object('id', gen_random_uuid(), 'slug', 'a-correspondent', 'name', 'A Correspondent'))
    FROM (SELECT string_agg('word' || md5(j::text), ' ') AS body FROM generate_series(1, ${words}) j) AS b`.execute(db)
}

/** For each summary field, whether it is on the post's row uncompressed; and the vector's size. */
async function placement (db: Kysely<any>, slug: string): Promise<Record<string, boolean | number>> {
  return (await sql<Record<string, boolean | number>>`
    SELECT ${sql.join(SUMMARY_FIELDS.map((field) => sql`pg_column_size(${sql.ref(field)}) > octet_length(${sql.ref(field)}::text) AS ${sql.ref(field)}`))},
      pg_column_size(search) AS vector_bytes
    FROM posts WHERE slug = ${slug}`.execute(db)).rows[0] as Record<string, boolean | number>
}

t.test('a long article keeps the fields lists read on its row', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const blog = await newBlog(db, { slug: 'long-reads' })
  const insert = (words: number, slug: string) => insertArticle(db, blog.id, words, slug)
  let largest = 0
  for (const words of WORD_COUNTS) {
    await insert(words, `long-read-${words}`)
    const row = await placement(db, `long-read-${words}`)
    largest = Math.max(largest, Number(row.vector_bytes))
    for (const field of SUMMARY_FIELDS) t.equal(row[field], true, `${words} words (vector ${String(row.vector_bytes)} bytes): ${field} is on the row`)
  }
  t.ok(largest > 8192, `the longest article's vector (${largest} bytes) is larger than a page`)

  // The control: fields EXTENDED, as before the migration.
  for (const field of SUMMARY_FIELDS) await sql`ALTER TABLE posts ALTER COLUMN ${sql.ref(field)} SET STORAGE EXTENDED`.execute(db)
  await insert(200, 'control-a-long-read-with-a-slug-of-ordinary-length')
  const control = await placement(db, 'control-a-long-read-with-a-slug-of-ordinary-length')
  t.ok(SUMMARY_FIELDS.every((field) => control[field] === false), `with the fields EXTENDED, a 200-word article has them out of line: ${JSON.stringify(control)}`)
})

t.test('the migration puts the fields of the newest and the scheduled posts back on their rows', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  t.equal((await migrateDownThrough(db, MIGRATION)).at(-1), MIGRATION, `undone back to before ${MIGRATION}`)
  const blog = await newBlog(db as Kysely<DB>, { slug: 'long-reads' })
  const slugs = { newest: 'a-long-read-published-an-hour-ago', scheduled: 'a-long-read-scheduled-for-next-week' }
  await insertArticle(db, blog.id, 260, slugs.newest)
  await insertArticle(db, blog.id, 260, slugs.scheduled, sql`now() + interval '7 days'`)
  for (const slug of Object.values(slugs)) {
    const before = await placement(db, slug)
    t.ok(SUMMARY_FIELDS.every((field) => before[field] === false), `${slug}: before it, out of line: ${JSON.stringify(before)}`)
  }
  const vectorsBefore = await sql<{ slug: string, search: string }>`SELECT slug, search::text FROM posts ORDER BY slug`.execute(db)
  await migrateToLatest(db)
  for (const slug of Object.values(slugs)) {
    const after = await placement(db, slug)
    t.ok(SUMMARY_FIELDS.every((field) => after[field] === true), `${slug}: after it, on the row: ${JSON.stringify(after)}`)
  }
  const vectorsAfter = await sql<{ slug: string, search: string }>`SELECT slug, search::text FROM posts ORDER BY slug`.execute(db)
  t.same(vectorsAfter.rows, vectorsBefore.rows, 'the search vectors are as they were')
})
