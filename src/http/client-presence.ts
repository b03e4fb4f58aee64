import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { onBehalfOf } from '../db/client-presence.ts'

// A public read whose client has gone takes no database connection (db/client-presence.ts): each
// GET and HEAD runs on behalf of its client, who has gone when the connection closed before the
// answer was written. Writes run to their end whoever waits: an editor's change, once begun, is
// made. The request ends with a 499 (nginx's "client closed request") that nobody reads but the
// logs and the request-duration histogram of /metrics.

async function clientPresence (app: FastifyInstance): Promise<void> {
  // Callback-style: it runs on every request, and the rest of the request runs inside it.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done()
    const response = reply.raw
    onBehalfOf(() => response.destroyed && !response.writableFinished, done)
  })
}

export const clientPresencePlugin = fp(clientPresence, { name: 'client-presence', dependencies: ['core'] })
