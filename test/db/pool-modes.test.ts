import { sql } from 'kysely'
import pg from 'pg'
import t, { type Test } from 'tap'
import { CHANGES_CHANNEL } from '../../src/changes/change-log.repository.ts'
import { loadConfig } from '../../src/config.ts'
import { openDatabase, type Database } from '../../src/db/database.ts'
import { createTestDatabase, testServerUrl } from '../helpers/test-database.ts'

// DATABASE_POOL_MODE (db/postgres.ts): behind a pooler that hands out server connections per
// transaction, nothing may be left on one between transactions. This holds the API to that on
// PostgreSQL itself, where what a connection keeps can be read: its prepared statements, its
// settings, and which server connection LISTENs. (Through a real PgBouncer: the scale-out
// script, npm run test:scale-out.)

const embedded = testServerUrl() === undefined && 'pool modes are PostgreSQL\'s'

async function opened (t: Test, env: Record<string, string>, url?: string): Promise<{ database: Database, url: string }> {
  let databaseUrl = url
  if (databaseUrl === undefined) {
    const testDb = await createTestDatabase()
    t.teardown(() => testDb.destroy())
    databaseUrl = testDb.url!
  }
  // One connection, so every statement below runs on the one the statements before it used.
  const database = await openDatabase(loadConfig({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '1', ...env }).database)
  t.teardown(() => database.close())
  return { database, url: databaseUrl }
}

/** What this connection keeps from one statement to the next. */
async function keptOnTheConnection (database: Database) {
  // A read of the kind the API names (db/named-statements.ts), twice.
  for (let i = 0; i < 2; i++) await database.db.selectFrom('blogs').select('id').where('slug', '=', 'none').execute()
  const { rows } = await sql<{ prepared: string, timeout: string, jit: string, workers: string }>`
    SELECT (SELECT count(*) FROM pg_prepared_statements) AS prepared, current_setting('statement_timeout') AS timeout,
           current_setting('jit') AS jit, current_setting('max_parallel_workers_per_gather') AS workers`.execute(database.db)
  return rows[0]!
}

t.test('session: named statements and the settings stay on the connection', { skip: embedded }, async (t) => {
  const { database } = await opened(t, { DATABASE_STATEMENT_TIMEOUT_MS: '5000' })
  t.match(await keptOnTheConnection(database), { timeout: '5s', jit: 'off', workers: '0' })
  t.ok(Number((await keptOnTheConnection(database)).prepared) > 0, 'the read was prepared under a name')
})

t.test('transaction: nothing stays on the connection; the role\'s settings apply, writes still lift the timeout', { skip: embedded }, async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  // As the README asks of a deployment behind a transaction pool: the settings on the role (here
  // the database, which is the test's own).
  const name = new URL(testDb.url!).pathname.slice(1)
  const admin = new pg.Client({ connectionString: testDb.url })
  await admin.connect()
  await admin.query(`ALTER DATABASE "${name}" SET statement_timeout = '250ms'`)
  // The server's own values, as any connection that sets nothing has them.
  const server = (await admin.query<{ jit: string, workers: string }>("SELECT current_setting('jit') AS jit, current_setting('max_parallel_workers_per_gather') AS workers")).rows[0]!
  await admin.end()
  const listenUrl = new URL(testDb.url!)
  listenUrl.searchParams.set('application_name', 'change-log-listener')
  const { database } = await opened(t, { DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: listenUrl.href, DATABASE_STATEMENT_TIMEOUT_MS: '5000' }, testDb.url!)

  t.match(await keptOnTheConnection(database), { prepared: '0', timeout: '250ms', jit: server.jit, workers: server.workers },
    'no prepared statement, and no setting of the API\'s: the server\'s and the role\'s')
  await t.rejects(sql`SELECT pg_sleep(1)`.execute(database.db), { code: '57014' }, 'the role\'s timeout cancels a read')
  await database.db.transaction().execute(async (tx) => {
    t.equal((await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(tx)).rows[0]!.t, '0')
    await sql`SELECT pg_sleep(0.6)`.execute(tx)
  })
  t.pass('a read-write transaction lifted it')

  // The change log is followed on DATABASE_LISTEN_URL's connection.
  const stop = await database.listen(CHANGES_CHANNEL, () => {})
  t.teardown(stop)
  const { rows } = await sql<{ application_name: string }>`
    SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND query = ${`LISTEN "${CHANGES_CHANNEL}"`}`.execute(database.db)
  t.same(rows.map((row) => row.application_name), ['change-log-listener'])
})
