import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { boundedLru } from '../bounded-lru.ts'
import { AppError } from '../http/errors.ts'
import { secretMatches, splitApiKey } from './api-keys/api-key-secret.ts'
import { findApiKeyForAuth, recordLastUse } from './api-keys/api-keys.repository.ts'
import type { RouteAccess } from '../http/route-access.ts'
import { hasScope, type Scope } from './scopes.ts'

// Authentication (who is calling) runs for every request that presents a key; authorization
// (may they) is declared per route with `config: { access }` (route-access.ts) and checked
// right after, before the body is read.

export interface ApiKeyIdentity { id: string, name: string, scopes: Scope[] }

declare module 'fastify' {
  interface FastifyRequest { apiKey: ApiKeyIdentity | null }
}

const LAST_USED_FLUSH_MS = 30_000
const FAILURE_WINDOW_MS = 60_000

/**
 * Failed authentications per client address, in one-minute windows. Past the limit a client
 * gets 429 before its key is even looked up: guessing keys costs the guesser, not the database.
 * (The rate limiter runs after authentication, so it never sees these requests.)
 */
function failureLimiter (limit: number) {
  const failures = boundedLru<string, { count: number, resetAt: number }>({ entries: 100_000, ttlMs: FAILURE_WINDOW_MS })
  return {
    check (client: string): void {
      const record = failures.get(client)
      if (record !== undefined && record.count >= limit) {
        const retryAfter = Math.max(1, Math.ceil((record.resetAt - Date.now()) / 1000))
        throw new AppError(429, 'too_many_failed_authentications',
          `Too many failed authentications from this address: the limit is ${limit} per minute. Retry after ${retryAfter} s.`,
          { headers: { 'retry-after': String(retryAfter) } })
      }
    },
    record (client: string): void {
      const record = failures.get(client)
      if (record === undefined) failures.set(client, { count: 1, resetAt: Date.now() + FAILURE_WINDOW_MS })
      else record.count++
    }
  }
}

async function access (app: FastifyInstance): Promise<void> {
  const lastUsed = new Map<string, Date>()
  const flush = async () => {
    if (lastUsed.size === 0) return
    const batch = new Map(lastUsed)
    lastUsed.clear()
    await recordLastUse(app.db, batch).catch((error: unknown) => app.log.warn({ err: error }, 'could not record key use'))
  }
  // last_used_at is kept in memory and written in batches, not on every request.
  const timer = setInterval(() => { void flush() }, LAST_USED_FLUSH_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await flush()
  })

  const failedAuthentications = failureLimiter(app.config.authFailuresPerMinute)
  app.decorateRequest('apiKey', null)
  // Callback-style: without a key (most reads) nothing here waits, and no promise is made.
  app.addHook('onRequest', (request, _reply, done) => {
    // Probes and documentation take no key (the document says `security: []`): a key sent to
    // them, even a bad one, is not looked at, so a load balancer's probe never gets a 401 or a
    // failed-key 429 for a header it was set up to send.
    if (request.headers.authorization === undefined || request.routeOptions.config.access === 'none') {
      try {
        authorize(request, app.config.publicRead)
      } catch (error) {
        return done(error as Error)
      }
      return done()
    }
    authenticate(request).then(() => authorize(request, app.config.publicRead)).then(() => done(), done)
  })

  async function authenticate (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined) return
    failedAuthentications.check(request.ip)
    // RFC 6750 2.1 and RFC 9110 11.4: the scheme in any case, then one or more spaces.
    const match = /^Bearer +(\S+)$/i.exec(header)
    if (match === null) {
      failedAuthentications.record(request.ip)
      throw unauthorized('The Authorization header must be "Bearer <key>".', true)
    }
    const parts = splitApiKey(match[1] as string)
    const row = parts === undefined ? undefined : await findApiKeyForAuth(app.db, parts.prefix)
    if (parts === undefined || row === undefined || row.revoked_at !== null || !secretMatches(parts.secret, row.secret_hash)) {
      failedAuthentications.record(request.ip)
      throw unauthorized('The API key is not valid or has been revoked.', true)
    }
    request.apiKey = { id: row.id, name: row.name, scopes: row.scopes }
    lastUsed.set(row.id, new Date())
  }
}

/** May this request's key use this route? A route without a rule is refused (and cannot start: route-access.ts). */
function authorize (request: FastifyRequest, publicRead: boolean): void {
  const access: RouteAccess | undefined = request.routeOptions.config.access
  // No route matched: the not-found handler answers 404, whoever asks.
  // query-key routes check their own key (compat/ghost/); a bearer key sent along is still checked above.
  if (access === 'none' || access === 'query-key' || request.is404) return
  if (access === undefined) throw new AppError(403, 'forbidden', 'This operation is not open to any key.')
  if (access === 'public') {
    if (publicRead || hasScope(request.apiKey, 'content:read')) return
    throw request.apiKey === null ? unauthorized('Reading needs a key with the content:read scope.') : forbidden('content:read')
  }
  if (request.apiKey === null) throw unauthorized(`This operation needs a key with the ${access} scope.`)
  if (!hasScope(request.apiKey, access)) throw forbidden(access)
}

/** For what a parameter unlocks (status=, visibility=all): 401 without a key, 403 with one that lacks the scope. */
export function requireScope (request: FastifyRequest, scope: Scope, what: string): void {
  if (hasScope(request.apiKey, scope)) return
  if (request.apiKey === null) throw unauthorized(`${what} needs a key with the ${scope} scope.`)
  throw new AppError(403, 'forbidden', `${what} needs a key with the ${scope} scope.`)
}

export function unauthorized (message: string, invalidToken = false): AppError {
  return new AppError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="content-api"${invalidToken ? ', error="invalid_token"' : ''}` }
  })
}

export function forbidden (scope: Scope): AppError {
  return new AppError(403, 'forbidden', `The key lacks the ${scope} scope this operation needs.`)
}

export const accessPlugin = fp(access, { name: 'access', dependencies: ['core'] })
