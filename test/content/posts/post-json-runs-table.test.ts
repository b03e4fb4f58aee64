import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { storeAllMissingRuns } from '../../../src/content/posts/json-runs-backfill.ts'
import { STORED_RUNS } from '../../../src/content/posts/post-json.repository.ts'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import type { DB } from '../../../src/db/schema.ts'
import { newBlog, newPost } from '../../helpers/factories.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { postsWithDriftedRuns } from '../../helpers/post-json-runs.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// The runs of each post's JSON live in a table of their own (the post_json_runs_table
// migration). On the post's row they were EXTENDED, and PostgreSQL moves EXTENDED columns out of
// line before the MAIN ones (the search vector, the list fields) whenever a row outgrows its
// page: an article of ordinary length (a vector of 5-6 KB) did, and a page of posts fetched every
// run of every post through the TOAST index. A run is on its row uncompressed when it takes more
// bytes there than its text (its header); the texts here do not compress, so out of line is the
// only other place for them. The control: the same articles before the migration have them out
// of line, so the check can see it.

const MIGRATION = '2026-12-04T01-00-00_post_json_runs_table'
/** Distinct words per article: vectors of some 1 KB to past a page. */
const WORD_COUNTS = [100, 400, 800, 1_500]

/** An article of `words` distinct words (body and vector grow with them), with list fields that do not compress. */
async function insertArticle (db: Kysely<any>, blogId: string, words: number, slug: string, at = sql`now() - interval '1 hour'`): Promise<void> {
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, excerpt, meta_description, lead_image_url, lead_image_caption, body_html, body_text, language, status, published_at)
    SELECT gen_random_uuid(), ${blogId}, ${slug}, 'A read in ' || ${words} || ' words ' || md5(${slug}),
      'An excerpt, ' || md5('excerpt' || ${slug}) || md5(${slug} || 'excerpt'), 'Described ' || md5('meta' || ${slug}),
      'https://images.example/' || md5(${slug}) || '.jpg', 'A caption ' || md5('caption' || ${slug}),
      '<p>' || body || '</p>', body, 'en', ${sql`CASE WHEN ${at} > now() THEN 'scheduled' ELSE 'published' END`}, ${at}
    FROM (SELECT string_agg('word' || md5(${slug} || j::text), ' ') AS body FROM generate_series(1, ${words}) j) AS b`.execute(db)
}

/** Whether each run of the post is kept whole and uncompressed in `table`, and its vector's size. */
async function runsPlacement (db: Kysely<any>, slug: string, table: 'posts' | 'post_json_runs'): Promise<{ runsOnRow: boolean, vectorBytes: number }> {
  const from = table === 'posts' ? sql`posts p` : sql`posts p JOIN post_json_runs r ON r.post_id = p.id`
  const at = table === 'posts' ? 'p' : 'r'
  const { rows } = await sql<{ on_row: boolean, vector_bytes: number }>`
    SELECT ${sql.join(STORED_RUNS.map((run) => sql`pg_column_size(${sql.ref(`${at}.${run}`)}) > octet_length(${sql.ref(`${at}.${run}`)})`), sql` AND `)} AS on_row,
      pg_column_size(p.search) AS vector_bytes
    FROM ${from} WHERE p.slug = ${slug}`.execute(db)
  const row = rows[0]
  if (row === undefined) throw new Error(`no runs for ${slug}`)
  return { runsOnRow: row.on_row, vectorBytes: Number(row.vector_bytes) }
}

t.test('an article of any length keeps its JSON runs whole on their own row', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const blog = await newBlog(db, { slug: 'reads' })
  let largest = 0
  for (const words of WORD_COUNTS) {
    await insertArticle(db, blog.id, words, `read-${words}`)
    const { runsOnRow, vectorBytes } = await runsPlacement(db, `read-${words}`, 'post_json_runs')
    largest = Math.max(largest, vectorBytes)
    t.ok(runsOnRow, `${words} words (vector ${vectorBytes} bytes): every run on its row, uncompressed`)
  }
  t.ok(largest > 8192, `the longest article's vector (${largest} bytes) is larger than a page`)
  t.same(await postsWithDriftedRuns(db), [], 'each run the text its post gives')

  // What a hard delete leaves: nothing (a post's runs go with it).
  await db.deleteFrom('posts').where('slug', '=', 'read-100').execute()
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM post_json_runs`.execute(db)
  t.equal(Number(rows[0]?.n), WORD_COUNTS.length - 1, 'a deleted post\'s runs are deleted with it')
})

t.test('the migration moves the runs off the posts\' rows, and the pass gives the rest theirs', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const undone = await migrateDownThrough(db, MIGRATION)
  t.equal(undone.at(-1), MIGRATION, `undone back to before ${MIGRATION}`)
  const blog = await newBlog(db as Kysely<DB>, { slug: 'reads' })
  await insertArticle(db, blog.id, 150, 'an-ordinary-article')
  await insertArticle(db, blog.id, 150, 'a-scheduled-article', sql`now() + interval '7 days'`)
  await insertArticle(db, blog.id, 30, 'a-short-article')
  // A draft is outside the window (the newest published and the scheduled): the pass's to do.
  const draft = await newPost(db as Kysely<DB>, { blogId: blog.id, status: 'draft', title: 'A draft' })
  const before = await runsPlacement(db, 'an-ordinary-article', 'posts')
  t.notOk(before.runsOnRow, `before it, an article of 150 distinct words (vector ${before.vectorBytes} bytes) has its runs out of its row`)
  const { rows: kept } = await sql<Record<string, string>>`SELECT slug, json_summary, json_dates_seo, json_seo_rest FROM posts ORDER BY slug`.execute(db)

  t.same(await migrateToLatest(db), [...undone].reverse(), 'up again')
  const { rows: moved } = await sql<Record<string, string>>`
    SELECT p.slug, r.json_summary, r.json_dates_seo, r.json_seo_rest FROM posts p JOIN post_json_runs r ON r.post_id = p.id ORDER BY p.slug`.execute(db)
  t.same(moved, kept.filter((row) => row.slug !== draft.slug), 'the window\'s runs are moved as they were; the draft\'s are not')
  for (const slug of ['an-ordinary-article', 'a-scheduled-article']) t.ok((await runsPlacement(db, slug, 'post_json_runs')).runsOnRow, `${slug}: its runs are on their own row`)
  const { rows: columns } = await sql<{ n: string }>`SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'posts' AND column_name LIKE 'json\\_%'`.execute(db)
  t.equal(Number(columns[0]?.n), 0, 'the posts\' rows keep no runs')

  t.same((await postsWithDriftedRuns(db)).map((row) => row.id), STORED_RUNS.map(() => draft.id), 'the draft has none yet')
  t.equal(await storeAllMissingRuns(db), 1, 'the pass gives it its runs')
  t.same(await postsWithDriftedRuns(db), [], 'every post has its runs')
  const { rows: left } = await sql<{ n: string }>`SELECT count(*) AS n FROM post_json_runs_backfill`.execute(db)
  t.equal(Number(left[0]?.n), 0, 'and the pass is done for good')
  t.equal(await storeAllMissingRuns(db), 0, 'a later start finds nothing to do')
})
