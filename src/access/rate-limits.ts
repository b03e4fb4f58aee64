import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../http/errors.ts'
import { hasScope } from './scopes.ts'

/**
 * Per key (by key id) when a key is presented, per IP otherwise; the limit follows the key's
 * scope. Counters live in this process: behind a load balancer with N processes, pass a Redis
 * client as `redis` to @fastify/rate-limit so all processes share them (see README).
 */
async function rateLimits (app: FastifyInstance): Promise<void> {
  const limits = app.config.rateLimits
  await app.register(rateLimit, {
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
export const rateLimitsPlugin = fp(rateLimits, { name: 'rate-limits', dependencies: ['core', 'access'] })
