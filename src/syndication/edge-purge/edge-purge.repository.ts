import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'

// The processes following the change log, and how far edge purges have gone.

/** Records how far this process has applied the change log (and that it is alive). */
export async function reportApplied (db: Executor, processId: string, seq: string): Promise<void> {
  await db.insertInto('change_followers').values({ process_id: processId, applied_seq: seq })
    .onConflict((oc) => oc.column('process_id').doUpdateSet({ applied_seq: seq, seen_at: sql<Date>`now()` }))
    .execute()
}

export async function forgetFollower (db: Executor, processId: string): Promise<void> {
  await db.deleteFrom('change_followers').where('process_id', '=', processId).execute()
}

/**
 * The position every live process has applied: the least among those seen within `liveSeconds`
 * (a process that stopped reporting, crashed or stuck, no longer holds purges back).
 */
export async function appliedByAll (db: Executor, liveSeconds: number): Promise<string | undefined> {
  const row = await db.selectFrom('change_followers')
    .select(sql<string | null>`min(applied_seq)::text`.as('seq'))
    .where('seen_at', '>', sql<Date>`now() - make_interval(secs => ${liveSeconds})`)
    .executeTakeFirst()
  return row?.seq ?? undefined
}
