import { sql } from 'kysely'
import type { Executor } from '../db/database.ts'
import type { ChangeOp, EntityType } from '../db/schema.ts'

export interface ChangeEntry {
  entityType: EntityType
  entityId: string
  blogId: string | null
  op: ChangeOp
  /** What the public saw change: null when the public saw nothing (a draft edited). */
  publicOp: ChangeOp | null
  /** The webhook event, e.g. post.published; derived from the ops when not given. */
  event?: ChangeEvent | undefined
}

export type ChangeEvent = `${EntityType}.${'created' | 'published' | 'updated' | 'unpublished' | 'deleted'}`

/** The channel that tells every process (and long-polling clients) that the log grew. */
export const CHANGES_CHANNEL = 'content_changes'

function eventOf (entry: ChangeEntry): ChangeEvent | null {
  if (entry.publicOp === null) return null
  if (entry.event !== undefined) return entry.event
  if (entry.publicOp === 'delete') return `${entry.entityType}.${entry.op === 'delete' ? 'deleted' : 'unpublished'}`
  return `${entry.entityType}.updated`
}

// Appending takes this transaction-scoped lock, held until commit: sequence numbers then
// commit in order, so a reader that has seen seq n can never later find a smaller one.
// Change-log writes are serialized by it; content writes are few next to reads.
const APPEND_LOCK = 7_350_001

export async function lockChangeLog (db: Executor): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK})`.execute(db)
}

/** Appends to the change log. Call it inside the transaction of the change it describes. */
export async function recordChanges (db: Executor, entries: readonly ChangeEntry[]): Promise<void> {
  if (entries.length === 0) return
  await lockChangeLog(db)
  await db.insertInto('changes').values(entries.map((entry) => ({
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    blog_id: entry.blogId,
    op: entry.op,
    public_op: entry.publicOp,
    event: eventOf(entry)
  }))).execute()
  // Delivered when (and only if) the transaction commits.
  await sql`SELECT pg_notify(${CHANGES_CHANNEL}, '')`.execute(db)
}

/** When the newest change of this kind happened: a time that only moves forward. */
export async function latestChangeTime (db: Executor, entityType: EntityType): Promise<Date | undefined> {
  const row = await db.selectFrom('changes').select('occurred_at').where('entity_type', '=', entityType)
    .orderBy('seq', 'desc').limit(1).executeTakeFirst()
  return row?.occurred_at
}
