import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import {
  DummyDriver, Kysely, PGliteDialect, PostgresAdapter, PostgresDialect, PostgresIntrospector, PostgresQueryCompiler,
  sql, type Transaction
} from 'kysely'
import pg from 'pg'
import type { Config } from '../config.ts'
import type { DB } from './schema.ts'

export type DatabaseKind = 'postgres' | 'embedded'

/** What repositories accept: the database itself or a transaction a service opened. */
export type Executor = Kysely<DB> | Transaction<DB>

export interface Database {
  readonly db: Kysely<DB>
  readonly kind: DatabaseKind
  /** True when this process created the embedded database just now (first start). */
  readonly created: boolean
  /** Throws when the database does not answer within timeoutMs. */
  ping (timeoutMs?: number): Promise<void>
  /** Calls `onNotify` for every NOTIFY on `channel` (from any process); returns how to stop. */
  listen (channel: string, onNotify: () => void): Promise<() => Promise<void>>
  /** Connection pool occupancy, for /metrics (PostgreSQL only: the embedded database has no pool). */
  poolStats?: () => PoolStats
  close (): Promise<void>
}

export interface PoolStats { total: number, idle: number, waiting: number, max: number }

const PG_INT8 = 20

/**
 * Opens the database the configuration names: a `pg` pool for PostgreSQL, or PGlite (PostgreSQL
 * compiled to WebAssembly) persisted under DATA_DIR. Both speak the same SQL through Kysely.
 */
export async function openDatabase (config: Config['database']): Promise<Database> {
  if (config.kind === 'postgres') {
    return openPostgres(config.url, config.poolSize)
  }
  const directory = path.resolve(config.dataDir, 'pglite')
  const created = !existsSync(path.join(directory, 'PG_VERSION'))
  await mkdir(directory, { recursive: true })
  // Loaded only when used: PGlite's module alone adds some 40 MB to a process on PostgreSQL.
  const { PGlite } = await import('@electric-sql/pglite')
  return wrapPGlite(await PGlite.create(directory, { parsers: pgliteParsers }), created)
}

// pg returns int8 (bigint) as a string so no precision is lost; PGlite would make a BigInt.
// Keep both drivers returning the same shapes.
export const pgliteParsers = { [PG_INT8]: (value: string) => value }

export function openPostgres (url: string, poolSize: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Fail fast when the server is unreachable instead of queueing requests behind a hang.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // JIT compilation pays off for long analytical queries, never for ours: a misestimated plan
    // once spent 300 ms compiling a query that runs in 1 ms.
    options: '-c jit=off'
  })
  // An idle client whose backend dies (server restart, pg_terminate_backend) emits 'error' on
  // the pool; unhandled, that would crash the process. The next query simply reconnects.
  pool.on('error', () => {})
  // The same can happen to a client that is checked out between two queries (in a
  // transaction): without a listener of its own its 'error' would be uncaught and end the
  // process. The query in flight, if any, still fails on its own.
  pool.on('connect', (client) => {
    client.on('error', () => {})
    preparePlainSelects(client)
  })
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  return {
    ...makeDatabase(db, 'postgres', false, undefined, (channel, onNotify) => listenOnPostgres(url, channel, onNotify)),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize })
  }
}

// Planning a post list (partial indexes to choose from, correlated subqueries for authors and
// tags) took longer than running it: ~2.5 ms against ~1 ms. A named statement is parsed once
// per connection, and PostgreSQL then settles on a cached plan. Every SELECT that Kysely sends
// gets a name from its text; the number of distinct texts is bounded (query shapes are few, but
// IN lists of varying length make new ones), past which queries go unnamed as before.
const MAX_NAMED_STATEMENTS = 500
const statementNames = new Map<string, string>()

function statementName (text: string): string | undefined {
  let name = statementNames.get(text)
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `k${createHash('sha1').update(text).digest('base64url')}`
    statementNames.set(text, name)
  }
  return name
}

function preparePlainSelects (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    // Full-text queries stay unnamed: whether to walk the newest-first index or the GIN index
    // depends on how common the words are, which only a plan made for the values can see.
    if (typeof config === 'string' && config.startsWith('select ') && !config.includes('to_tsquery') &&
      Array.isArray(values) && callback === undefined) {
      const name = statementName(config)
      if (name !== undefined) return query({ name, text: config, values })
    }
    return callback === undefined ? query(config, values) : query(config, values, callback)
  }
}

/**
 * LISTEN needs a connection of its own, kept open; when it drops (a restart, a terminated
 * backend) it reconnects, and signals once in case a notification was missed meanwhile.
 */
async function listenOnPostgres (url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined
  let stopped = false
  let retry: NodeJS.Timeout | undefined
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
    next.on('notification', (message) => { if (message.channel === channel) onNotify() })
    next.on('error', () => {})
    next.on('end', () => { if (!stopped) schedule() })
    try {
      await next.connect()
      await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
      client = next
      onNotify()
    } catch {
      await next.end().catch(() => {})
      schedule()
    }
  }
  const schedule = () => {
    if (stopped || retry !== undefined) return
    retry = setTimeout(() => { retry = undefined; void connect() }, 1_000)
    retry.unref()
  }
  await connect()
  return async () => {
    stopped = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  }
}

/** Wraps an open PGlite instance (tests restore one from a migrated template). */
export function wrapPGlite (pglite: PGlite, created = false): Database {
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) })
  // Kysely closes PGlite only if it ever ran a query on it; close it here in any case, or an
  // unused instance would keep the process alive.
  return makeDatabase(db, 'embedded', created, async () => { if (!pglite.closed) await pglite.close() },
    async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, () => onNotify())
      return async () => { if (!pglite.closed) await unlisten() }
    })
}

// SQLSTATE classes and driver errors that mean "the database is not there" rather than "this
// query is wrong": connection exceptions (08), operator intervention such as a shutdown or a
// terminated backend (57P0x), an unknown database (3D000), too many connections (53300), a
// database not accepting connections (55000).
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[1-4]|3D000|53300|55000)$/
const UNAVAILABLE_MESSAGES = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|is not queryable|not currently accepting connections|timeout exceeded when trying to connect|Cannot use a pool after calling end|PGlite is clos|PGlite instance is already closed|database did not answer/

export function isDatabaseUnavailableError (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && UNAVAILABLE_SQLSTATES.test(code)) ||
    (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|TIMEDOUT|HOSTUNREACH)$/.test(code)) ||
    (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message))
}

/**
 * A database that is never connected: enough to build the app and read its routes and OpenAPI
 * document (`npm run openapi`) on a machine with no database at all. Any query fails.
 */
export function offlineDatabase (): Database {
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler()
    }
  })
  return { ...makeDatabase(db, 'postgres', false), ping: async () => { throw new Error('offline database') } }
}

type Listen = Database['listen']

function makeDatabase (db: Kysely<DB>, kind: DatabaseKind, created: boolean, afterDestroy?: () => Promise<void>, listen?: Listen): Database {
  let closed: Promise<void> | undefined
  return {
    db,
    kind,
    created,
    async ping (timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs)
      })
      try {
        await Promise.race([sql`SELECT 1`.execute(db), timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    listen: listen ?? (async () => async () => {}),
    close () {
      closed ??= db.destroy().then(afterDestroy)
      return closed
    }
  }
}
