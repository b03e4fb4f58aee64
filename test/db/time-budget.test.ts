import { sql } from 'kysely'
import t, { type Test } from 'tap'
import type { Executor } from '../../src/db/database.ts'
import { OUT_OF_TIME, withinTimeBudget } from '../../src/db/time-budget.ts'
import { createTestDatabase, testServerUrl } from '../helpers/test-database.ts'

// A time-limited read (db/time-budget.ts) is one read-only transaction, run again on the
// primary only when the replica it ran on failed it part way (test:scale-out provokes that on a
// real streaming replica: a recovery conflict, a lost connection). Here, with no replica, the
// other side of that line: what the database itself raises goes to the caller, the codes of a
// recovery conflict too (PostgreSQL raises them in the transaction), run once; and the limit holds.

async function database (t: Test) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  return testDb.database.db
}

/** A read that raises `code` on its first run, counting its runs. */
function readFailing (code: string) {
  const runs: Array<{ readOnly: string }> = []
  const work = async (trx: Executor) => {
    runs.push((await sql<{ readOnly: string }>`SELECT current_setting('transaction_read_only') AS "readOnly"`.execute(trx)).rows[0]!)
    if (runs.length === 1) await sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'raised here' USING ERRCODE = '${code}'; END $$`).execute(trx)
    return 'answered'
  }
  return { runs, work }
}

t.test('without a replica, an error of the read goes to the caller, run once', async (t) => {
  const db = await database(t)
  // serialization_failure and deadlock_detected are what a replica's recovery conflict raises;
  // the primary's own (a deadlock with a migration's locks) are the caller's to handle.
  for (const code of ['40001', '40P01', '22012']) {
    const read = readFailing(code)
    await t.rejects(withinTimeBudget(db, 5_000, read.work), { code }, `${code} goes to the caller`)
    t.equal(read.runs.length, 1, `${code}: run once`)
    // Kysely's PGlite driver begins every transaction alike, read-only or not (one connection:
    // nothing could interleave anyway).
    if (testServerUrl() !== undefined) t.equal(read.runs[0]!.readOnly, 'on', `${code}: in a read-only transaction`)
  }
  const unlimited = readFailing('40001')
  await t.rejects(withinTimeBudget(db, undefined, unlimited.work), { code: '40001' })
  t.same(unlimited.runs, [{ readOnly: 'off' }], 'no limit: the read is the caller\'s, in no transaction of its own')
})

t.test('a statement past the limit is OUT_OF_TIME', { skip: testServerUrl() === undefined && 'the embedded database cannot stop a statement' }, async (t) => {
  const db = await database(t)
  t.equal(await withinTimeBudget(db, 50, async (trx) => sql`SELECT pg_sleep(2)`.execute(trx)), OUT_OF_TIME)
  t.same((await withinTimeBudget(db, 5_000, async (trx) => sql<{ one: number }>`SELECT 1 AS one`.execute(trx))), { rows: [{ one: 1 }] })
})
