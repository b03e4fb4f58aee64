import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from './errors.ts'

// When the event loop falls behind, answer 503 at once rather than let latency grow without
// bound; probes stay exempt so an orchestrator can still see the process.
async function overload (app: FastifyInstance): Promise<void> {
  // PGlite runs its queries on this very event loop, so there a long query is not overload.
  const maxEventLoopDelay = app.config.overloadMaxEventLoopDelayMs ?? (app.database.kind === 'postgres' ? 1000 : 0)
  if (maxEventLoopDelay === 0) return
  await app.register(underPressure, {
    maxEventLoopDelay,
    retryAfter: 5,
    // By the route, not the URL: a probe's query string (a cache buster) must not get it shed.
    // Sent as an error, so each route's own error handler words it (Ghost's routes in Ghost's
    // format); the request goes no further once its reply is sent.
    pressureHandler: (request, reply) => {
      if (request.routeOptions.config.access === 'none') return
      reply.send(new AppError(503, 'overloaded', 'The API is overloaded; try again shortly.', { headers: { 'retry-after': '5' } }))
    }
  })
}

export const overloadPlugin = fp(overload, { name: 'overload', dependencies: ['core'] })
