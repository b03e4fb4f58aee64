import { sql } from 'kysely'
import t, { type Test } from 'tap'
import type { Executor } from '../../src/db/database.ts'
import { OUT_OF_TIME, withinTimeBudget } from '../../src/db/time-budget.ts'
import { createTestDatabase, testServerUrl } from '../helpers/test-database.ts'

// A time-limited read (db/time-budget.ts) is one read-only transaction. A replica may cancel it
// at any statement to replay the primary's log (SQLSTATE 40001, or 40P01 when the read waited on
// a replayed lock), and only its first statement can be sent elsewhere by the routing; so the
// whole transaction runs again, once, on the primary. Here PostgreSQL itself raises those codes
// in the transaction's second statement (scale-out.ts provokes the real conflict on a replica);
// the embedded database raises them the same way. (Kysely's PGlite driver begins every
// transaction alike, read-only or not: on its one connection nothing could interleave anyway.)

async function database (t: Test) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  return testDb.database.db
}

/** A read that raises `code` on the runs listed in `failOn` (1-based) and answers otherwise. */
function readFailing (code: string, failOn: number[]) {
  const runs: Array<{ readOnly: string, began: string }> = []
  const work = async (trx: Executor) => {
    const run = runs.length + 1
    runs.push((await sql<{ readOnly: string, began: string }>`
      SELECT current_setting('transaction_read_only') AS "readOnly", transaction_timestamp()::text AS began`.execute(trx)).rows[0]!)
    if (failOn.includes(run)) await sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'cancelled on run ${run}' USING ERRCODE = '${code}'; END $$`).execute(trx)
    return `answered on run ${run}`
  }
  return { runs, work }
}

t.test('a read cancelled part way by a recovery conflict runs again, whole, once', async (t) => {
  const db = await database(t)
  for (const code of ['40001', '40P01']) {
    const once = readFailing(code, [1])
    t.equal(await withinTimeBudget(db, 5_000, once.work), 'answered on run 2', `${code}: the second run answers`)
    t.not(once.runs[0]!.began, once.runs[1]!.began, `${code}: each run a transaction of its own`)
    if (testServerUrl() !== undefined) t.same(once.runs.map((run) => run.readOnly), ['on', 'on'], `${code}: both read-only`)

    const twice = readFailing(code, [1, 2])
    await t.rejects(withinTimeBudget(db, 5_000, twice.work), { code }, `${code} again on the second run: the error, not a third run`)
    t.equal(twice.runs.length, 2)
  }
})

t.test('other errors, and reads with no time limit, are not run again', async (t) => {
  const db = await database(t)
  const failing = readFailing('22012', [1])
  await t.rejects(withinTimeBudget(db, 5_000, failing.work), { code: '22012' }, 'division_by_zero goes to the caller')
  t.equal(failing.runs.length, 1)

  // Without a limit there is no transaction of its own to run again: the read is the caller's.
  const unlimited = readFailing('40001', [1])
  await t.rejects(withinTimeBudget(db, undefined, unlimited.work), { code: '40001' })
  t.equal(unlimited.runs.length, 1)
  t.equal(unlimited.runs[0]!.readOnly, 'off', 'and it ran outside a read-only transaction')
})

t.test('a run again that runs out of time is OUT_OF_TIME', { skip: testServerUrl() === undefined && 'the embedded database cannot stop a statement' }, async (t) => {
  const db = await database(t)
  let runs = 0
  const result = await withinTimeBudget(db, 50, async (trx) => {
    runs++
    if (runs === 1) await sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'cancelled' USING ERRCODE = '40001'; END $$`).execute(trx)
    await sql`SELECT pg_sleep(2)`.execute(trx)
    return 'slept'
  })
  t.equal(result, OUT_OF_TIME)
  t.equal(runs, 2)
})
