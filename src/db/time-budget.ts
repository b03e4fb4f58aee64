import { sql } from 'kysely'
import type { Executor } from './database.ts'
import { failedOnReplica, readOnPrimary } from './replication.ts'

// Some reads cost what the data makes them cost, not what the request asks for: a full-text
// search whose index candidates are many but whose matches are few (a phrase of two common
// words, a word with every post excluded) rechecks each candidate row, 10.9 s for one request
// at 1,000,000 posts. Whoever calls such a read says what to do when it runs out of time; this
// gives it the time, enforced by PostgreSQL itself (statement_timeout), so a cancelled statement
// stops using the server the moment its time is up, which no timer in this process could do.

/** SQLSTATE of a statement PostgreSQL cancelled: here, the statement_timeout ran out. */
const QUERY_CANCELED = '57014'

/** What withinTimeBudget returns when a statement of `work` ran out of time. */
export const OUT_OF_TIME = Symbol('out of time')

/**
 * Runs `work` in a read-only transaction where PostgreSQL cancels any statement that runs past
 * `ms` milliseconds; OUT_OF_TIME when it did. `ms` undefined: no limit. Within a transaction
 * already open, `work` runs as it is (a limit set there would outlive this call). The embedded
 * database's engine has no timer and runs every statement to its end: there, no limit either.
 * A read-only transaction may run on a replica (db/replication.ts); one that the replica fails
 * part way (cancelled to replay the primary's log, which may happen at any statement, or its
 * connection lost) runs again, whole, on the primary, with the time limit afresh: routing can
 * send only a connection's first statement elsewhere.
 */
export async function withinTimeBudget<T> (db: Executor, ms: number | undefined, work: (db: Executor) => Promise<T>): Promise<T | typeof OUT_OF_TIME> {
  if (ms === undefined || db.isTransaction) return work(db)
  const limited = () => db.transaction().setAccessMode('read only').execute(async (trx) => {
    // set_config(..., true) is SET LOCAL with a bound value: it ends with the transaction.
    await sql`SELECT set_config('statement_timeout', ${String(ms)}, true)`.execute(trx)
    return work(trx)
  })
  try {
    return await limited().catch((error: unknown) => {
      if (!failedOnReplica(error)) throw error
      return readOnPrimary(limited)
    })
  } catch (error) {
    if (isCancelled(error)) return OUT_OF_TIME
    throw error
  }
}

function isCancelled (error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === QUERY_CANCELED
}
