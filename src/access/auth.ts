import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Scope } from '../db/schema.ts'
import { AppError } from '../http/errors.ts'
import { secretMatches, splitApiKey } from './api-keys/api-key-secret.ts'
import { findApiKeyForAuth, recordLastUse } from './api-keys/api-keys.repository.ts'

// Authentication (who is calling) runs for every request that presents a key; authorization
// (may they) is declared per route with `config: { scope }` and checked before the handler.
// A route under /v1 without a declared scope is a bug: a test walks the routes to prove none.

export interface ApiKeyIdentity { id: string, name: string, scopes: Scope[] }

/** `public` marks a read that needs no key while PUBLIC_READ is on; `none` is for probes and docs. */
export type RouteAccess = Scope | 'public' | 'none'

declare module 'fastify' {
  interface FastifyRequest { apiKey: ApiKeyIdentity | null }
  interface FastifyContextConfig { access?: RouteAccess }
}

// What each scope grants. admin has everything; writers can read drafts they work on.
const IMPLIED: Record<Scope, Scope[]> = {
  admin: ['admin', 'content:write', 'content:preview', 'content:read'],
  'content:write': ['content:write', 'content:preview', 'content:read'],
  'content:preview': ['content:preview', 'content:read'],
  'content:read': ['content:read']
}

export function hasScope (key: ApiKeyIdentity | null, scope: Scope): boolean {
  return key !== null && key.scopes.some((granted) => IMPLIED[granted].includes(scope))
}

const LAST_USED_FLUSH_MS = 30_000

export function registerAuth (app: FastifyInstance): void {
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

  app.decorateRequest('apiKey', null)
  app.addHook('onRequest', async (request) => {
    await authenticate(request)
    authorize(request, app.config.publicRead)
  })

  async function authenticate (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined) return
    const match = /^Bearer ([^\s]+)$/i.exec(header)
    if (match === null) throw unauthorized('The Authorization header must be "Bearer <key>".', true)
    const parts = splitApiKey(match[1] as string)
    const row = parts === undefined ? undefined : await findApiKeyForAuth(app.db, parts.prefix)
    if (parts === undefined || row === undefined || row.revoked_at !== null || !secretMatches(parts.secret, row.secret_hash)) {
      throw unauthorized('The API key is not valid or has been revoked.', true)
    }
    request.apiKey = { id: row.id, name: row.name, scopes: row.scopes }
    lastUsed.set(row.id, new Date())
  }
}

/** May this request's key use this route? Runs right after authentication, before the body is read. */
function authorize (request: FastifyRequest, publicRead: boolean): void {
  const access = request.routeOptions.config.access ?? 'none'
  if (access === 'none') return
  if (access === 'public') {
    if (publicRead || hasScope(request.apiKey, 'content:read')) return
    throw request.apiKey === null ? unauthorized('Reading needs a key with the content:read scope.') : forbidden('content:read')
  }
  if (request.apiKey === null) throw unauthorized(`This operation needs a key with the ${access} scope.`)
  if (!hasScope(request.apiKey, access)) throw forbidden(access)
}

export function unauthorized (message: string, invalidToken = false): AppError {
  return new AppError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': `Bearer realm="content-api"${invalidToken ? ', error="invalid_token"' : ''}` }
  })
}

export function forbidden (scope: Scope): AppError {
  return new AppError(403, 'forbidden', `The key lacks the ${scope} scope this operation needs.`)
}
