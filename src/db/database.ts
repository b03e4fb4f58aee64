import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type Transaction } from 'kysely'
import type { Config } from '../config.ts'
import { openPostgres } from './postgres.ts'
import type { Replication, ReplicationOptions } from './replication.ts'

type ReplicationLog = ReplicationOptions['log']
import type { DB } from './schema.ts'

// One interface over both databases the API runs on: PostgreSQL (postgres.ts) and the embedded
// PGlite (pglite.ts). Both speak the same SQL through Kysely, on the same migrations.

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
  /** Streaming replicas, when DATABASE_REPLICA_URL names any (PostgreSQL only). */
  replication?: Replication
  close (): Promise<void>
}

export interface PoolStats { total: number, idle: number, waiting: number, max: number }

/** Opens the database the configuration names: PostgreSQL, or PGlite under DATA_DIR. */
export async function openDatabase (config: Config['database'], log?: ReplicationLog): Promise<Database> {
  if (config.kind === 'postgres') {
    return openPostgres({ url: config.url, poolSize: config.poolSize, replicaUrls: config.replicaUrls, maxReplicaLagSeconds: config.maxReplicaLagSeconds, statementTimeoutMs: config.statementTimeoutMs, poolMode: config.poolMode, listenUrl: config.listenUrl, log })
  }
  // Loaded only when it is used: the embedded database's module alone is 27 MB of a process's
  // memory and 0.3 s of its start, which a server on PostgreSQL would carry for nothing.
  const { openPGlite } = await import('./pglite.ts')
  return openPGlite(config.dataDir)
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

export function makeDatabase (db: Kysely<DB>, kind: DatabaseKind, created: boolean, afterDestroy?: () => Promise<void>, listen?: Listen): Database {
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
