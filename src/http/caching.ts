import { hash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasScope } from '../access/scopes.ts'
import { codedEtag, compress, isCompressible, negotiateCoding, type ContentCoding } from './compression.ts'
import { linkHeadersBeyondHost } from './public-url.ts'

// Conditional GET for every successful GET: a strong ETag from the response bytes, 304 for
// If-None-Match (and for If-Modified-Since where the handler set Last-Modified), and a shared
// cache policy unless the route chose another. Handlers add Surrogate-Key so a CDN can purge
// exactly what a later change touches. The body goes out in the coding the client accepts
// (compression.ts), tagged per coding.

/** Names what a response depends on, e.g. `post:<id> blog:<id> posts:list`. */
export function setSurrogateKeys (reply: FastifyReply, keys: Iterable<string>): void {
  reply.header('surrogate-key', [...new Set(keys)].join(' '))
}

/**
 * Sets Last-Modified, unless the time falls in the current second (or later: the database's
 * clock ahead of this one). HTTP dates have whole seconds: a copy made in the second of its last
 * change would carry the same date as a change later in that second, and a client revalidating
 * with If-Modified-Since alone would be told that copy is current (a feed reader polling between
 * two publishes of one second kept missing the second post). A copy dated in an earlier second
 * was made after every change of that second, so any later change dates later. The ETag
 * validates every copy either way (what Apache does with an mtime within the current second).
 */
export function setLastModified (reply: FastifyReply, time: Date): void {
  const second = Math.floor(time.getTime() / 1000)
  if (second >= Math.floor(Date.now() / 1000)) return
  reply.header('last-modified', new Date(second * 1000).toUTCString())
}

const versions = new WeakMap<FastifyReply, number>()

/**
 * Marks the response as one version of an editable resource: its ETag then starts with
 * `v<version>-`, which is what If-Match on a later write compares (see preconditions.ts).
 */
export function setEtagVersion (reply: FastifyReply, version: number): void {
  versions.set(reply, version)
}

// crypto.hash, one call without a Hash object: 1.0-2.6 µs for a 800-byte body against 1.6-5.7
// µs with createHash, 22-25 against 27-41 µs for a 28 KB page (Node 20 and 24, one run each).
export function strongEtag (payload: string | Buffer, version?: number): string {
  const digest = hash('sha256', payload, 'base64url').slice(0, 27)
  return version === undefined ? `"${digest}"` : `"v${version}-${digest}"`
}

function addVary (reply: FastifyReply, header: string): void {
  const current = reply.getHeader('vary')
  // Every cache hit already names it: settled without splitting the list.
  if (typeof current === 'string' && (listsToken(current, header) || listsToken(current, '*'))) return
  const values = typeof current === 'string' ? current.split(',').map((v) => v.trim()).filter(Boolean) : []
  reply.header('vary', [...values, header].join(', '))
}

/**
 * Responses whose content depends on the key, whatever their status: on every route that looks
 * at keys the answer varies on Authorization (a 200 for one, a 401 or a draft for another); a
 * key that can see drafts and scheduled posts gets nothing a shared cache may store (a 308 to a
 * draft's new slug, a 404 that tells a draft exists); and with PUBLIC_READ=false nothing is public.
 * Every response also names the forwarded headers its links may follow (public-url.ts).
 */
function applyKeyedPolicy (request: FastifyRequest, reply: FastifyReply, publicRead: boolean, linkHeaders: readonly string[]): void {
  const access = request.routeOptions.config?.access
  if (access !== undefined && access !== 'none') addVary(reply, 'Authorization')
  for (const header of linkHeaders) addVary(reply, header)
  const cacheControl = reply.getHeader('cache-control')
  if (hasScope(request.apiKey, 'content:preview')) {
    if (typeof cacheControl !== 'string' || !/\bno-store\b/.test(cacheControl) || /\bpublic\b/.test(cacheControl)) reply.header('cache-control', 'private, no-store')
    return
  }
  if (!publicRead && typeof cacheControl === 'string' && /\bpublic\b/.test(cacheControl)) {
    reply.header('cache-control', cacheControl.replace(/\bpublic\b/, 'private').replace(/,\s*stale-while-revalidate=\d+/, ''))
  }
}

/** Whether a comma-separated header value has `token` as one of its items, case-insensitively. */
export function listsToken (list: string, token: string): boolean {
  // Looked for as written first: the Vary of every response, cached or not, is ours, written in
  // the case we ask for, and found so it needs no lowercased copy of the list (a new string
  // every response).
  return listsExactly(list, token) || listsExactly(list.toLowerCase(), token.toLowerCase())
}

const separatesItems = (c: string | undefined): boolean => c === undefined || c === ',' || c === ' ' || c === '\t'

function listsExactly (list: string, token: string): boolean {
  for (let at = list.indexOf(token); at !== -1; at = list.indexOf(token, at + 1)) {
    if (separatesItems(list[at - 1]) && separatesItems(list[at + token.length])) return true
  }
  return false
}

export function etagMatches (header: string, etag: string): boolean {
  // What a revalidating client almost always sends: the one tag it was given. Matched before
  // the list is split (an array, a string per item and a regular expression: 250 ns alone, 1 µs
  // of a cached 304 in a V8 profile).
  if (header === etag) return true
  if (header.trim() === '*') return true
  // Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag)
}

function notModified (request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  const ifNoneMatch = request.headers['if-none-match']
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag)
  const ifModifiedSince = request.headers['if-modified-since']
  const lastModified = reply.getHeader('last-modified')
  if (ifModifiedSince === undefined || typeof lastModified !== 'string') return false
  const since = Date.parse(ifModifiedSince)
  return !Number.isNaN(since) && Date.parse(lastModified) <= since
}

/** Sees each successful GET's final bytes and headers just before they go out (or become a 304). */
export type ResponseObserver = (request: FastifyRequest, reply: FastifyReply, payload: Buffer) => void

export interface HttpCaching {
  /** Adds an observer of every successful GET's final bytes (the response cache stores them). */
  observe (observer: ResponseObserver): void
}

declare module 'fastify' {
  interface FastifyInstance { httpCaching: HttpCaching }
}

async function httpCaching (app: FastifyInstance): Promise<void> {
  const policy = app.config.cache
  const publicCacheControl = `public, max-age=${policy.maxAge}, stale-while-revalidate=${policy.staleWhileRevalidate}`
  // With PUBLIC_READ=false every read needs a key, so nothing may sit in a shared cache.
  const privateCacheControl = `private, max-age=${policy.maxAge}`
  const observers: ResponseObserver[] = []
  const linkHeaders = linkHeadersBeyondHost(app.config)

  // Callback-style: it runs on every response, and nothing in it waits.
  app.addHook('onSend', (request, reply, payload, done) => {
    done(null, conditionalResponse(request, reply, payload))
  })

  /** The payload in the coding the client prefers, when its type is worth compressing; such responses vary on Accept-Encoding either way. */
  function encode (request: FastifyRequest, reply: FastifyReply, payload: Buffer): { payload: Buffer, coding: ContentCoding } | undefined {
    if (!isCompressible(reply.getHeader('content-type'), reply.getHeader('cache-control')) || reply.hasHeader('content-encoding')) return undefined
    addVary(reply, 'Accept-Encoding')
    const coding = negotiateCoding(request.headers['accept-encoding'])
    const coded = coding === undefined ? undefined : compress(payload, coding)
    if (coding === undefined || coded === undefined) return undefined
    reply.header('content-encoding', coding)
    return { payload: coded, coding }
  }

  function conditionalResponse (request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    applyKeyedPolicy(request, reply, app.config.publicRead, linkHeaders)
    if ((request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return payload
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', app.config.publicRead ? publicCacheControl : privateCacheControl)
    // A response replayed from the response cache carries the ETag (and coding) it was stored with.
    const stored = reply.getHeader('etag')
    // Encoded to UTF-8 once, here: the hash, the compressor and the socket then share the bytes,
    // and the response cache keeps them, so a hit is written without encoding again (a cached
    // latest feed: some 10 % less API CPU per request, measured with bench/cpu-split.sh).
    let body = typeof payload === 'string' ? Buffer.from(payload) : payload
    let etag: string
    if (typeof stored === 'string') {
      etag = stored
    } else {
      etag = strongEtag(body, versions.get(reply))
      const coded = encode(request, reply, body)
      if (coded !== undefined) {
        body = coded.payload
        etag = codedEtag(etag, coded.coding)
      }
    }
    reply.header('etag', etag)
    for (const observer of observers) observer(request, reply, body)
    if (!notModified(request, reply, etag)) return body
    reply.code(304)
    reply.removeHeader('content-type')
    reply.removeHeader('content-encoding')
    reply.removeHeader('content-length')
    // A 304 may carry Content-Length only as the length the 200 would have had (RFC 9110 8.6),
    // and a cache may take it as the new length of what it stores, so never `0`: a GET's 304
    // has no payload at all (Fastify then sends no length; for '' it would say 0); a HEAD's
    // keeps the 200's, from which Fastify's HEAD handler sets that true length and sends none.
    return request.method === 'HEAD' ? body : null
  }

  app.decorate('httpCaching', { observe (observer) { observers.push(observer) } } satisfies HttpCaching)
}

export const httpCachingPlugin = fp(httpCaching, { name: 'http-caching', dependencies: ['core'] })
