import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError, problemResponses } from './errors.ts'
import { routePlugin } from './route-plugin.ts'

const LivenessSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness', examples: [{ status: 'ok' }] })
const ReplicaStatusSchema = z.object({
  name: z.string().describe('host:port/database of the replica (no credentials).'),
  state: z.enum(['in_rotation', 'lagging', 'down']).describe('in_rotation: answers public reads; lagging: further behind than REPLICA_MAX_LAG_SECONDS; down: not answering, or not a replica.'),
  replayed: z.string().nullable().describe('The WAL position it had replayed at the last check; null before it first answered.'),
  lag_seconds: z.number().nullable().describe('How long it has been behind the primary, at the last check.'),
  lag_bytes: z.number().int().nullable().describe('WAL bytes the primary has that it has not replayed.'),
  reason: z.string().nullable().describe('Why it is out of rotation.')
}).meta({ id: 'ReplicaStatus', examples: [{ name: 'replica-2:5432/content', state: 'lagging', replayed: '0/39F0000', lag_seconds: 7.5, lag_bytes: 1048576, reason: '7.5 s behind the primary (limit 5 s)' }] })

const ReadinessSchema = z.object({
  status: z.literal('ready'),
  database: z.enum(['postgres', 'embedded']),
  replicas: z.array(ReplicaStatusSchema).describe('Streaming replicas (DATABASE_REPLICA_URL); empty when none. Readiness depends on the primary only: reads fall back to it.')
}).meta({
  id: 'Readiness',
  examples: [{
    status: 'ready',
    database: 'postgres',
    replicas: [{ name: 'replica-1:5432/content', state: 'in_rotation', replayed: '0/3A0B2C8', lag_seconds: 0, lag_bytes: 0, reason: null }]
  }]
})

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
      description: 'Answers 200 when the database (the primary) answers, with the state and lag of each replica; 503 problem+json (with Retry-After) when it does not.',
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
    const replicas = (app.database.replication?.statuses() ?? []).map((r) => ({
      name: r.name, state: r.state, replayed: r.replayed, lag_seconds: r.lagSeconds, lag_bytes: r.lagBytes, reason: r.reason
    }))
    return { status: 'ready' as const, database: app.database.kind, replicas }
  })
}

export const healthRoutes = routePlugin('health-routes', healthPlugin)
