import LocalStore from '@fastify/rate-limit/store/LocalStore.js'
import RedisStore from '@fastify/rate-limit/store/RedisStore.js'
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { Redis } from 'ioredis'

// Rate-limit counters shared by every process through Redis (REDIS_URL), with @fastify/rate-limit's
// own Redis store (an atomic INCR + PEXPIRE script) doing the counting. Redis going away must
// never take the API down, nor lift the limits: while it does not answer, each process counts
// on its own (its in-memory store, as without Redis), and says so once in the log and
// continuously in /metrics. Commands fail fast (no offline queue, a short timeout), so a
// stalled Redis costs each request at most that timeout.

type Result = { current: number, ttl: number }
type Callback = (error: Error | null, result?: Result) => void

/** What @fastify/rate-limit asks of a store. */
export interface RateLimitStore {
  incr (key: string, callback: Callback, timeWindow: number, max: number): void
  read? (key: string, callback: Callback, timeWindow: number, max: number): void
  child (routeOptions: unknown): RateLimitStore
}

export type StoreMode = 'shared' | 'local'

export interface SharedRateLimits {
  /** The store class to hand @fastify/rate-limit as `store`. */
  Store: FastifyRateLimitStoreCtor
  mode (): StoreMode
  /** Resolves once Redis is connected, refused, or after a short wait (the API starts whichever). */
  connected (): Promise<void>
  /** Requests counted in-process because Redis did not answer. */
  fallbacks (): number
  close (): Promise<void>
}

const KEY_PREFIX = 'content-api:rate-limit:'
const COMMAND_TIMEOUT_MS = 250
const START_WAIT_MS = 2_000

export function sharedRateLimits (url: string, onModeChange: (mode: StoreMode, error?: unknown) => void): SharedRateLimits {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 1_000,
    // Keep trying to come back, at most every two seconds.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000)
  })
  let mode: StoreMode = 'shared'
  let fallbacks = 0
  const setMode = (next: StoreMode, error?: unknown) => {
    if (next === mode) return
    mode = next
    onModeChange(next, error)
  }
  // ioredis reports connection trouble as 'error' events; unheard, they would end the process.
  redis.on('error', (error) => setMode('local', error))
  redis.on('ready', () => setMode('shared'))

  class FallbackStore {
    readonly #shared: RateLimitStore
    readonly #local: RateLimitStore

    constructor (params: { continueExceeding?: boolean | undefined, exponentialBackoff?: boolean | undefined }) {
      const continueExceeding = params.continueExceeding ?? false
      const exponentialBackoff = params.exponentialBackoff ?? false
      this.#shared = new RedisStore(continueExceeding, exponentialBackoff, redis, KEY_PREFIX)
      this.#local = new LocalStore(continueExceeding, exponentialBackoff)
    }

    #use (method: 'incr' | 'read', key: string, callback: Callback, timeWindow: number, max: number): void {
      const local = () => {
        fallbacks++
        this.#local[method]!(key, callback, timeWindow, max)
      }
      if (redis.status !== 'ready') return local()
      this.#shared[method]!(key, (error, result) => {
        if (error === null) {
          setMode('shared')
          return callback(null, result)
        }
        setMode('local', error)
        local()
      }, timeWindow, max)
    }

    incr (key: string, callback: Callback, timeWindow: number, max: number): void { this.#use('incr', key, callback, timeWindow, max) }
    read (key: string, callback: Callback, timeWindow: number, max: number): void { this.#use('read', key, callback, timeWindow, max) }
    // One budget per client across all routes, as without Redis.
    child (): FallbackStore { return this }
  }

  return {
    Store: FallbackStore,
    mode: () => mode,
    connected: () => redis.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          redis.off('ready', done)
          redis.off('error', done)
          resolve()
        }
        const timer = setTimeout(done, START_WAIT_MS)
        redis.once('ready', done)
        // Refused or unreachable: start now, counting in-process until it answers.
        redis.once('error', done)
      }),
    fallbacks: () => fallbacks,
    close: async () => { redis.disconnect() }
  }
}
