import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { boundedLru } from '../bounded-lru.ts'
import { formatLsn, parseLsn } from '../db/replication.ts'
import { AppError } from './errors.ts'

// Which database answers a request, when DATABASE_REPLICA_URL names replicas (db/replication.ts
// does the routing): public reads may use a replica, and this plugin says how fresh it must be.
// - After a successful write, the response carries the primary's position after the commit in
//   `Content-Api-Read-After`; a later read that sends it back (to any process) is answered only
//   from a replica that has replayed it, or from the primary. The same key's reads through this
//   process wait for it without the header.
// - The change follower holds replica reads while it applies a notification and releases them
//   at the position it saw, so nothing served or cached here predates an applied change.

export const READ_AFTER_HEADER = 'content-api-read-after'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** primary: this route always reads the primary (the change feed follows the primary's log). */
    readsFrom?: 'primary'
  }
}

const REPLICA_READ_ACCESS = new Set(['public', 'content:read', 'content:preview', 'query-key'])

function mayReadReplica (request: FastifyRequest): boolean {
  const route = request.routeOptions.config
  return (request.method === 'GET' || request.method === 'HEAD') && route.readsFrom !== 'primary' &&
    route.access !== undefined && REPLICA_READ_ACCESS.has(route.access)
}

function readAfterOf (request: FastifyRequest): bigint {
  const header = request.headers[READ_AFTER_HEADER]
  if (header === undefined) return 0n
  const position = typeof header === 'string' ? parseLsn(header) : undefined
  if (position === undefined) {
    throw new AppError(400, 'invalid_header', `${READ_AFTER_HEADER} must be a position as a write's response gave it, such as 0/16B3748.`)
  }
  return position
}

async function readRouting (app: FastifyInstance): Promise<void> {
  const replication = app.database.replication
  if (replication === undefined) return

  // Each key's last write through this process, so its reads wait for it without the header.
  const lastWrites = boundedLru<string, bigint>({ entries: 10_000, ttlMs: 5 * 60_000 })

  // After authentication (an earlier onRequest hook), so the key is known; the rest of the
  // request runs inside `runReads`, whose intent the routed pool reads when a query starts.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!mayReadReplica(request)) return done()
    let after: bigint
    try {
      after = readAfterOf(request)
    } catch (error) {
      return done(error as Error)
    }
    const keyId = request.apiKey?.id
    const ownWrite = keyId === undefined ? undefined : lastWrites.get(keyId)
    replication.runReads(ownWrite !== undefined && ownWrite > after ? ownWrite : after, done)
  })

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS' || reply.statusCode >= 400) return payload
    try {
      const position = await replication.primaryPosition()
      reply.header(READ_AFTER_HEADER, formatLsn(position))
      if (request.apiKey != null) lastWrites.set(request.apiKey.id, position)
    } catch (error) {
      request.log.warn({ err: error }, 'could not read the primary\'s position after a write')
    }
    return payload
  })

  // Held from a notification until the follower has applied it and the primary's position
  // after it is known; a notification meanwhile keeps it held for the next pass.
  let signals = 0
  let retry: NodeJS.Timeout | undefined
  app.changeFollower.onSignal(() => {
    signals++
    replication.holdReads()
  })
  app.changeFollower.onApplied(async (_seq, settled) => {
    if (!settled) return
    const before = signals
    try {
      const position = await replication.primaryPosition()
      if (signals === before) replication.releaseReads(position)
    } catch (error) {
      // Reads stay on the primary; try again shortly rather than wait for the next change.
      app.log.warn({ err: error }, 'could not read the primary\'s position; replica reads held')
      clearTimeout(retry)
      retry = setTimeout(() => { void app.changeFollower.catchUp() }, 1_000)
      retry.unref()
    }
  })
  app.addHook('onClose', async () => { clearTimeout(retry) })
}

export const readRoutingPlugin = fp(readRouting, { name: 'read-routing', dependencies: ['core', 'access', 'change-follower'] })
