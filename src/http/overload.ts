import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, sendProblem } from './errors.ts'

// When the event loop falls behind, answer 503 at once rather than let latency grow without
// bound; probes stay exempt so an orchestrator can still see the process.
async function overload (app: FastifyInstance): Promise<void> {
  // PGlite runs its queries on this very event loop, so there a long query is not overload.
  const maxEventLoopDelay = app.config.overloadMaxEventLoopDelayMs ?? (app.database.kind === 'postgres' ? 1000 : 0)
  if (maxEventLoopDelay === 0) return
  await app.register(underPressure, {
    maxEventLoopDelay,
    retryAfter: 5,
    pressureHandler: (request, reply) => {
      if (request.url === '/healthz' || request.url === '/readyz') return
      reply.header('retry-after', '5')
      sendProblem(request, reply, new AppError(503, 'overloaded', 'The API is overloaded; try again shortly.'))
    }
  })
}

export const overloadPlugin = fp(overload, { name: 'overload', dependencies: ['core'] })
