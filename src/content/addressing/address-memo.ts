import type { FastifyInstance } from 'fastify'
import { changeMemo, type ChangeMemo } from '../../changes/change-memo.ts'
import type { EntityType } from '../../changes/vocabulary.ts'

// Blogs are few and change rarely, yet every post page, blog list and blog feed first looks its
// blog up by slug: a second query per request. This keeps the rows found in memory, per
// process and per kind, dropped at every change this process hears of (change-memo.ts).

const MAX_ENTRIES = 10_000

export type AddressMemo<Row> = ChangeMemo<Row>

const memos = new WeakMap<FastifyInstance, Map<EntityType, ChangeMemo<object>>>()

export function addressMemo<Row> (app: FastifyInstance, entity: EntityType): AddressMemo<Row> {
  let byEntity = memos.get(app)
  if (byEntity === undefined) memos.set(app, byEntity = new Map())
  let memo = byEntity.get(entity)
  if (memo === undefined) byEntity.set(entity, memo = changeMemo<object>(app, { max: MAX_ENTRIES }))
  return memo as unknown as AddressMemo<Row>
}
