// The stores @fastify/rate-limit ships (CommonJS, without types of their own): the shared-store
// wrapper (access/rate-limit-store.ts) delegates to them.
declare module '@fastify/rate-limit/store/LocalStore.js' {
  import type { RateLimitStore } from '../access/rate-limit-store.ts'
  const LocalStore: new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => RateLimitStore
  export default LocalStore
}

declare module '@fastify/rate-limit/store/RedisStore.js' {
  import type { Redis } from 'ioredis'
  import type { RateLimitStore } from '../access/rate-limit-store.ts'
  const RedisStore: new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => RateLimitStore
  export default RedisStore
}
