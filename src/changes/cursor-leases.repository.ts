import { sql } from 'kysely'
import type { Executor } from '../db/database.ts'

// Followers of the change log that call out to another service (the WebSub hub, the edge's
// purge API) keep their position in change_cursors and hold it with a lease, not a row lock:
// a transaction kept open across the request would hold a pool connection for as long as the
// service takes, and on the embedded database, whose one connection runs one transaction at a
// time, every query. One process at a time takes the lease; a process that dies holding it
// lets it run out, and another goes on from the same position (the service hears of that
// range twice, which hubs and purges take without harm).

export type LeasedCursor = 'websub' | 'edge-purge'

export interface CursorLease {
  readonly name: LeasedCursor
  /** Where the cursor stood when leased: the work is what comes after it. */
  readonly seq: string
  /** The lease's end, which also tells this lease from a later one. */
  readonly until: Date
}

/** Takes the cursor for `leaseMs` unless another process holds it. */
export async function leaseCursor (db: Executor, name: LeasedCursor, leaseMs: number): Promise<CursorLease | undefined> {
  const row = await db.updateTable('change_cursors')
    // Whole milliseconds, so that the value read back into a Date finds the row again.
    .set({ leased_until: sql<Date>`date_trunc('milliseconds', now()) + make_interval(secs => ${Math.ceil(leaseMs) / 1000})` })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', sql<Date>`now()`)]))
    .returning(['seq', 'leased_until'])
    .executeTakeFirst()
  return row === undefined || row.leased_until === null ? undefined : { name, seq: row.seq, until: row.leased_until }
}

/**
 * Gives the lease back, moving the cursor forward to `through` when given. Nothing happens when
 * the lease ran out and another process took the cursor: that one covers the same range.
 */
export async function releaseCursor (db: Executor, lease: CursorLease, through?: string): Promise<void> {
  await db.updateTable('change_cursors')
    .set({ leased_until: null, ...(through === undefined ? {} : { seq: sql<string>`greatest(seq, ${through}::bigint)`, updated_at: sql<Date>`now()` }) })
    .where('name', '=', lease.name)
    .where('leased_until', '=', lease.until)
    .execute()
}

/**
 * Runs `work` from the cursor's position while holding its lease, then gives the lease back:
 * moved forward to the position `work` returns, or left where it was when `work` returns
 * nothing or throws (the error goes on to the caller). False when another process holds it.
 */
export async function withLeasedCursor (db: Executor, name: LeasedCursor, leaseMs: number, work: (from: string) => Promise<string | undefined>): Promise<boolean> {
  const lease = await leaseCursor(db, name, leaseMs)
  if (lease === undefined) return false
  let through: string | undefined
  try {
    through = await work(lease.seq)
  } catch (error) {
    // The work's error is the one worth reporting; a failed release only lets the lease run out.
    await releaseCursor(db, lease).catch(() => {})
    throw error
  }
  await releaseCursor(db, lease, through)
  return true
}

/** Where the cursor stands, leased or not. */
export async function cursorPosition (db: Executor, name: LeasedCursor): Promise<string> {
  return (await db.selectFrom('change_cursors').select('seq').where('name', '=', name).executeTakeFirstOrThrow()).seq
}

/** Moves the cursor forward to `seq`, never back, whoever holds it. */
export async function advanceCursor (db: Executor, name: LeasedCursor, seq: string): Promise<void> {
  await db.updateTable('change_cursors').set({ seq: sql<string>`greatest(seq, ${seq}::bigint)`, updated_at: sql<Date>`now()` }).where('name', '=', name).execute()
}
