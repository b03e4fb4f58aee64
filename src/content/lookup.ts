import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Executor } from '../db/database.ts'
import type { EntityType } from '../db/schema.ts'
import { parseIdOrSlug, type IdOrSlug } from './identifiers.ts'
import { findSlugRedirect } from './references.repository.ts'

export type Lookup<T> = { found: T } | { moved: T } | undefined

/**
 * Finds a resource by id or slug. A slug that was renamed away resolves to its resource as
 * `moved`, so the route can answer 308 to the canonical URL and old links keep working.
 */
export async function lookUp<T> (
  db: Executor,
  entity: EntityType,
  raw: string,
  find: (key: IdOrSlug) => Promise<T | undefined>,
  scopeId: string | null = null
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

/** 308 to `path`, keeping the query string. */
export function redirectTo (request: FastifyRequest, reply: FastifyReply, path: string) {
  const query = request.url.split('?', 2)[1]
  reply.header('cache-control', `public, max-age=${request.server.config.cache.maxAge}`)
  return reply.redirect(path + (query === undefined ? '' : `?${query}`), 308)
}

/** 308 to the same URL with one path segment (the old slug) replaced by the current one. */
export function redirectRenamed (request: FastifyRequest, reply: FastifyReply, oldSegment: string, newSegment: string) {
  const segments = (request.url.split('?', 2)[0] ?? '').split('/')
  const index = segments.findIndex((segment) => decodeURIComponent(segment) === oldSegment)
  if (index >= 0) segments[index] = encodeURIComponent(newSegment)
  return redirectTo(request, reply, segments.join('/'))
}
