import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { EntityType } from '../../db/schema.ts'

export interface ChangeRow {
  seq: string
  entity_type: EntityType
  entity_id: string
  blog_id: string | null
  op: 'upsert' | 'delete'
  public_op: 'upsert' | 'delete' | null
  event: string | null
  occurred_at: Date
}

export interface ChangeQuery {
  afterSeq: string
  limit: number
  types: EntityType[]
  blogId?: string | undefined
  /** public: only what the public saw change; all: every change (preview keys). */
  visibility: 'public' | 'all'
}

/**
 * The next changes after a position, in order. Writers append under a lock held until they
 * commit (see recordChanges), so once a reader sees seq n, every seq below n is visible too
 * and a cursor never steps past a change that commits later.
 */
export async function listChanges (db: Executor, query: ChangeQuery): Promise<ChangeRow[]> {
  let q = db.selectFrom('changes')
    .select(['seq', 'entity_type', 'entity_id', 'blog_id', 'op', 'public_op', 'event', 'occurred_at'])
    .where(sql<boolean>`seq > ${query.afterSeq}::bigint`)
    .where('entity_type', 'in', query.types)
    .orderBy('seq')
    .limit(query.limit)
  if (query.visibility === 'public') q = q.where('public_op', 'is not', null)
  if (query.blogId !== undefined) q = q.where('blog_id', '=', query.blogId)
  return q.execute() as Promise<ChangeRow[]>
}

/** The newest change's position, or '0' on an empty log. */
export async function latestChangeSeq (db: Executor): Promise<string> {
  const row = await db.selectFrom('changes').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  return row?.seq ?? '0'
}
