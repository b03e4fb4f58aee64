import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'

// The position up to which the WebSub hub has been told of feed updates (change_cursors), held
// by one process at a time with a lease rather than a row lock, so no transaction stays open
// across the request to the hub.

/** Takes the cursor for `leaseMs` unless another process holds it; its position, or undefined. */
export async function leaseWebSubCursor (db: Executor, leaseMs: number): Promise<string | undefined> {
  const row = await db.updateTable('change_cursors')
    .set({ leased_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where('name', '=', 'websub')
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', sql<Date>`now()`)]))
    .returning('seq')
    .executeTakeFirst()
  return row?.seq
}

/** Moves the cursor to `seq` (when given) and gives the lease back. */
export async function releaseWebSubCursor (db: Executor, seq?: string): Promise<void> {
  await db.updateTable('change_cursors')
    .set({ leased_until: null, ...(seq === undefined ? {} : { seq, updated_at: sql<Date>`now()` }) })
    .where('name', '=', 'websub')
    .execute()
}

/** Moves the cursor forward to `seq`, never back. */
export async function advanceWebSubCursor (db: Executor, seq: string): Promise<void> {
  await db.updateTable('change_cursors').set({ seq: sql<string>`greatest(seq, ${seq}::bigint)`, updated_at: sql<Date>`now()` }).where('name', '=', 'websub').execute()
}
