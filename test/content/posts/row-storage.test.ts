import { sql } from 'kysely'
import t from 'tap'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

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

t.test('a long article keeps the fields lists read on its row', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const blog = await newBlog(db, { slug: 'long-reads' })
  const insert = (words: number, slug: string) => sql`
    INSERT INTO posts (id, blog_id, slug, title, excerpt, lead_image_url, lead_image_caption, body_html, body_text, language, status, published_at, author_summaries)
    SELECT gen_random_uuid(), ${blog.id}, ${slug}, 'A long read in ' || ${words} || ' distinct words, with a title of ordinary length',
      'An excerpt, ' || md5('excerpt' || ${words}) || md5(${slug}), 'https://images.example/lead.jpg', 'A caption ' || md5(${slug}),
      body, body, 'en', 'published', now() - interval '1 hour',
      json_build_array(json_build_object('id', gen_random_uuid(), 'slug', 'a-correspondent', 'name', 'A Correspondent'))
    FROM (SELECT string_agg('word' || md5(j::text), ' ') AS body FROM generate_series(1, ${words}) j) AS b`.execute(db)
  const placement = async (slug: string) => (await sql<Record<string, boolean>>`
    SELECT ${sql.join(SUMMARY_FIELDS.map((field) => sql`pg_column_size(${sql.ref(field)}) > octet_length(${sql.ref(field)}::text) AS ${sql.ref(field)}`))},
      pg_column_size(search) AS vector_bytes
    FROM posts WHERE slug = ${slug}`.execute(db)).rows[0] as Record<string, boolean | number>

  let largest = 0
  for (const words of WORD_COUNTS) {
    await insert(words, `long-read-${words}`)
    const row = await placement(`long-read-${words}`)
    largest = Math.max(largest, Number(row.vector_bytes))
    for (const field of SUMMARY_FIELDS) t.equal(row[field], true, `${words} words (vector ${String(row.vector_bytes)} bytes): ${field} is on the row`)
  }
  t.ok(largest > 8192, `the longest article's vector (${largest} bytes) is larger than a page`)

  // The control: fields EXTENDED, as before the migration.
  for (const field of SUMMARY_FIELDS) await sql`ALTER TABLE posts ALTER COLUMN ${sql.ref(field)} SET STORAGE EXTENDED`.execute(db)
  await insert(200, 'control-a-long-read-with-a-slug-of-ordinary-length')
  const control = await placement('control-a-long-read-with-a-slug-of-ordinary-length')
  t.ok(SUMMARY_FIELDS.every((field) => control[field] === false), `with the fields EXTENDED, a 200-word article has them out of line: ${JSON.stringify(control)}`)
})
