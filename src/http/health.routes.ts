import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, problemResponses } from './errors.ts'
import { routePlugin } from './route-plugin.ts'

const LivenessSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness', examples: [{ status: 'ok' }] })
const ReadinessSchema = z.object({
  status: z.literal('ready'),
  database: z.enum(['postgres', 'embedded'])
}).meta({ id: 'Readiness', examples: [{ status: 'ready', database: 'postgres' }] })

// Probes are not content: never cached, never logged at info level (a load balancer polls them).
const healthPlugin: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', {
    logLevel: 'warn',
    // A load balancer polls this: no key, never metered.
    config: { access: 'none', rateLimit: false },
    schema: {
      tags: ['Operations'],
      operationId: 'getLiveness',
      summary: 'Liveness probe',
      description: 'Answers 200 while the process is alive, whatever the database does.',
      response: { 200: LivenessSchema.describe('The process is alive.') }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' as const }
  })

  app.get('/readyz', {
    logLevel: 'warn',
    config: { access: 'none', rateLimit: false },
    schema: {
      tags: ['Operations'],
      operationId: 'getReadiness',
      summary: 'Readiness probe',
      description: 'Answers 200 when the database answers; 503 problem+json (with Retry-After) when it does not.',
      response: { 200: ReadinessSchema.describe('Ready to serve.'), ...problemResponses(503) }
    }
  }, async (request, reply) => {
    try {
      await app.database.ping()
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed')
      throw new AppError(503, 'database_unavailable', 'The database is not answering.', { headers: { 'retry-after': '5' } })
    }
    reply.header('cache-control', 'no-store')
    return { status: 'ready' as const, database: app.database.kind }
  })
}

export const healthRoutes = routePlugin('health-routes', healthPlugin)
