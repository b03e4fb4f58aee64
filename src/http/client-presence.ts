import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { onBehalfOf } from '../db/client-presence.ts'

// A public read whose client has gone takes no database connection (db/client-presence.ts): each
// GET and HEAD runs on behalf of its client, who has gone when the connection closed before the
// answer was written. Writes run to their end whoever waits: an editor's change, once begun, is
// made. The request ends there, logged, and counted in /metrics (db_reads_spared_total).

async function clientPresence (app: FastifyInstance): Promise<void> {
  // Before the handler, where a read's queries are made: a response-cache hit or a 304 from it
  // is sent earlier (preValidation) and never comes here. (A first version, an onRequest hook
  // here and onRequestAbort hooks, which give every request a listener, cost a cached 304 1-2 µs
  // of its 46 µs of API CPU in two pairs of bench/cpu-split.sh; this one nothing the noise
  // shows.) Callback-style: the handler runs inside it.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done()
    const response = reply.raw
    onBehalfOf(() => response.destroyed && !response.writableFinished, done)
  })
}

export const clientPresencePlugin = fp(clientPresence, { name: 'client-presence', dependencies: ['core'] })
