import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { accessPlugin } from './access/auth.ts'
import { apiKeysRoutes } from './access/api-keys/api-keys.routes.ts'
import { ghostRoutes } from './compat/ghost/ghost.routes.ts'
import { rateLimitsPlugin } from './access/rate-limits.ts'
import { changeFollowerPlugin } from './changes/change-follower.plugin.ts'
import { changeLogPlugin } from './changes/change-log.plugin.ts'
import type { Config } from './config.ts'
import { authorsRoutes } from './content/authors/authors.routes.ts'
import { blogsRoutes } from './content/blogs/blogs.routes.ts'
import { postsRoutes } from './content/posts/posts.routes.ts'
import { bodyRendererPlugin } from './content/posts/body-renderer.ts'
import { postWritesRoutes } from './content/posts/posts.writes.routes.ts'
import { tagsRoutes } from './content/tags/tags.routes.ts'
import type { Database } from './db/database.ts'
import { httpCachingPlugin } from './http/caching.ts'
import { corePlugin } from './http/core.plugin.ts'
import { clientPresencePlugin } from './http/client-presence.ts'
import { corsPlugin } from './http/cors.ts'
import { methodNotAllowedPlugin, optionsPlugin } from './http/allowed-methods.ts'
import { BODY_LIMIT_BYTES, clientErrorHandler, frameworkErrorHandler } from './http/errors.ts'
import { healthRoutes } from './http/health.routes.ts'
import { metricsPlugin, metricsRoutes } from './http/metrics.ts'
import { openApiPlugin } from './http/openapi.ts'
import { overloadPlugin } from './http/overload.ts'
import { toOriginForm } from './http/public-url.ts'
import { maskQueryKeys, parseQueryString } from './http/query-string.ts'
import { readRoutingPlugin } from './http/read-routing.ts'
import { responseCachePlugin } from './http/response-cache.ts'
import { securityHeadersPlugin } from './http/security-headers.ts'
import { changesRoutes } from './syndication/changes/changes.routes.ts'
import { feedsRoutes } from './syndication/feeds/feeds.routes.ts'
import { sitemapsRoutes } from './syndication/sitemaps/sitemaps.routes.ts'
import { schedulerPlugin } from './syndication/scheduler.ts'
import { changeLogCompactionPlugin } from './syndication/change-log-compaction.ts'
import { plannerStatisticsPlugin } from './syndication/planner-statistics.plugin.ts'
import { webSubPublisherPlugin } from './syndication/feeds/websub-publisher.plugin.ts'
import { jsonRunsBackfillPlugin } from './content/posts/json-runs-backfill.ts'
import { dispatcherPlugin } from './syndication/webhooks/dispatcher.ts'
import { edgePurgerPlugin } from './syndication/edge-purge/edge-purger.plugin.ts'
import { webhooksRoutes } from './syndication/webhooks/webhooks.routes.ts'
import { PACKAGE_VERSION } from './package-root.ts'

export interface BuildAppOptions {
  config: Config
  database: Database
  /** A ready pino logger; by default one is built from config (tests pass one writing to memory). */
  logger?: FastifyBaseLogger
  /** Run the scheduler and the webhook dispatcher in this process; off for tools like `openapi`. */
  backgroundJobs?: boolean
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
/** How often Node looks for requests past REQUEST_TIMEOUT_MS: how far past it one can go. */
export const SLOW_REQUEST_CHECK_MS = 1_000

/** Logger settings: secrets in headers never reach a log line. */
export function loggerOptions (config: Config) {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
      censor: '[redacted]'
    },
    // Fastify's request serializer, with keys sent in the query string (Ghost's ?key=) masked.
    serializers: {
      req: (request: { method: string, url: string, host?: string, ip?: string, socket?: { remotePort?: number } }) => ({
        method: request.method,
        url: maskQueryKeys(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort
      })
    }
  }
}

/** TRUST_PROXY as Fastify takes it; a hop count trusts that many proxies nearest to us. */
function trustProxyOption (trust: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust
  return typeof trust === 'boolean' ? trust : [...trust]
}

/**
 * Builds the whole application as a Fastify instance. It never listens (server.ts does), so
 * tests drive it with `app.inject`. Each line registers a named plugin that declares what it
 * depends on (fastify-plugin checks it at startup): the platform, then the routes, then the
 * background loops. See the README's architecture section for what flows between them.
 */
export async function buildApp ({ config, database, logger, backgroundJobs = true }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger === undefined ? { logger: loggerOptions(config) } : { loggerInstance: logger }),
    // A caller's X-Request-Id is kept when it is safe to echo and log; otherwise we make one.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // A whole URL as the request target is routed by its path, its host taken as the Host.
    rewriteUrl: toOriginForm,
    bodyLimit: BODY_LIMIT_BYTES,
    // A slow or stalled client cannot hold a connection open for ever: past REQUEST_TIMEOUT_MS
    // it gets a 408 and its connection is closed. Given to Node's server as well as to Fastify
    // (which sets it after the server is made): only then does Node take its headers timeout
    // from it, and it cuts off a request whose body is still coming at the headers timeout
    // (60 s by default), not at the request timeout. And Node looks for such requests every
    // connectionsCheckingInterval, 30 s by default, past the limit: slowhttptest's slowloris
    // clients were held 55-60 s against a limit of 30 (and a test's slow body 61 s against 1).
    // A look every second (a walk over the open connections' start times, in C++) keeps the
    // limit what it says.
    requestTimeout: config.requestTimeoutMs,
    http: { requestTimeout: config.requestTimeoutMs, headersTimeout: config.requestTimeoutMs, connectionsCheckingInterval: SLOW_REQUEST_CHECK_MS },
    connectionTimeout: config.requestTimeoutMs * 2,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Whose X-Forwarded-For to believe (TRUST_PROXY): nobody's unless the operator says.
    trustProxy: trustProxyOption(config.trustProxy),
    // Slugs may be up to 200 characters; the router's default cap of 100 would 404 them. A list
    // written `tag[]=a` (axios) is `tag=a`.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500, querystringParser: parseQueryString }
  }).withTypeProvider<ZodTypeProvider>()

  // The platform: each of these is used by the ones after it and by the routes.
  await app.register(corePlugin, { config, database })
  await app.register(clientPresencePlugin)
  await app.register(metricsPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(optionsPlugin)
  await app.register(corsPlugin)
  await app.register(methodNotAllowedPlugin)
  await app.register(overloadPlugin)
  await app.register(accessPlugin)
  await app.register(rateLimitsPlugin)
  await app.register(changeLogPlugin)
  await app.register(httpCachingPlugin)
  await app.register(changeFollowerPlugin)
  await app.register(readRoutingPlugin)
  await app.register(edgePurgerPlugin)
  await app.register(responseCachePlugin)
  await app.register(openApiPlugin, { version: PACKAGE_VERSION })
  await app.register(bodyRendererPlugin)

  // The routes, a plugin per module.
  for (const routes of [
    healthRoutes, metricsRoutes, blogsRoutes, authorsRoutes, tagsRoutes, postsRoutes, postWritesRoutes,
    feedsRoutes, sitemapsRoutes, changesRoutes, webhooksRoutes, apiKeysRoutes, ghostRoutes
  ]) {
    await app.register(routes)
  }

  // Background loops: they start when the app is ready and stop when it closes.
  if (backgroundJobs) {
    await app.register(schedulerPlugin)
    await app.register(changeLogCompactionPlugin)
    await app.register(webSubPublisherPlugin)
    await app.register(dispatcherPlugin)
    await app.register(jsonRunsBackfillPlugin)
    await app.register(plannerStatisticsPlugin)
  }
  return app
}
