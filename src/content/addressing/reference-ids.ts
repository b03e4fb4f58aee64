import type { FastifyRequest } from 'fastify'
import type { EntityType } from '../../changes/vocabulary.ts'
import { addressMemo } from './address-memo.ts'
import { resolveIds, type ReferencedTable } from './addressing.repository.ts'

// A list or feed filtered by an author, a tag or a blog names it by id or slug, and each such
// request first turned the names into ids: a query of its own, before the page's (an uncached
// author's list: API 0.445 ms and PostgreSQL 0.375 ms of CPU a request, against 0.31 and 0.21 for
// the unfiltered list; bench/cpu-split.sh). The ids found are kept per process like the blogs
// found by slug (address-memo.ts): dropped at every change this process hears of. What names
// nothing is asked again each time (it may be created any moment), and a reader asking to see a
// write of its own (Content-Api-Read-After) reads the database.

/** Ids of the blogs, authors or tags that `refs` name (resolveIds: what names nothing is dropped). */
export type ReferenceIds = (table: ReferencedTable, refs: readonly string[]) => Promise<string[]>

const ENTITY: Record<ReferencedTable, EntityType> = { blogs: 'blog', authors: 'author', tags: 'tag' }

export function referenceIds (request: FastifyRequest): ReferenceIds {
  const app = request.server
  if (request.headers['content-api-read-after'] !== undefined) return async (table, refs) => resolveIds(app.db, table, refs)
  return async (table, refs) => {
    // Keys of their own beside the rows find-or-redirect keeps under a slug.
    const memo = addressMemo<{ ids: string[] }>(app, ENTITY[table])
    const key = `ids:${refs.join('\n')}`
    const known = memo.get(key)
    if (known !== undefined) return known.ids
    const epoch = app.changeFollower.epoch
    const ids = await resolveIds(app.db, table, refs)
    if (ids.length === refs.length) memo.set(key, { ids }, epoch)
    return ids
  }
}
