import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'

// The position up to which the WebSub hub has been told of feed updates (change_cursors).

/** Locks the cursor for one publisher at a time; undefined when another process holds it. */
export async function lockWebSubCursor (db: Executor): Promise<string | undefined> {
  return (await db.selectFrom('change_cursors').select('seq').where('name', '=', 'websub').forUpdate().skipLocked().executeTakeFirst())?.seq
}

export async function saveWebSubCursor (db: Executor, seq: string): Promise<void> {
  await db.updateTable('change_cursors').set({ seq, updated_at: sql<Date>`now()` }).where('name', '=', 'websub').execute()
}

/** Moves the cursor forward to `seq`, never back. */
export async function advanceWebSubCursor (db: Executor, seq: string): Promise<void> {
  await db.updateTable('change_cursors').set({ seq: sql<string>`greatest(seq, ${seq}::bigint)`, updated_at: sql<Date>`now()` }).where('name', '=', 'websub').execute()
}
