import type { FastifyInstance } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { EntityType } from '../../changes/vocabulary.ts'

// Blogs are few and change rarely, yet every post page, blog list and blog feed first looks its
// blog up by slug: a second query per request. This keeps the rows found in memory, per
// process and per kind, and drops them all at every change notification and every write this
// process serves (the change follower's signal), so a row is never older than the newest change
// the process has heard of. A row read across a notification is not kept: it may predate it.

const MAX_ENTRIES = 10_000

export interface AddressMemo<Row> {
  get (raw: string): Row | undefined
  /** Keeps `row` unless a change was signalled since `epoch` (when its read began). */
  set (raw: string, row: Row, epoch: number): void
}

const memos = new WeakMap<FastifyInstance, Map<EntityType, LRUCache<string, object>>>()

export function addressMemo<Row> (app: FastifyInstance, entity: EntityType): AddressMemo<Row> {
  let byEntity = memos.get(app)
  if (byEntity === undefined) {
    const created = new Map<EntityType, LRUCache<string, object>>()
    memos.set(app, byEntity = created)
    const clear = () => { for (const cache of created.values()) cache.clear() }
    app.changeFollower.onSignal(clear)
    app.changeFollower.onReset(clear)
  }
  let cache = byEntity.get(entity)
  if (cache === undefined) byEntity.set(entity, cache = new LRUCache<string, object>({ max: MAX_ENTRIES }))
  const rows = cache
  return {
    get: (raw) => rows.get(raw) as Row | undefined,
    set (raw, row, epoch) {
      if (epoch === app.changeFollower.epoch) rows.set(raw, row as object)
    }
  }
}
