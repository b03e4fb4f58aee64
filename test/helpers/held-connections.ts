import { sql } from 'kysely'
import type { Database } from '../../src/db/database.ts'

/** What each held connection ran last, as PostgreSQL's pg_stat_activity shows it while nothing else runs there. */
export const HELD_MARKER = "SELECT 'held by the test' AS marker"

/**
 * Takes every connection the database has (its pool's, or the embedded one) until the returned
 * function is called; `pids` are the PostgreSQL backends held (none on the embedded database).
 */
export async function holdEveryConnection (database: Database): Promise<{ pids: number[], release: () => Promise<void> }> {
  const count = database.poolStats?.().max ?? 1
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  const pids: number[] = []
  let taken = 0
  const holding = Array.from({ length: count }, async () => database.db.connection().execute(async (connection) => {
    if (database.poolStats !== undefined) pids.push((await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(connection)).rows[0]!.pid)
    await sql.raw(HELD_MARKER).execute(connection)
    taken++
    await gate
  }))
  while (taken < count) await new Promise((resolve) => setTimeout(resolve, 5))
  return {
    pids,
    release: async () => {
      open()
      await Promise.all(holding)
    }
  }
}

/** Resolves once `waiters` pieces of work wait for a connection (on the embedded database, after a short pause: it has no queue to read). */
export async function untilWaitingForConnection (database: Database, waiters = 1): Promise<void> {
  if (database.poolStats === undefined) return new Promise((resolve) => setTimeout(resolve, 100))
  while (database.poolStats().waiting < waiters) await new Promise((resolve) => setTimeout(resolve, 5))
}
