import { CompiledQuery, Kysely, PostgresDialect, PostgresDriver, type DatabaseConnection, type Dialect, type PostgresDialectConfig, type TransactionSettings } from 'kysely'
import pg from 'pg'
import { sparingGoneClients } from './client-presence.ts'
import { makeDatabase, type Database } from './database.ts'
import { nameReadStatements } from './named-statements.ts'
import { replicatedPools } from './replication.ts'
import type { DB } from './schema.ts'
import { readTimestampsFast } from './timestamps.ts'

/** A `pg` pool behind Kysely, with LISTEN on a connection of its own. */
export interface PostgresOptions {
  url: string
  poolSize: number
  /** Streaming replicas for public reads (replication.ts); none by default. */
  replicaUrls?: readonly string[]
  maxReplicaLagSeconds?: number
  /** How long PostgreSQL lets a statement run outside a read-write transaction (ms); 0 or undefined: no limit. */
  statementTimeoutMs?: number
  /**
   * 'transaction': a pooler hands out server connections per transaction (PgBouncer's
   * pool_mode = transaction), so nothing may be kept on one between transactions: no named
   * statements, no session settings. Default 'session'.
   */
  poolMode?: 'session' | 'transaction'
  /** Where to LISTEN (a connection held for the process's life): default `url`. */
  listenUrl?: string
  log?: (level: 'info' | 'warn', message: string, details: Record<string, unknown>) => void
}

export function openPostgres ({ url, poolSize, replicaUrls = [], maxReplicaLagSeconds = 5, statementTimeoutMs = 0, poolMode = 'session', listenUrl = url, log = () => {} }: PostgresOptions): Database {
  readTimestampsFast()
  const perTransaction = poolMode === 'transaction'
  // Through a transaction pool a SET would stay on whichever server connection ran it: the
  // role's own settings apply instead (README, DATABASE_POOL_MODE).
  const startSession = perTransaction ? async () => {} : sessionSettings(statementTimeoutMs)
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Fail fast when the server is unreachable instead of queueing requests behind a hang.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    onConnect: startSession
  })
  // An idle client whose backend dies (server restart, pg_terminate_backend) emits 'error' on
  // the pool; unhandled, that would crash the process. The next query simply reconnects.
  pool.on('error', () => {})
  // The same can happen to a client that is checked out between two queries (in a
  // transaction): without a listener of its own its 'error' would be uncaught and end the
  // process. The query in flight, if any, still fails on its own.
  const onPoolClient = (client: pg.PoolClient) => {
    client.on('error', () => {})
    nameReadStatements(client, { named: !perTransaction })
  }
  pool.on('connect', onPoolClient)
  const replicated = replicaUrls.length === 0
    ? undefined
    : replicatedPools({ primary: pool, replicaUrls, poolSize, maxLagSeconds: maxReplicaLagSeconds, startSession, onPoolClient, log })
  const dialectConfig: PostgresDialectConfig = { pool: replicated?.pool ?? pool }
  // Through a transaction pool the role may carry a statement timeout: writes lift it all the same.
  const dialect = statementTimeoutMs > 0 || perTransaction ? writesRunToTheirEnd(dialectConfig) : new PostgresDialect(dialectConfig)
  const db = new Kysely<DB>({ dialect: sparingGoneClients(dialect) })
  return {
    ...makeDatabase(db, 'postgres', false, undefined, (channel, onNotify) => listenOnPostgres(listenUrl, channel, onNotify)),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize }),
    ...(replicated === undefined ? {} : { replication: replicated.replication })
  }
}

/**
 * The settings every connection starts with (replicas' too), sent as it opens, before anything
 * else runs on it. Not as the startup packet's `options`: connection poolers refuse a
 * connection that carries them (PgBouncer: "unsupported startup parameter: options"), and the
 * API could not start behind one. A connection whose settings fail is closed, and the query
 * that wanted it fails with the reason.
 * JIT compilation pays off for long analytical queries, never for ours: a misestimated plan once
 * spent 300 ms compiling a query that runs in 1 ms. Parallel workers neither: under LIMIT they
 * race ahead of what the leader needs (a full-text page read 1,035 rows in 142 ms with two
 * workers, 57 rows in 3.9 ms without), and they take cores other requests need.
 * statement_timeout: PostgreSQL runs a statement to its end though the client that asked has
 * long gone (a request that timed out, a closed connection); a read that runs away (a plan gone
 * wrong, a lock it waits on) holds a pool connection and a backend for as long as it runs, and
 * the requests behind it wait for the pool. PostgreSQL cancels it when its time is up.
 */
function sessionSettings (statementTimeoutMs: number): (client: pg.ClientBase) => Promise<void> {
  const timeout = statementTimeoutMs > 0 ? `; SET statement_timeout = ${Math.round(statementTimeoutMs)}` : ''
  const settings = `SET jit = off; SET max_parallel_workers_per_gather = 0${timeout}`
  return async (client) => { await client.query(settings) }
}

/**
 * PostgreSQL's dialect, but a read-write transaction lifts the statement timeout for itself
 * (SET LOCAL: until it ends). What a transaction writes is the editor's or the system's work
 * that must finish once begun: renaming a tag on a million posts, a migration, the JSON-runs
 * backfill, the scheduler; cancelled halfway it would be rolled back and tried again to the same
 * end. Reads in a read-only transaction (the searches' time budget, db/time-budget.ts) keep it.
 */
function writesRunToTheirEnd (config: PostgresDialectConfig): Dialect {
  const dialect = new PostgresDialect(config)
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new WritesUnlimitedDriver(config),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler()
  }
}

class WritesUnlimitedDriver extends PostgresDriver {
  // BEGIN and the SET LOCAL in one simple-query message: one round trip, not two (Kysely's own
  // BEGIN, then the setting, cost every write transaction one more). The text is Kysely's.
  override async beginTransaction (connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.accessMode === 'read only') return await super.beginTransaction(connection, settings)
    const isolation = settings.isolationLevel === undefined ? '' : ` isolation level ${settings.isolationLevel}`
    const begin = isolation === '' && settings.accessMode === undefined ? 'begin' : `start transaction${isolation}${settings.accessMode === undefined ? '' : ` ${settings.accessMode}`}`
    await connection.executeQuery(CompiledQuery.raw(`${begin}; SET LOCAL statement_timeout = 0`))
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
