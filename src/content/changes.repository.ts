import type { Executor } from '../db/database.ts'
import type { ChangeOp, EntityType } from '../db/schema.ts'

export interface ChangeEntry {
  entityType: EntityType
  entityId: string
  blogId: string | null
  op: ChangeOp
  /** What the public saw change: null when the public saw nothing (a draft edited). */
  publicOp: ChangeOp | null
}

/** Appends to the change log. Call it inside the transaction of the change it describes. */
export async function recordChanges (db: Executor, entries: readonly ChangeEntry[]): Promise<void> {
  if (entries.length === 0) return
  await db.insertInto('changes').values(entries.map((entry) => ({
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    blog_id: entry.blogId,
    op: entry.op,
    public_op: entry.publicOp
  }))).execute()
}

/** When the newest change of this kind happened: a time that only moves forward. */
export async function latestChangeTime (db: Executor, entityType: EntityType): Promise<Date | undefined> {
  const row = await db.selectFrom('changes').select('occurred_at').where('entity_type', '=', entityType)
    .orderBy('seq', 'desc').limit(1).executeTakeFirst()
  return row?.occurred_at
}
