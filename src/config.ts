import { z } from 'zod'
import { isPostUrlTemplate, normalizedPostUrlTemplate, normalizedWebsite, POST_URL_TEMPLATE_RULE, postUrlTemplateFits, postUrlTemplateTooLong, websiteFits, websiteTooLong, withoutTrailingSlashes, type SiteSettings } from './content/common/site.ts'

// Environment variables arrive as strings, and an empty one (`FOO=`) means "not set":
// treating it as a value would turn `DATABASE_URL=` into a connection attempt to nowhere.
const optionalString = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional())

function withDefault<T extends z.ZodType> (schema: T, fallback: z.input<T>) {
  return z.preprocess((value) => (value === undefined || value === '' ? fallback : value), schema)
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/**
 * Every setting the process understands. Each key carries a description: the README's
 * configuration table is checked against these (test/config.test.ts), so they are the docs.
 */
export const EnvironmentSchema = z.object({
  PORT: withDefault(z.coerce.number().int().min(1).max(65535), '3000')
    .describe('TCP port the API listens on.'),
  HOST: withDefault(z.string().min(1), '127.0.0.1')
    .describe('Interface to bind; use 0.0.0.0 in a container.'),
  DATABASE_URL: optionalString
    .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL')
    .describe('PostgreSQL connection URL. When unset, the embedded database (PGlite) under DATA_DIR is used.'),
  DATABASE_POOL_SIZE: withDefault(z.coerce.number().int().min(1).max(200), '10')
    .describe('Maximum connections in the PostgreSQL pool (ignored by the embedded database).'),
  DATABASE_POOL_MODE: withDefault(z.enum(['session', 'transaction']), 'session')
    .describe('How a pooler in front of PostgreSQL hands out DATABASE_URL\'s server connections: session (PostgreSQL itself, or PgBouncer in session pooling) or transaction (PgBouncer\'s pool_mode = transaction, managed poolers\' transaction endpoints). With transaction, statements go unnamed (no prepared statements), settings are not set per connection (set statement_timeout on the role: ALTER ROLE ... SET statement_timeout = \'30s\'; read-write transactions still lift it), and the change log is followed through DATABASE_LISTEN_URL. Applies to the replicas too.'),
  DATABASE_LISTEN_URL: optionalString
    .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), 'must be a postgres:// or postgresql:// URL')
    .describe('Where to LISTEN for the change log\'s notifications: the primary directly or through a session pool. Needed with DATABASE_POOL_MODE=transaction, where a LISTEN would be lost with its transaction; otherwise DATABASE_URL.'),
  DATABASE_STATEMENT_TIMEOUT_MS: withDefault(z.coerce.number().int().min(0).max(86_400_000), '30000')
    .describe('PostgreSQL cancels a read that runs longer than this (milliseconds; 0: no limit), so a runaway query stops holding a connection after its client has gone; the request gets 503 database_timeout with Retry-After. Statements in read-write transactions (content writes, migrations, background passes) are not limited. Ignored by the embedded database, and with DATABASE_POOL_MODE=transaction (the role carries it there).'),
  DATABASE_REPLICA_URL: optionalString
    .refine((value) => value === undefined || splitList(value).every((url) => /^postgres(ql)?:\/\//.test(url) && URL.canParse(url)), 'must be one or more postgres:// URLs, comma-separated')
    .describe('Streaming replicas of DATABASE_URL, comma-separated: public GETs read from them, writes and everything else use the primary. A writer\'s next reads wait for its write (Content-Api-Read-After); a replica that lags or stops answering leaves the rotation until it is back.'),
  REPLICA_MAX_LAG_SECONDS: withDefault(z.coerce.number().min(0.1).max(3600), '5')
    .describe('A replica further behind the primary than this is taken out of rotation (reads go to the others or the primary) until it catches up.'),
  REDIS_URL: optionalString
    .refine((value) => value === undefined || /^rediss?:\/\//.test(value) && URL.canParse(value), 'must be a redis:// or rediss:// URL')
    .describe('Redis for rate-limit counters shared by every process behind the load balancer. While Redis does not answer, each process limits on its own (logged, and counted in /metrics). Unset: counters per process.'),
  EDGE_PURGE_URL: optionalString
    .refine((value) => value === undefined || isHttpUrl(value), 'must be an absolute http(s) URL')
    .describe('Where to purge the edge cache (CDN, Varnish) by surrogate key after a change: sent once every API process has applied the change. Unset: no purges (the edge relies on max-age).'),
  EDGE_PURGE_STYLE: withDefault(z.enum(['xkey', 'fastly']), 'xkey')
    .describe('How purges are sent: xkey (Varnish with vmod xkey: PURGE with an xkey-purge header listing the keys) or fastly (POST with a Surrogate-Key header, the shape of Fastly\'s purge-by-key API; EDGE_PURGE_URL is then https://api.fastly.com/service/<id>/purge).'),
  EDGE_PURGE_TOKEN: optionalString
    .describe('Credential sent with purges: Fastly-Key for the fastly style, Authorization: Bearer for xkey. Never logged.'),
  DATA_DIR: withDefault(z.string().min(1), './data')
    .describe('Where the embedded database keeps its files.'),
  SEED_DEMO: withDefault(z.enum(['auto', 'true', 'false']), 'auto')
    .describe('auto: load the demo content when a new embedded database is created; true: load it on every start, on PostgreSQL too (idempotent); false: never.'),
  LOG_LEVEL: withDefault(z.enum(logLevels), 'info')
    .describe('pino log level.'),
  LOG_FORMAT: withDefault(z.enum(['auto', 'json', 'pretty']), 'auto')
    .describe('auto: readable lines when the output is a terminal, JSON lines otherwise (log collectors); json or pretty: always that.'),
  PUBLIC_BASE_URL: optionalString
    .refine((value) => value === undefined || URL.canParse(value), 'must be an absolute URL such as https://api.example.com')
    .describe('Public URL of the API, used for absolute links (pagination, feeds, api_url). When unset, links use the scheme and host each request came to (a phone on the LAN gets links it can follow; behind a proxy TRUST_PROXY believes, its X-Forwarded-Proto and X-Forwarded-Host, which every response then names in Vary), and http://localhost:PORT where there is no request (webhooks).'),
  WEBSITE_URL: optionalString
    .refine((value) => value === undefined || isHttpUrl(value), { error: 'must be an absolute http(s) URL such as https://news.example.com', abort: true })
    .refine((value) => value === undefined || websiteFits(value, true), { error: (issue) => websiteTooLong(issue.input as string, true) })
    .describe('The network\'s website, where readers read the articles: the default for blogs that name no website of their own, and the link of network-wide feeds. Post pages default to WEBSITE_URL/{blog}/{slug}.'),
  CORS_ORIGINS: withDefault(z.string(), '*')
    .refine((value) => splitList(value).every((origin) => origin === '*' || URL.canParse(origin)),
      'must be * or a comma-separated list of origins such as https://app.example.com')
    .describe('Comma-separated list of allowed browser origins, or * for any.'),
  CACHE_MAX_AGE: withDefault(z.coerce.number().int().min(0).max(31_536_000), '60')
    .describe('Seconds a shared cache or browser may reuse a public GET response (Cache-Control max-age).'),
  CACHE_STALE_WHILE_REVALIDATE: withDefault(z.coerce.number().int().min(0).max(31_536_000), '300')
    .describe('Seconds a cache may serve a stale response while it revalidates in the background.'),
  RESPONSE_CACHE_MAX_MB: withDefault(z.coerce.number().min(0).max(16_384), '64')
    .describe('Memory for the in-process cache of public GET responses, in MiB (fractions allowed); 0 turns it off. Entries are dropped precisely when content changes (in every process).'),
  NODE_ENV: optionalString
    .describe('production turns response validation off by default (see RESPONSE_VALIDATION); nothing else depends on it.'),
  RESPONSE_VALIDATION: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['strict', 'off']).optional())
    .describe('strict: every response is checked against its schema and must match it exactly (tests); off: serialized as is. Default strict, or off with NODE_ENV=production.'),
  RESPONSE_CACHE_MIN_USES: withDefault(z.coerce.number().int().min(1).max(2), '2')
    .describe('2: a response is stored the second time it is asked for within a while, and once the cache is full only when asked for more often than the entry it would push out (one-off requests for old articles do not push out pages that are read again); 1: at the first.'),
  RESPONSE_CACHE_TTL_SECONDS: withDefault(z.coerce.number().int().min(1).max(86_400), '60')
    .describe('Longest a response stays in the in-process cache, as a backstop to change-driven invalidation.'),
  POST_URL_TEMPLATE: optionalString
    .refine((value) => value === undefined || isPostUrlTemplate(value), { error: `${POST_URL_TEMPLATE_RULE}, e.g. https://news.example.com/{blog}/{yyyy}/{mm}/{slug}`, abort: true })
    .refine((value) => value === undefined || postUrlTemplateFits(value), { error: (issue) => postUrlTemplateTooLong(issue.input as string) })
    .describe('The network\'s default web address of a post, from {blog} {slug} {id} {yyyy} {mm} {dd}, for blogs with neither a template nor a website of their own. Without it (and without WEBSITE_URL), `url` is the post\'s API URL.'),
  PUBLIC_READ: withDefault(z.enum(['true', 'false']), 'true')
    .describe('true: published content is readable without a key; false: reads need a key with content:read.'),
  ADMIN_API_KEY: optionalString
    .refine((value) => value === undefined || API_KEY_FORMAT.test(value), 'must look like <prefix>_<secret>: 6-32 lowercase letters or digits, "_", then at least 32 characters of [A-Za-z0-9_-]')
    .describe('A bootstrap admin key for container deployments (npm run cli -- keys create makes one). Stored hashed at start; never logged.'),
  RATE_LIMIT_ANONYMOUS: withDefault(z.coerce.number().int().min(1).max(1_000_000_000), '300')
    .describe('Requests per minute per IP address without a key.'),
  RATE_LIMIT_READ: withDefault(z.coerce.number().int().min(1).max(1_000_000_000), '1200')
    .describe('Requests per minute per key with content:read or content:preview.'),
  RATE_LIMIT_WRITE: withDefault(z.coerce.number().int().min(1).max(1_000_000_000), '600')
    .describe('Requests per minute per key with content:write or admin.'),
  RATE_LIMIT_AUTH_FAILURES: withDefault(z.coerce.number().int().min(1).max(1_000_000), '20')
    .describe('Failed authentications (unknown, malformed or revoked keys) per minute per client address before it gets 429s, whatever key it tries next.'),
  TRUST_PROXY: withDefault(z.string().trim().min(1), 'false')
    .refine((value) => value === 'false' || value === 'true' || /^\d{1,2}$/.test(value) || splitList(value).every((part) => /^[0-9a-fA-F.:/]+$/.test(part)),
      'must be false, true, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges')
    .describe('Which proxies in front of the API to believe about the client address (X-Forwarded-For): false (default) believes none; a hop count, or the addresses or CIDR ranges of the load balancer or CDN. Behind a CDN, set it, or every client shares one rate limit.'),
  BODY_RENDER_TIMEOUT_MS: withDefault(z.coerce.number().int().min(100).max(60_000), '3000')
    .describe('Time budget for rendering and sanitizing one article body (in a worker thread); a body that takes longer is refused with a 422 naming the field. The text and word count derived afterwards, in time linear in the body\'s length, do not count against it.'),
  SEARCH_TIME_LIMIT_MS: withDefault(z.coerce.number().int().min(0).max(600_000), '250')
    .describe('PostgreSQL time a full-text search may take to find matches past the newest 5,000 posts of its list (and to count or rank them); 0: no limit. Out of time, a page holds what was found so far, possibly nothing, with a next_cursor that goes on from there; sort=relevance is a 422; count=estimate gives the estimate. The embedded database cannot stop a statement: there, no limit.'),
  FEED_TTL_MINUTES: withDefault(z.coerce.number().int().min(1).max(1440), '15')
    .describe('How often feed readers are asked to poll, in minutes (RSS ttl and sy:updatePeriod/sy:updateFrequency).'),
  WEBSUB_HUB_URL: optionalString
    .refine((value) => value === undefined || isHttpUrl(value), 'must be an absolute http(s) URL of a WebSub hub')
    .describe('A WebSub hub that pushes feed updates to subscribers: advertised in every feed at its own address (rel="hub", and in its Link header; not in feeds filtered by query, which it is never told of) and told of every feed a public change updates (a publish ping, hub.mode=publish, per change-log batch, retried until it answers 2xx). Needs PUBLIC_BASE_URL: the topics are the feeds\' URLs there.'),
  SCHEDULER_INTERVAL_MS: withDefault(z.coerce.number().int().min(100).max(3_600_000), '5000')
    .describe('How often each process looks for scheduled posts whose time has come, to announce them (change log, webhooks).'),
  CHANGE_LOG_COMPACT_AFTER_DAYS: withDefault(z.coerce.number().min(0).max(36_500), '30')
    .describe('Days after which a change-log row that a newer row of the same resource makes redundant is deleted (log compaction): a sync client that comes back within this time sees every change since its cursor, one that comes back later sees each resource\'s latest state, never a wrong one. Each resource\'s newest change, deletes included, is kept.'),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: withDefault(z.enum(['true', 'false']), 'false')
    .describe('true lets webhooks target loopback and private addresses (tests, closed networks); false refuses them.'),
  WEBHOOK_MAX_ATTEMPTS: withDefault(z.coerce.number().int().min(1).max(50), '8')
    .describe('Delivery attempts before a webhook delivery is marked failed.'),
  WEBHOOK_TIMEOUT_MS: withDefault(z.coerce.number().int().min(100).max(60_000), '10000')
    .describe('How long a receiver has to answer one delivery.'),
  WEBHOOK_DELIVERY_RETENTION_DAYS: withDefault(z.coerce.number().min(0).max(36_500), '30')
    .describe('Days a finished webhook delivery (succeeded, or failed for good) is kept, with its payload, for GET /v1/webhooks/{id}/deliveries and retries; then deleted. Pending deliveries are kept until they finish.'),
  WEBHOOK_RETRY_BASE_MS: withDefault(z.coerce.number().int().min(10).max(3_600_000), '5000')
    .describe('First retry delay; each further retry doubles it (with jitter), up to an hour.'),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(60_000).optional())
    .describe('Above this event-loop delay the API sheds load with 503 + Retry-After instead of queueing (0 turns it off). Default 1000 on PostgreSQL, off on the embedded database, whose queries run on the event loop.'),
  REQUEST_TIMEOUT_MS: withDefault(z.coerce.number().int().min(1_000).max(600_000), '30000')
    .describe('Longest time a client may take to send a whole request.'),
  SHUTDOWN_TIMEOUT_MS: withDefault(z.coerce.number().int().min(100).max(120_000), '10000')
    .describe('How long a graceful shutdown may take before the process exits anyway.')
})

/** `<prefix>_<secret>`: the prefix finds the key, the secret proves it. */
export const API_KEY_FORMAT = /^[a-z0-9]{6,32}_[A-Za-z0-9_-]{32,128}$/

function isHttpUrl (value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
}

function splitList (value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean)
}

export type Environment = z.infer<typeof EnvironmentSchema>

export interface Config {
  readonly port: number
  readonly host: string
  readonly database:
    | { readonly kind: 'postgres', readonly url: string, readonly poolSize: number, readonly replicaUrls: readonly string[], readonly maxReplicaLagSeconds: number, readonly statementTimeoutMs: number, readonly poolMode: 'session' | 'transaction', readonly listenUrl: string }
    | { readonly kind: 'embedded', readonly dataDir: string }
  readonly seedDemo: 'auto' | 'always' | 'never'
  readonly logLevel: (typeof logLevels)[number]
  readonly logFormat: 'auto' | 'json' | 'pretty'
  /** PUBLIC_BASE_URL, or http://localhost:PORT where it is unset. */
  readonly publicBaseUrl: string
  /** true when PUBLIC_BASE_URL is set: links never follow the request's host. */
  readonly publicBaseUrlFixed: boolean
  readonly site: SiteSettings
  readonly corsOrigins: '*' | readonly string[]
  readonly shutdownTimeoutMs: number
  readonly cache: { readonly maxAge: number, readonly staleWhileRevalidate: number }
  readonly responseCache: { readonly maxBytes: number, readonly ttlMs: number, readonly minUses: number }
  readonly responseValidation: 'strict' | 'off'
  readonly publicRead: boolean
  readonly schedulerIntervalMs: number
  readonly changeLogCompactAfterMs: number
  readonly feeds: { readonly ttlMinutes: number, readonly websubHub: string | undefined }
  readonly authFailuresPerMinute: number
  /** Fastify's trustProxy: false, true, a hop count, or addresses and CIDR ranges. */
  readonly trustProxy: boolean | number | readonly string[]
  readonly bodyRenderTimeoutMs: number
  /** PostgreSQL time a search may take past its walk window (posts.repository.ts); undefined: no limit. */
  readonly searchTimeLimitMs: number | undefined
  readonly overloadMaxEventLoopDelayMs: number | undefined
  readonly requestTimeoutMs: number
  readonly webhooks: { readonly allowPrivateTargets: boolean, readonly maxAttempts: number, readonly timeoutMs: number, readonly retryBaseMs: number, readonly deliveryRetentionMs: number }
  readonly adminApiKey: string | undefined
  readonly rateLimits: { readonly anonymous: number, readonly read: number, readonly write: number }
  readonly redisUrl: string | undefined
  readonly edgePurge: { readonly url: string, readonly style: 'xkey' | 'fastly', readonly token: string | undefined } | undefined
}

export class ConfigError extends Error {
  constructor (readonly problems: ReadonlyArray<{ variable: string, message: string }>) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'))
    this.name = 'ConfigError'
  }
}

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvironmentSchema.safeParse(env)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message: issue.message
    })))
  }
  const e = parsed.data
  for (const variable of ['DATABASE_LISTEN_URL', 'DATABASE_POOL_MODE'] as const) {
    if (env[variable] !== undefined && env[variable] !== '' && e.DATABASE_URL === undefined) {
      throw new ConfigError([{ variable, message: 'applies to PostgreSQL (DATABASE_URL); the embedded database has no pooler' }])
    }
  }
  if (e.DATABASE_POOL_MODE === 'transaction' && e.DATABASE_LISTEN_URL === undefined) {
    throw new ConfigError([{ variable: 'DATABASE_LISTEN_URL', message: 'needed with DATABASE_POOL_MODE=transaction: a LISTEN through a transaction pool is lost with its transaction, and the change log with it (the primary directly, or through a session pool)' }])
  }
  if (e.DATABASE_REPLICA_URL !== undefined && e.DATABASE_URL === undefined) {
    throw new ConfigError([{ variable: 'DATABASE_REPLICA_URL', message: 'replicas need DATABASE_URL (the primary); the embedded database has none' }])
  }
  if (e.WEBSUB_HUB_URL !== undefined && e.PUBLIC_BASE_URL === undefined) {
    throw new ConfigError([{ variable: 'WEBSUB_HUB_URL', message: 'the hub is told of updated feeds by their URLs, so set PUBLIC_BASE_URL too (the address subscribers use)' }])
  }
  const corsOrigins = splitList(e.CORS_ORIGINS)

  const publicBaseUrl = withoutTrailingSlashes(e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`)
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    database: Object.freeze(e.DATABASE_URL === undefined
      ? { kind: 'embedded' as const, dataDir: e.DATA_DIR }
      : {
          kind: 'postgres' as const,
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          replicaUrls: Object.freeze(splitList(e.DATABASE_REPLICA_URL ?? '')),
          maxReplicaLagSeconds: e.REPLICA_MAX_LAG_SECONDS,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          poolMode: e.DATABASE_POOL_MODE,
          listenUrl: e.DATABASE_LISTEN_URL ?? e.DATABASE_URL
        }),
    seedDemo: ({ auto: 'auto', true: 'always', false: 'never' } as const)[e.SEED_DEMO],
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    publicBaseUrl,
    publicBaseUrlFixed: e.PUBLIC_BASE_URL !== undefined,
    // As blogs' own (content/common/site.ts): ASCII, as URL parsers serialize them.
    site: Object.freeze({
      website: e.WEBSITE_URL === undefined ? undefined : normalizedWebsite(e.WEBSITE_URL),
      postUrlTemplate: e.POST_URL_TEMPLATE === undefined ? undefined : normalizedPostUrlTemplate(e.POST_URL_TEMPLATE)
    }),
    corsOrigins: corsOrigins.length === 0 || corsOrigins.includes('*') ? '*' : Object.freeze(corsOrigins),
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    cache: Object.freeze({ maxAge: e.CACHE_MAX_AGE, staleWhileRevalidate: e.CACHE_STALE_WHILE_REVALIDATE }),
    responseValidation: e.RESPONSE_VALIDATION ?? (e.NODE_ENV === 'production' ? 'off' : 'strict'),
    responseCache: Object.freeze({ maxBytes: Math.floor(e.RESPONSE_CACHE_MAX_MB * 1024 * 1024), ttlMs: e.RESPONSE_CACHE_TTL_SECONDS * 1000, minUses: e.RESPONSE_CACHE_MIN_USES }),
    publicRead: e.PUBLIC_READ === 'true',
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    changeLogCompactAfterMs: e.CHANGE_LOG_COMPACT_AFTER_DAYS * 86_400_000,
    feeds: Object.freeze({ ttlMinutes: e.FEED_TTL_MINUTES, websubHub: e.WEBSUB_HUB_URL }),
    authFailuresPerMinute: e.RATE_LIMIT_AUTH_FAILURES,
    trustProxy: e.TRUST_PROXY === 'false' ? false : e.TRUST_PROXY === 'true' ? true : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : Object.freeze(splitList(e.TRUST_PROXY)),
    bodyRenderTimeoutMs: e.BODY_RENDER_TIMEOUT_MS,
    searchTimeLimitMs: e.SEARCH_TIME_LIMIT_MS === 0 ? undefined : e.SEARCH_TIME_LIMIT_MS,
    overloadMaxEventLoopDelayMs: e.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    webhooks: Object.freeze({
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS === 'true',
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      deliveryRetentionMs: e.WEBHOOK_DELIVERY_RETENTION_DAYS * 86_400_000
    }),
    adminApiKey: e.ADMIN_API_KEY,
    rateLimits: Object.freeze({ anonymous: e.RATE_LIMIT_ANONYMOUS, read: e.RATE_LIMIT_READ, write: e.RATE_LIMIT_WRITE }),
    redisUrl: e.REDIS_URL,
    edgePurge: e.EDGE_PURGE_URL === undefined ? undefined : Object.freeze({ url: e.EDGE_PURGE_URL, style: e.EDGE_PURGE_STYLE, token: e.EDGE_PURGE_TOKEN })
  })
}
