import type { FastifyReply, FastifyRequest } from 'fastify'
import { setSurrogateKeys } from './caching.ts'

// A resource that moved (a renamed slug, a post moved to another blog, a post addressed by id
// in a path that names it by slug) answers 308 to its one canonical URL. Handlers throw a
// Redirect where they find out; the error handler sends it, so every redirect gets the same
// cache policy, whichever route raised it.

export class Redirect extends Error {
  /**
   * `keys`: the surrogate keys of what the Location was made from (the resource that moved, the
   * blog whose slug is in it). A shared cache may store a 308 like any page (RFC 9111), and
   * without keys no purge would reach it: a slug renamed and renamed back would keep the old 308
   * at the edge, pointing at the slug that now redirects back, a loop until it expired.
   * test/http/cache-headers.test.ts checks every public 308 names its keys; Varnish 7.1 does not
   * store 308s, so test/scale-out checks the undo at the API only.
   */
  constructor (readonly location: string, readonly keys: readonly string[] = []) {
    super(`moved to ${location}`)
    this.name = 'Redirect'
  }
}

/** A 308 to `path` that keeps the request's query string. */
export function redirectTo (request: FastifyRequest, path: string, keys: readonly string[] = []): Redirect {
  const query = request.url.split('?', 2)[1]
  return new Redirect(path + (query === undefined ? '' : `?${query}`), keys)
}

/** A 308 to the request's own URL with one path segment (an old slug) replaced by the current one. */
export function redirectRenamed (request: FastifyRequest, oldSegment: string, newSegment: string, keys: readonly string[] = []): Redirect {
  const segments = (request.url.split('?', 2)[0] ?? '').split('/')
  const index = segments.findIndex((segment) => decodeURIComponent(segment) === oldSegment)
  if (index >= 0) segments[index] = encodeURIComponent(newSegment)
  return redirectTo(request, segments.join('/'), keys)
}

/**
 * Where a resource moved can itself be private: a draft's new slug is made from its unpublished
 * headline. A redirect answered to a keyed request is therefore never stored by a shared cache,
 * and every redirect varies on the key.
 */
export function sendRedirect (request: FastifyRequest, reply: FastifyReply, redirect: Redirect): FastifyReply {
  const { config } = request.server
  const shareable = request.headers.authorization === undefined && config.publicRead
  if (redirect.keys.length > 0) setSurrogateKeys(reply, redirect.keys)
  return reply
    .header('cache-control', shareable ? `public, max-age=${config.cache.maxAge}` : 'private, no-store')
    .header('vary', 'Authorization')
    .redirect(redirect.location, 308)
}
