import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import { resourceKey } from '../../changes/surrogate-keys.ts'
import type { EntityType } from '../../changes/vocabulary.ts'
import type { Executor } from '../../db/database.ts'
import { notFound } from '../../http/errors.ts'
import { redirectRenamed } from '../../http/redirects.ts'
import { addressMemo } from './address-memo.ts'
import { findSlugRedirect } from './addressing.repository.ts'
import { parseIdOrSlug, type IdOrSlug } from './identifiers.ts'

// Addressing, in one place: a path segment names a resource by id or slug; a slug that was
// renamed away still finds it (so the route answers 308 to the canonical URL); anything else
// is a 404 naming what was asked for.

/** A kind of resource that paths can name. */
export interface Addressable<Row> {
  entity: EntityType
  /** How a 404 names it: "Blog", "Author" ... */
  label: string
  find: (db: Executor, key: IdOrSlug) => Promise<Row | undefined>
  /**
   * Rows that only a write of their own changes (no counts, no times derived from posts): kept
   * in memory per process, dropped whole at every change notification (address-memo.ts).
   */
  memo?: boolean
}

export type Lookup<T> = { found: T } | { moved: T } | undefined

/** The response a route that can answer 308 declares. */
export const RenamedResponse = {
  308: z.undefined().describe('Renamed or moved: `Location` has the canonical URL of the resource.')
}

/**
 * Finds a resource by id or slug. A slug that was renamed away resolves to its resource as
 * `moved`; `scopeId` is the blog, for post slugs (unique per blog).
 */
export async function lookUp<T> (
  db: Executor, entity: EntityType, raw: string, find: (key: IdOrSlug) => Promise<T | undefined>, scopeId: string | null = null
): Promise<Lookup<T>> {
  const key = parseIdOrSlug(raw)
  if (key === undefined) return undefined
  const found = await find(key)
  if (found !== undefined) return { found }
  if (!('slug' in key)) return undefined
  const targetId = await findSlugRedirect(db, entity, key.slug, scopeId)
  if (targetId === undefined) return undefined
  const moved = await find({ id: targetId })
  return moved === undefined ? undefined : { moved }
}

/** The resource a path segment names; throws a 308 to its new URL when renamed, 404 when there is none. */
export async function findOrRedirect<Row extends { id: string, slug: string }> (request: FastifyRequest, target: Addressable<Row>, raw: string): Promise<Row> {
  const db = request.server.db
  // A reader asking to see a write of its own (replicas: read-routing.ts) reads the database.
  const memo = target.memo === true && request.headers['content-api-read-after'] === undefined ? addressMemo<Row>(request.server, target.entity) : undefined
  const known = memo?.get(raw)
  if (known !== undefined) return known
  const epoch = request.server.changeFollower.epoch
  const result = await lookUp(db, target.entity, raw, (key) => target.find(db, key))
  if (result === undefined) throw notFound(`${target.label} "${raw}"`)
  if ('moved' in result) throw redirectRenamed(request, raw, result.moved.slug, [resourceKey(target.entity, result.moved.id)])
  memo?.set(raw, result.found, epoch)
  return result.found
}

/** The resource a reference names (a query parameter, a write's target); renamed slugs are not followed. */
export async function findByReference<Row> (db: Executor, target: Addressable<Row>, raw: string): Promise<Row | undefined> {
  const key = parseIdOrSlug(raw)
  return key === undefined ? undefined : target.find(db, key)
}

/** Like findByReference, with a 404 naming the reference when there is no such resource. */
export async function findOrNotFound<Row> (db: Executor, target: Addressable<Row>, raw: string): Promise<Row> {
  const row = await findByReference(db, target, raw)
  if (row === undefined) throw notFound(`${target.label} "${raw}"`)
  return row
}
