import type { FastifyReply, FastifyRequest } from 'fastify'

// A resource that moved (a renamed slug, a post moved to another blog, a post addressed by id
// in a path that names it by slug) answers 308 to its one canonical URL. Handlers throw a
// Redirect where they find out; the error handler sends it, so every redirect gets the same
// cache policy, whichever route raised it.

export class Redirect extends Error {
  constructor (readonly location: string) {
    super(`moved to ${location}`)
    this.name = 'Redirect'
  }
}

/** A 308 to `path` that keeps the request's query string. */
export function redirectTo (request: FastifyRequest, path: string): Redirect {
  const query = request.url.split('?', 2)[1]
  return new Redirect(path + (query === undefined ? '' : `?${query}`))
}

/** A 308 to the request's own URL with one path segment (an old slug) replaced by the current one. */
export function redirectRenamed (request: FastifyRequest, oldSegment: string, newSegment: string): Redirect {
  const segments = (request.url.split('?', 2)[0] ?? '').split('/')
  const index = segments.findIndex((segment) => decodeURIComponent(segment) === oldSegment)
  if (index >= 0) segments[index] = encodeURIComponent(newSegment)
  return redirectTo(request, segments.join('/'))
}

/**
 * Where a resource moved can itself be private: a draft's new slug is made from its unpublished
 * headline. A redirect answered to a keyed request is therefore never stored by a shared cache,
 * and every redirect varies on the key.
 */
export function sendRedirect (request: FastifyRequest, reply: FastifyReply, redirect: Redirect): FastifyReply {
  const { config } = request.server
  const shareable = request.headers.authorization === undefined && config.publicRead
  return reply
    .header('cache-control', shareable ? `public, max-age=${config.cache.maxAge}` : 'private, no-store')
    .header('vary', 'Authorization')
    .redirect(redirect.location, 308)
}
