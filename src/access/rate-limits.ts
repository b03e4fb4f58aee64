import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import { AppError } from '../http/errors.ts'
import { hasScope } from './scopes.ts'

/**
 * Per key (by key id) when a key is presented, per IP otherwise; the limit follows the key's
 * scope. Counters live in Redis when REDIS_URL is set, so every process behind the load
 * balancer enforces one limit (falling back to each process's own while Redis does not
 * answer: rate-limit-store.ts); in this process otherwise.
 */
async function rateLimits (app: FastifyInstance): Promise<void> {
  const limits = app.config.rateLimits
  // Loaded only when asked for: the Redis client is some 2 MB of a process's heap that a single
  // process never uses, and V8 lets the heap grow in proportion to what it keeps.
  const shared = app.config.redisUrl === undefined ? undefined : (await import('./rate-limit-store.ts')).sharedRateLimits(app.config.redisUrl, (mode, error) => {
    if (mode === 'local') app.log.warn({ err: error }, 'rate limits: Redis is not answering; each process counts on its own until it is back')
    else app.log.info('rate limits: Redis answers again; counters are shared')
  })
  if (shared !== undefined) {
    // The first requests are counted in Redis too, unless Redis is away at start.
    app.addHook('onReady', () => shared.connected())
    app.addHook('onClose', () => shared.close())
    new Gauge({
      name: 'rate_limit_store_shared',
      help: 'Whether rate-limit counters are shared through Redis now (1) or counted in this process because Redis does not answer (0).',
      registers: [app.metrics.registry],
      collect () { this.set(shared.mode() === 'shared' ? 1 : 0) }
    })
    new Counter({
      name: 'rate_limit_local_fallbacks_total',
      help: 'Requests whose rate limit was counted in this process because Redis did not answer.',
      registers: [app.metrics.registry],
      collect () {
        this.reset()
        this.inc(shared.fallbacks())
      }
    })
  }
  await app.register(rateLimit, {
    ...(shared === undefined ? {} : { store: shared.Store }),
    global: true,
    // After authentication (onRequest), so the key is known; before the body is parsed, and
    // before the response cache's lookup (preValidation), so a cached answer still counts.
    hook: 'preParsing',
    timeWindow: 60_000,
    enableDraftSpec: true,
    keyGenerator: (request: FastifyRequest) => request.apiKey === null ? `ip:${request.ip}` : `key:${request.apiKey.id}`,
    max: (request: FastifyRequest) => request.apiKey === null
      ? limits.anonymous
      : hasScope(request.apiKey, 'content:write') ? limits.write : limits.read,
    errorResponseBuilder: (_request, context) => new AppError(429, 'rate_limited',
      `Too many requests: the limit is ${context.max} per minute. Retry after ${Math.ceil(context.ttl / 1000)} s.`)
  })
}

// @fastify/rate-limit attaches itself to each route as it is registered: every route plugin
// depends on this one (routes.ts), so none can be registered before it.
export const rateLimitsPlugin = fp(rateLimits, { name: 'rate-limits', dependencies: ['core', 'metrics', 'access'] })
