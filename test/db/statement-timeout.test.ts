import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import pg from 'pg'
import pino from 'pino'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { openDatabase, type Executor } from '../../src/db/database.ts'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { createTestDatabase, testServerUrl } from '../helpers/test-database.ts'

// DATABASE_STATEMENT_TIMEOUT_MS (db/postgres.ts): PostgreSQL cancels a read that runs past it, so
// a runaway one stops holding a connection and a backend; read-write transactions lift it for
// themselves, so no write, migration or background pass is cancelled halfway. Nothing here
// depends on the machine's speed: what should be cancelled waits on a lock or sleeps for
// several times the limit, and what should not is made to wait for longer than it.

const LIMIT_MS = 200
const embedded = testServerUrl() === undefined && 'the embedded database has no statement timeout'

async function limitedDatabase (t: Test) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  // As a server opens it: from its environment, with one connection so every statement below
  // shows what the one before left behind on it.
  const config = loadConfig({ DATABASE_URL: testDb.url!, DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: String(LIMIT_MS) })
  const database = await openDatabase(config.database)
  t.teardown(() => database.close())
  return { testDb, database, config }
}

const sqlState = (error: unknown) => (error as { code?: string }).code
const setting = async (executor: Executor) =>
  (await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(executor)).rows[0]!.statement_timeout

t.test('a read is cancelled at the limit; a read-write transaction lifts it for itself alone', { skip: embedded }, async (t) => {
  const { database: { db } } = await limitedDatabase(t)

  t.equal(await setting(db), `${LIMIT_MS}ms`)
  await t.rejects(sql`SELECT pg_sleep(${LIMIT_MS * 5 / 1000})`.execute(db), { code: '57014' }, 'a read past the limit: query_canceled')

  await db.transaction().execute(async (tx) => {
    t.equal(await setting(tx), '0', 'no limit in a read-write transaction')
    await sql`SELECT pg_sleep(${LIMIT_MS * 3 / 1000})`.execute(tx)
  })
  t.equal(await setting(db), `${LIMIT_MS}ms`, 'and back after it, on the same connection')

  await db.transaction().setAccessMode('read only').execute(async (tx) => {
    t.equal(await setting(tx), `${LIMIT_MS}ms`, 'a read-only transaction keeps it')
  })
  // A transaction that failed (rolled back) leaves the connection as it found it too.
  const failed = await db.transaction().execute(async (tx) => {
    await sql`SELECT 1 / 0`.execute(tx)
  }).catch(sqlState)
  t.equal(failed, '22012')
  t.equal(await setting(db), `${LIMIT_MS}ms`)
})

t.test('a read-write transaction lifts the limit in the round trip that begins it', { skip: embedded }, async (t) => {
  // What the driver sends, message by message, as the pool's own pg clients send it (taken
  // before the pool opens its connection: the API's wrapper binds the client's query then).
  const sent: string[] = []
  const query = pg.Client.prototype.query
  const restore = () => { pg.Client.prototype.query = query }
  t.teardown(restore)
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string }
    sent.push(typeof first === 'string' ? first : first.text ?? '')
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query
  const { database: { db } } = await limitedDatabase(t)
  await sql`SELECT 1`.execute(db) // the one connection opened, its session settings sent
  sent.length = 0
  await db.transaction().execute(async (tx) => { await sql`SELECT 2`.execute(tx) })
  await db.transaction().setIsolationLevel('serializable').execute(async (tx) => { await sql`SELECT 3`.execute(tx) })
  await db.transaction().setAccessMode('read only').execute(async (tx) => { await sql`SELECT 4`.execute(tx) })
  restore()
  t.same(sent, [
    'begin; SET LOCAL statement_timeout = 0', 'SELECT 2', 'commit',
    'start transaction isolation level serializable; SET LOCAL statement_timeout = 0', 'SELECT 3', 'commit',
    'start transaction read only', 'SELECT 4', 'commit'
  ])
})

t.test('a GET stuck behind a lock is a 503 database_timeout; a write behind it waits and lands', { skip: embedded }, async (t) => {
  const { testDb, database, config } = await limitedDatabase(t)
  const app = await buildApp({ config, database, logger: pino({ level: 'silent' }), backgroundJobs: false })
  t.teardown(() => app.close())
  const writer = await newApiKey(app.db, ['content:write'])
  await newBlog(app.db, { slug: 'desk' })

  // Another session holds the posts table the way a long migration elsewhere would.
  const locker = new pg.Client({ connectionString: testDb.url })
  await locker.connect()
  t.teardown(() => locker.end())
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE')

  const read = await app.inject({ method: 'GET', url: '/v1/posts?blog=desk' })
  t.equal(read.statusCode, 503, 'answered while the lock is still held: PostgreSQL cancelled the read')
  t.equal(read.headers['content-type'], 'application/problem+json')
  t.equal(read.headers['retry-after'], '5')
  t.match(read.json(), { status: 503, code: 'database_timeout' })
  t.equal(read.headers['cache-control'], 'no-store')

  // A write waits on the same lock for longer than the limit, and is not cancelled.
  const writing = app.inject({
    method: 'POST',
    url: '/v1/posts',
    headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ blog: 'desk', title: 'Written behind a lock', status: 'published' })
  })
  await sleep(LIMIT_MS * 4)
  await locker.query('COMMIT')
  const written = await writing
  t.equal(written.statusCode, 201, written.body)

  const after = await app.inject({ method: 'GET', url: '/v1/posts?blog=desk' })
  t.equal(after.statusCode, 200)
  t.same(after.json<{ data: Array<{ title: string }> }>().data.map((post) => post.title), ['Written behind a lock'])
})

t.test('0: no limit', { skip: embedded }, async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const database = await openDatabase(loadConfig({ DATABASE_URL: testDb.url!, DATABASE_STATEMENT_TIMEOUT_MS: '0' }).database)
  t.teardown(() => database.close())
  t.equal(await setting(database.db), '0')
})
