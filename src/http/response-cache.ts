import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import { Counter, Gauge } from 'prom-client'
import { staleKeysFor } from '../changes/surrogate-keys.ts'
import { apiBaseUrl } from './public-url.ts'
import { admissionPolicy } from './admission.ts'
import { etagMatches } from './caching.ts'
import { negotiateCoding } from './compression.ts'
import { TagIndex } from './tag-index.ts'

// An in-process cache of public GET responses: the serialized bytes with their ETag and
// headers, so a hit costs no query and no serialization. It holds only what any anonymous
// reader would get (public routes, no Authorization header, a `public` Cache-Control).
//
// Coherence across processes: every write appends to the `changes` table and NOTIFYs on
// commit; each process's change follower then reads the new public changes, and this cache drops exactly the entries whose
// Surrogate-Key names what changed (a post, its lists and feeds; a blog, author or tag and what
// embeds it). A computation that overlaps a notification is not stored, since it may have read
// the data from before the change. A TTL backstops anything missed (a dropped LISTEN
// connection is also answered by dropping everything). A miss is computed once: concurrent
// requests for the same key wait for the first one (single flight). By default a response is
// stored the second time its key misses within a while (RESPONSE_CACHE_MIN_USES), and once the
// cache is full only when its key is asked for more often than the entry it would push out
// (admission.ts); or at once when other requests waited for it.
//
// The lookup is a preValidation hook: it runs after authentication (onRequest) and the rate
// limiter (preParsing) by Fastify's lifecycle, whatever the order of registration, so a cached
// answer still needs a caller who may have it and still counts against their limit.

interface CachedResponse {
  /** The bytes as sent (never a string: writing one encodes it again on every hit). */
  payload: Buffer
  /** As sent; its Surrogate-Key names the entry's tags (split when indexed, not kept split). */
  headers: Record<string, string>
  /** What a 304 carries, made at the first revalidation (notModifiedHeaders()). */
  notModified?: Record<string, string>
  /** When it stops being served, on performance.now()'s clock: stored + RESPONSE_CACHE_TTL_SECONDS. */
  expiresAt: number
}

interface Flight {
  key: string
  epoch: number
  /** Requests waiting for this one's answer: a key others want at the same time is stored at once. */
  waiters: number
  done: Promise<CachedResponse | undefined>
  finish (entry: CachedResponse | undefined): void
}

// Only what describes the representation; per-request headers (request id, CORS, rate-limit
// counters, security headers) are set afresh on every hit by their own hooks.
const STORED_HEADERS = ['content-type', 'content-encoding', 'etag', 'cache-control', 'surrogate-key', 'last-modified', 'link', 'vary', 'content-language']
// Headers whose few values recur in every entry: each entry points to one copy of the value
// instead of a string of its own (some 150 bytes an entry), up to this many distinct values.
const SHARED_VALUE_HEADERS = new Set(['content-type', 'content-encoding', 'cache-control', 'vary', 'content-language'])
const MAX_SHARED_VALUES = 256

const tagsOf = (entry: CachedResponse): string[] => (entry.headers['surrogate-key'] ?? '').split(' ').filter(Boolean)

/**
 * What a 304 carries (RFC 9110 15.4.5): the validators and caching headers, no content headers;
 * undefined without an ETag. Made when the entry is first revalidated: most entries never are.
 */
function notModifiedHeaders (entry: CachedResponse): Record<string, string> | undefined {
  if (entry.headers.etag === undefined) return undefined
  if (entry.notModified === undefined) {
    const { 'content-type': _type, 'content-language': _language, 'content-encoding': _coding, ...rest } = entry.headers
    entry.notModified = rest
  }
  return entry.notModified
}

// Only what any anonymous reader would get, on routes that allow it.
function isCacheableRequest (request: FastifyRequest, route: FastifyContextConfig): boolean {
  return request.method === 'GET' && request.headers.authorization === undefined && route.access === 'public' && route.responseCache !== false
}

function isCacheableResponse (reply: FastifyReply): boolean {
  const cacheControl = reply.getHeader('cache-control')
  return reply.statusCode === 200 && typeof cacheControl === 'string' && /\bpublic\b/.test(cacheControl) &&
    !/\b(private|no-store|no-cache)\b/.test(cacheControl)
}

// Feeds answer in the format the Accept header asks for, so that format is part of the key (the
// route's `negotiates`); no other answer depends on Accept, and clients send many (an app's
// `application/json`, fetch's and curl's `*/*`, axios's `application/json, text/plain, */*`):
// keyed on the header itself, one page took an entry for each. Links in a response follow the
// host the client called when PUBLIC_BASE_URL is unset (public-url.ts), so the base URL is part
// of it too, and a forged Host only ever gets its own entry. Entries are kept in the coding they
// were sent in (compression.ts), so the coding the client's Accept-Encoding negotiates is part of
// it as well (not the header itself, which varies a lot).
const keyOf = (request: FastifyRequest, route: FastifyContextConfig): string =>
  `${apiBaseUrl(request)}${request.url}\n${route.negotiates?.(request.headers.accept) ?? ''}\n${negotiateCoding(request.headers['accept-encoding']) ?? 'identity'}`

// What the admission test counts lookups of: the response whatever its content coding (the
// cache key without its last line). Clients that change what they accept (a CDN reconfigured,
// browsers and apps mixed) ask for the same pages, and a page's popularity learnt in one coding
// then holds in the others: storing the pages of a new coding is not held back by the counts of
// the old coding's entries it pushes out.
const resourceOf = (key: string): string => key.slice(0, key.lastIndexOf('\n'))

/** Whether a Buffer is the whole of its block, not a view into a larger one. */
const ownsItsBlock = (bytes: Buffer): boolean => bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength

/**
 * The bytes in memory of their own. A Buffer can be a view of a larger block that it keeps
 * alive: zlib returns compressed bytes as a slice of its 16 KB output chunk, and small Buffers
 * are carved from a shared 8 KB pool. Stored as they came, a 2 KB compressed page held 16 KB, and
 * a cache of 64 MB held over 400 MB of memory (the long-tail benchmark, compressed).
 */
export function ownedBytes (payload: Buffer): Buffer {
  if (ownsItsBlock(payload)) return payload
  const copy = Buffer.allocUnsafeSlow(payload.byteLength)
  payload.copy(copy)
  return copy
}

/**
 * What an entry holds besides its body, roughly: the key and header strings (one byte a
 * character: V8 keeps ASCII strings so), and some 500 bytes of objects, tag sets and LRU slots.
 */
function entryOverhead (key: string, headers: Record<string, string>): number {
  let strings = key.length
  for (const value of Object.values(headers)) strings += value.length
  return 512 + strings
}

async function responseCache (app: FastifyInstance): Promise<void> {
  const { maxBytes, ttlMs, minUses } = app.config.responseCache
  if (maxBytes === 0) return
  const admission = admissionPolicy(minUses, maxBytes)
  const admissions = new Counter({
    name: 'response_cache_admissions_total',
    help: 'Cacheable responses computed on a miss, by whether they were stored (admitted) or not (declined: first asked for within the doorkeeper\'s window; outranked: the cache is full and the entry it would push out is asked for as often or more). Only admitted with RESPONSE_CACHE_MIN_USES=1.',
    labelNames: ['decision'] as const,
    registers: [app.metrics.registry]
  })
  const options = { maxBytes, ttlMs, flightTimeoutMs: app.config.requestTimeoutMs }
  const byTag = new TagIndex()
  const sharedValues = new Map<string, string>()
  const shared = (value: string): string => {
    const known = sharedValues.get(value)
    if (known !== undefined) return known
    if (sharedValues.size < MAX_SHARED_VALUES) sharedValues.set(value, value)
    return value
  }
  const cache = new LRUCache<string, CachedResponse>({
    maxSize: options.maxBytes,
    sizeCalculation: (entry, key) => entry.payload.length + entryOverhead(key, entry.headers),
    // Expiry is the entry's own (expiresAt), not lru-cache's TTL: dropping each entry when it
    // expires took a timer an entry (lru-cache's ttlAutopurge), some 250 bytes of heap with it.
    // A body may still be on its way to a client as its entry goes: it is left to the collector.
    dispose: (entry, key) => { byTag.remove(key, tagsOf(entry)) }
  })
  new Gauge({
    name: 'response_cache_entries',
    help: 'Responses the response cache holds.',
    registers: [app.metrics.registry],
    collect () { this.set(cache.size) }
  })
  new Gauge({
    name: 'response_cache_bytes',
    help: 'What the response cache counts against RESPONSE_CACHE_MAX_MB: its bodies as kept, and an estimate of each entry\'s key, headers and objects.',
    registers: [app.metrics.registry],
    collect () { this.set(cache.calculatedSize) }
  })
  /** Whether `entry` is past its time to live at `now` (performance.now()). */
  const expired = (entry: CachedResponse, now = performance.now()): boolean => entry.expiresAt <= now
  /** The live entry under `key`; one past its time to live is dropped. */
  const lookup = (key: string): CachedResponse | undefined => {
    const entry = cache.get(key)
    if (entry === undefined || !expired(entry)) return entry
    cache.delete(key)
    return undefined
  }
  // Expired entries give their memory back within half a time to live of expiring, asked for or
  // not: one walk over the entries (15,000-20,000 at the default size under the long tail).
  const sweep = setInterval(() => {
    const now = performance.now()
    const dead: string[] = []
    cache.forEach((entry, key) => { if (expired(entry, now)) dead.push(key) })
    for (const key of dead) cache.delete(key)
  }, Math.max(500, options.ttlMs / 2))
  sweep.unref()
  const flights = new Map<string, Flight>()
  const leaders = new WeakMap<FastifyRequest, Flight>()

  const startFlight = (key: string): Flight => {
    let finish!: (entry: CachedResponse | undefined) => void
    const done = new Promise<CachedResponse | undefined>((resolve) => { finish = resolve })
    const timer = setTimeout(() => flight.finish(undefined), options.flightTimeoutMs)
    timer.unref()
    const flight: Flight = {
      key,
      epoch: app.changeFollower.epoch,
      waiters: 0,
      done,
      finish (entry) {
        clearTimeout(timer)
        if (flights.get(key) === flight) flights.delete(key)
        finish(entry)
      }
    }
    flights.set(key, flight)
    return flight
  }

  /** Keeps `entry` under `key`, indexed by its tags; an entry there before is disposed of by set(), its tags with it. */
  const store = (key: string, entry: CachedResponse): void => {
    cache.set(key, entry)
    byTag.add(key, tagsOf(entry))
  }

  /**
   * The resource of the entry that storing `bytes` more would push out (the least recently used),
   * or undefined while there is room. `bytes` is what the entry takes: its body as sent and its
   * overhead (counted without it, an entry judged to fit could still push out the least recently
   * used one unweighed). Expired entries at the least recently used end are dropped first: weighed
   * against a newcomer, a dead entry would keep it out, and after a change of traffic nothing new
   * would be stored.
   */
  const victimOf = (bytes: number): string | undefined => {
    const now = performance.now()
    for (;;) {
      if (cache.calculatedSize + bytes <= cache.maxSize) return undefined
      const leastRecentlyUsed = cache.rkeys().next()
      if (leastRecentlyUsed.done === true) return undefined
      if (!expired(cache.peek(leastRecentlyUsed.value) as CachedResponse, now)) return resourceOf(leastRecentlyUsed.value)
      cache.delete(leastRecentlyUsed.value)
    }
  }

  const serve = (request: FastifyRequest, reply: FastifyReply, entry: CachedResponse): FastifyReply => {
    const ifNoneMatch = request.headers['if-none-match']
    // Revalidation of what we hold: answered here, without the body going through the pipeline.
    const notModified = ifNoneMatch === undefined ? undefined : notModifiedHeaders(entry)
    if (notModified !== undefined && etagMatches(ifNoneMatch as string, entry.headers.etag as string)) {
      return reply.code(304).headers(notModified).send()
    }
    return reply.code(200).headers(entry.headers).send(entry.payload)
  }

  const lookups = app.metrics.responseCacheLookups
  /** A miss: this request computes the answer, and leads the flight others will wait for unless one is under way. */
  const miss = (request: FastifyRequest, reply: FastifyReply, key: string, done: (error?: Error) => void): void => {
    lookups.miss++
    if (!flights.has(key)) {
      const flight = startFlight(key)
      leaders.set(request, flight)
      // A leader whose answer was not stored (an error, a 304 from its handler, a response not
      // worth keeping) or whose client closed the connection (then with no response at all, its
      // reads spared: db/client-presence.ts) still leads when its response closes: those who
      // wait for it compute for themselves at once, not when the flight's time is up. One
      // listener on the leader's response, not an onResponse hook run by every cache hit too.
      reply.raw.once('close', () => {
        if (leaders.get(request) !== flight) return
        leaders.delete(request)
        flight.finish(undefined)
      })
    }
    done()
  }

  // Callback-style, as Fastify's hooks allow: a hit sends its answer and does not call done, and
  // no promise is made for it (an async hook costs one and a turn of the microtask queue on
  // every cache hit).
  app.addHook('preValidation', (request, reply, done) => {
    const route = request.routeOptions.config
    if (!isCacheableRequest(request, route)) return done()
    const key = keyOf(request, route)
    admission.record(resourceOf(key))
    const entry = lookup(key)
    if (entry !== undefined) {
      lookups.hit++
      serve(request, reply, entry)
      return
    }
    const inFlight = flights.get(key)
    if (inFlight === undefined) return miss(request, reply, key, done)
    inFlight.waiters++
    inFlight.done.then((shared) => {
      if (shared === undefined) return miss(request, reply, key, done)
      lookups.shared++
      try {
        serve(request, reply, shared)
      } catch (error) {
        done(error as Error)
      }
    })
  })

  app.httpCaching.observe((request, reply, payload) => {
    const flight = leaders.get(request)
    if (flight === undefined) return
    leaders.delete(request)
    if (!isCacheableResponse(reply) || flight.epoch !== app.changeFollower.epoch) return flight.finish(undefined)
    const headers: Record<string, string> = {}
    for (const name of STORED_HEADERS) {
      const value = reply.getHeader(name)
      if (typeof value === 'string') headers[name] = SHARED_VALUE_HEADERS.has(name) ? shared(value) : value
    }
    const decision = flight.waiters > 0 ? 'admitted' : admission.decide(resourceOf(flight.key), victimOf(payload.length + entryOverhead(flight.key, headers)))
    admissions.inc({ decision })
    if (decision !== 'admitted') return flight.finish(undefined)
    const entry: CachedResponse = { payload: ownedBytes(payload), headers, expiresAt: performance.now() + options.ttlMs }
    store(flight.key, entry)
    flight.finish(entry)
  })
  const follower = app.changeFollower
  follower.onChanges((rows) => {
    for (const row of rows) {
      for (const tag of staleKeysFor(row)) {
        for (const key of byTag.keysOf(tag)) cache.delete(key)
      }
    }
  })
  follower.onReset(() => cache.clear())
  app.addHook('onClose', async () => {
    clearInterval(sweep)
    cache.clear()
  })
}

// A plugin even when the cache is off (RESPONSE_CACHE_MAX_MB=0), so that route plugins can
// depend on it either way.
export const responseCachePlugin = fp(responseCache, {
  name: 'response-cache', dependencies: ['core', 'access', 'rate-limits', 'metrics', 'http-caching', 'change-follower']
})
