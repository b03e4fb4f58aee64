import { readdir } from 'node:fs/promises'
import { sql } from 'kysely'
import t from 'tap'
import { uuidv7 } from 'uuidv7'
import { openPostgres } from '../../src/db/postgres.ts'
import { MIGRATIONS_FOLDER, migrateAllDown, migrateToLatest } from '../../src/db/migrator.ts'
import { newBlog } from '../helpers/factories.ts'
import { createTestDatabase } from '../helpers/test-database.ts'

const TABLES = [
  'api_keys', 'authors', 'blogs', 'change_cursors', 'change_followers', 'changes', 'idempotency_keys', 'post_authors', 'post_json_runs', 'post_json_runs_backfill', 'post_list_changes', 'post_tags', 'posts',
  'sitemap_months', 'slug_redirects', 'tags', 'webhook_deliveries', 'webhooks'
]

async function tableNames (db: Parameters<typeof migrateToLatest>[0]): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(db)
  return rows.map((row) => row.table_name)
}

t.test('migrations go up, all the way down, and up again', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  t.same(await tableNames(db), TABLES, 'the template is migrated')
  t.same(await migrateToLatest(db), [], 'nothing left to apply')
  const undone = await migrateAllDown(db)
  t.ok(undone.length >= 1)
  t.same(await tableNames(db), [], 'down removes every table')
  t.same(await migrateToLatest(db), [...undone].reverse())
  t.same(await tableNames(db), TABLES)
})

t.test('two processes migrating one PostgreSQL database at once take turns', { skip: process.env.TEST_DATABASE_URL || process.env.DATABASE_URL ? false : 'PostgreSQL only' }, async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  await migrateAllDown(testDb.database.db)
  const a = openPostgres({ url: testDb.url as string, poolSize: 2 })
  const b = openPostgres({ url: testDb.url as string, poolSize: 2 })
  t.teardown(async () => { await a.close(); await b.close() })
  const [first, second] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)])
  const migrations = (await readdir(MIGRATIONS_FOLDER)).filter((name) => name.endsWith('.ts'))
  t.equal(first.length + second.length, migrations.length, 'each migration ran exactly once')
  t.same(await tableNames(a.db), TABLES)
})

t.test('constraints make bad content impossible', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  const blog = await newBlog(db, { slug: 'home' })
  const post = (overrides: Record<string, unknown> = {}) => ({
    id: uuidv7(), blog_id: blog.id, slug: `post-${Math.random().toString(36).slice(2, 8)}`, title: 'A title',
    subtitle: null, excerpt: null, lead_image_url: null, lead_image_alt: null, lead_image_caption: null,
    lead_image_credit: null, lead_image_width: null, lead_image_height: null, published_at: null, deleted_at: null,
    ...overrides
  })
  const rejects = async (what: string, insert: () => Promise<unknown>) => {
    // SQLSTATE class 23: integrity constraint violation (check, unique, foreign key, not null).
    await t.rejects(insert(), { code: /^23/ }, what)
  }
  await rejects('slug with capitals', () => newBlog(db, { slug: 'Home' }))
  await rejects('slug with spaces', () => newBlog(db, { slug: 'my blog' }))
  await rejects('duplicate blog slug', () => newBlog(db, { slug: 'home' }))
  await rejects('bad language tag', () => newBlog(db, { language: 'english!' }))
  await rejects('unknown status', () => db.insertInto('posts').values(post({ status: 'live' })).execute())
  await rejects('published without a time', () => db.insertInto('posts').values(post({ status: 'published' })).execute())
  await rejects('post in a blog that does not exist', () => db.insertInto('posts').values(post({ blog_id: uuidv7() })).execute())
  await rejects('caption without an image', () => db.insertInto('posts').values(post({ lead_image_caption: 'orphan' })).execute())
  await rejects('image url that is not http(s)', () => db.insertInto('posts').values(post({ lead_image_url: 'javascript:alert(1)' })).execute())
  await db.insertInto('posts').values(post({ slug: 'taken' })).execute()
  await rejects('duplicate slug in one blog', () => db.insertInto('posts').values(post({ slug: 'taken' })).execute())
  const other = await newBlog(db, { slug: 'other' })
  await db.insertInto('posts').values(post({ slug: 'taken', blog_id: other.id })).execute()
  t.pass('the same slug is fine in another blog')
})

t.test('a post\'s publish time is kept beside its authors and tags for per-author and per-tag lists', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  const blog = await newBlog(db)
  const author = await db.insertInto('authors').values({ id: uuidv7(), slug: 'a', name: 'A' }).returning('id').executeTakeFirstOrThrow()
  const tag = await db.insertInto('tags').values({ id: uuidv7(), slug: 't', name: 'T' }).returning('id').executeTakeFirstOrThrow()
  const postId = uuidv7()
  await db.insertInto('posts').values({
    id: postId, blog_id: blog.id, slug: 'p', title: 'P', subtitle: null, excerpt: null, lead_image_url: null, lead_image_alt: null,
    lead_image_caption: null, lead_image_credit: null, lead_image_width: null, lead_image_height: null,
    status: 'published', published_at: '2024-01-02T03:04:05Z', deleted_at: null
  }).execute()
  await db.insertInto('post_authors').values({ post_id: postId, author_id: author.id, position: 0 }).execute()
  await db.insertInto('post_tags').values({ post_id: postId, tag_id: tag.id, position: 0 }).execute()
  const copied = async () => [
    (await db.selectFrom('post_authors').select('published_at').executeTakeFirstOrThrow()).published_at?.toISOString(),
    (await db.selectFrom('post_tags').select('published_at').executeTakeFirstOrThrow()).published_at?.toISOString()
  ]
  t.same(await copied(), ['2024-01-02T03:04:05.000Z', '2024-01-02T03:04:05.000Z'])
  await db.updateTable('posts').set({ published_at: '2025-05-06T07:08:09Z' }).where('id', '=', postId).execute()
  t.same(await copied(), ['2025-05-06T07:08:09.000Z', '2025-05-06T07:08:09.000Z'])
})
