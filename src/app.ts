import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import cors from '@fastify/cors'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Kysely } from 'kysely'
import type { Config } from './config.ts'
import type { Database } from './db/database.ts'
import type { DB } from './db/schema.ts'
import { authorsRoutes, authorWritesRoutes } from './content/authors/authors.routes.ts'
import { blogsRoutes, blogWritesRoutes } from './content/blogs/blogs.routes.ts'
import { postsRoutes } from './content/posts/posts.routes.ts'
import { postWritesRoutes } from './content/posts/posts.writes.routes.ts'
import { feedsRoutes } from './syndication/feeds/feeds.routes.ts'
import { changesRoutes } from './syndication/changes/changes.routes.ts'
import { registerChangeSignal } from './syndication/changes/change-signal.ts'
import { startScheduler } from './syndication/scheduler.ts'
import { startDispatcher } from './syndication/webhooks/dispatcher.ts'
import { webhooksRoutes } from './syndication/webhooks/webhooks.routes.ts'
import { tagsRoutes, tagWritesRoutes } from './content/tags/tags.routes.ts'
import { registerHttpCaching } from './http/caching.ts'
import { metricsRoutes, registerMetrics } from './http/metrics.ts'
import { registerResponseCache } from './http/response-cache.ts'
import { registerSecurityHeaders } from './http/security-headers.ts'
import { responseSerializerCompiler } from './http/serialization.ts'
import { apiKeysRoutes } from './access/api-keys/api-keys.routes.ts'
import { registerAuth } from './access/auth.ts'
import { registerRateLimits } from './access/rate-limits.ts'
import { AppError, frameworkErrorHandler, registerErrorHandling, sendProblem } from './http/errors.ts'
import underPressure from '@fastify/under-pressure'
import { healthRoutes } from './http/health.routes.ts'
import { registerOpenApi } from './http/openapi.ts'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
    db: Kysely<DB>
  }
}

export interface BuildAppOptions {
  config: Config
  database: Database
  /** A ready pino logger; by default one is built from config (tests pass one writing to memory). */
  logger?: FastifyBaseLogger
  /** Run the scheduler (and the webhook dispatcher) in this process; off for tools like `openapi`. */
  backgroundJobs?: boolean
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

// Headers a browser client may read from a cross-origin response.
const EXPOSED_HEADERS = ['ETag', 'Last-Modified', 'Location', 'Link', 'Retry-After', 'X-Request-Id']

/** Logger settings: secrets in headers never reach a log line. */
export function loggerOptions (config: Config) {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
      censor: '[redacted]'
    }
  }
}

/**
 * Builds the whole application as a Fastify instance: platform plugins first, then the content
 * modules. It never listens (server.ts does), so tests drive it with `app.inject`.
 */
export async function buildApp ({ config, database, logger, backgroundJobs = true }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger === undefined ? { logger: loggerOptions(config) } : { loggerInstance: logger }),
    // A caller's X-Request-Id is kept when it is safe to echo and log; otherwise we make one.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    bodyLimit: 1024 * 1024,
    // A slow or stalled client cannot hold a connection open for ever.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs * 2,
    frameworkErrors: frameworkErrorHandler,
    // Slugs may be up to 200 characters; the router's default cap of 100 would 404 them.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 }
  }).withTypeProvider<ZodTypeProvider>()

  // Bodies are JSON. Fastify also parses text/plain by default; refusing it makes a wrong
  // Content-Type a clear 415 instead of a confusing validation error.
  app.removeContentTypeParser('text/plain')
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(responseSerializerCompiler(config.responseValidation))
  app.decorate('config', config)
  app.decorate('database', database)
  app.decorate('db', database.db)

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  registerErrorHandling(app)
  registerMetrics(app)
  const httpCaching = registerHttpCaching(app, config.cache)

  registerSecurityHeaders(app)
  await app.register(cors, {
    origin: config.corsOrigins === '*' ? '*' : [...config.corsOrigins],
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600
  })
  await registerOpenApi(app, version)
  // PGlite runs its queries on this very event loop, so there a long query is not overload.
  const maxEventLoopDelay = config.overloadMaxEventLoopDelayMs ?? (database.kind === 'postgres' ? 1000 : 0)
  if (maxEventLoopDelay > 0) {
    // When the event loop falls behind, answer 503 at once rather than let latency grow
    // without bound; probes stay exempt so an orchestrator can still see the process.
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
  registerAuth(app)
  await registerRateLimits(app, config.rateLimits)
  await registerChangeSignal(app)
  // After authentication and rate limits: a cached answer still needs a caller who may have it.
  if (config.responseCache.maxBytes > 0) {
    await registerResponseCache(app, { ...config.responseCache, flightTimeoutMs: config.requestTimeoutMs }, httpCaching)
  }

  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  await app.register(blogsRoutes)
  await app.register(authorsRoutes)
  await app.register(tagsRoutes)
  await app.register(postsRoutes)
  await app.register(blogWritesRoutes)
  await app.register(authorWritesRoutes)
  await app.register(tagWritesRoutes)
  await app.register(postWritesRoutes)
  await app.register(feedsRoutes)
  await app.register(changesRoutes)
  await app.register(webhooksRoutes)
  if (backgroundJobs) {
    startScheduler(app, config.schedulerIntervalMs)
    startDispatcher(app)
  }
  await app.register(apiKeysRoutes)

  return app
}
