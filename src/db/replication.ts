import { AsyncLocalStorage } from 'node:async_hooks'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'
import pg from 'pg'

// Reads from streaming replicas, writes to the primary. Kysely sees one pool; each connection
// it takes is bound on its first statement: a plain SELECT made inside `runReads` (a public GET)
// goes to a replica that has replayed far enough, anything else (a transaction, a write, work a
// request set off in the background) to the primary. Correctness rests on two floors:
// - the writer's: a write's response carries the primary's WAL position after its commit
//   (`Content-Api-Read-After`), and a read that sends it back, or comes with the same key to
//   this process, is answered only by a replica that has replayed that far;
// - the process's: while the change follower applies a notification, reads go to the primary,
//   and afterwards only to replicas past the position it saw. So nothing this process serves
//   or caches is older than the newest change it has applied, and an edge purge (sent once
//   every process has applied the change) is never refilled from a lagging replica.
// Replicas are checked every REPLICA_CHECK_MS (faster while one catches up to a new floor); one
// that does not answer, or lags more than the limit, leaves the rotation until it is back.

const REPLICA_CHECK_MS = 250
/** After a write, replicas are checked this often until they reach it (or for a second). */
const CATCH_UP_CHECK_MS = 15
const CATCH_UP_WINDOW_MS = 1_000

/** A write-ahead log position as PostgreSQL prints it (`16/B374D848`), or undefined. */
export function parseLsn (text: string): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim())
  if (match === null) return undefined
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`)
}

export function formatLsn (lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xFFFFFFFFn).toString(16).toUpperCase()}`
}

export type ReplicaState = 'in_rotation' | 'lagging' | 'down'

export interface ReplicaStatus {
  /** host:port/database, without credentials. */
  name: string
  state: ReplicaState
  /** The last position it had replayed when checked; null before the first answer. */
  replayed: string | null
  lagBytes: number | null
  lagSeconds: number | null
  /** Why it is out of rotation, when it is. */
  reason: string | null
}

export type ReadTarget = 'replica' | 'primary' | 'fallback'

export interface Replication {
  /** Runs `next` (and all it sets off) with SELECTs allowed on a replica that replayed `after`. */
  runReads (after: bigint, next: () => void): void
  /** The primary's WAL position now: every transaction committed so far ends at or before it. */
  primaryPosition (): Promise<bigint>
  /** The change follower is applying a notification: reads go to the primary until released. */
  holdReads (): void
  /** Replicas may answer again once they have replayed `position`. */
  releaseReads (position: bigint): void
  statuses (): ReplicaStatus[]
  /** How routable SELECTs went: replica, primary (no replica far enough), fallback (a replica failed mid-read). */
  readonly reads: Record<ReadTarget, number>
  readonly maxLagSeconds: number
  close (): Promise<void>
}

interface ReadIntent { after: bigint }

interface Replica {
  name: string
  pool: pg.Pool
  state: ReplicaState
  replayed: bigint | undefined
  lagBytes: number | null
  lagSeconds: number | null
  reason: string | null
}

/** Connection-level failures: the server went away or refuses; the statement itself was fine. */
function isConnectionFailure (error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && /^(08|57P)/.test(code)) return true
  const message = error instanceof Error ? error.message : ''
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message) ||
    (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT)$/.test(code))
}

/**
 * A replica cancelled the statement because replaying the primary's log conflicted with it
 * (after max_standby_streaming_delay): an ACCESS EXCLUSIVE lock taken on the primary, a vacuum
 * removing row versions the read's snapshot still sees. PostgreSQL reports it as a
 * serialization failure (40001), or a deadlock (40P01) when the read waited on the replayed
 * lock; on a hot standby, whose transactions only read, nothing else raises either.
 */
function isRecoveryConflict (error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === '40001' || code === '40P01'
}

// Work whose reads must not go to a replica: a read-only transaction that its replica failed
// part way through, run again (readOnPrimary). Module-wide, as the retry's caller knows the
// executor and not which pools are behind it.
const pinnedToPrimary = new AsyncLocalStorage<true>()

/** Errors of a replica's statement after a connection's first, that the primary could answer. */
const replicaFailures = new WeakSet<object>()

/**
 * Whether a statement failed because of the replica it ran on (a recovery conflict, or the
 * replica's connection lost), after its connection's first statement had bound it there:
 * the routing sends a first statement so failed to the primary itself, but a later one belongs
 * to a transaction whose earlier statements read the replica's snapshot. Only the whole
 * transaction can run again: readOnPrimary.
 */
export function failedOnReplica (error: unknown): boolean {
  return typeof error === 'object' && error !== null && replicaFailures.has(error)
}

/** Runs `work` (and all it sets off) with every read on the primary. */
export function readOnPrimary<T> (work: () => Promise<T>): Promise<T> {
  return pinnedToPrimary.run(true, work)
}

function replicaName (url: string): string {
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`
}

/**
 * Kysely's SELECTs are lowercase `select `; `with` queries may write, so they stay on the primary.
 * A read-only transaction (a search's time limit: db/time-budget.ts) cannot write either; its
 * later statements follow on the connection its first one was bound to.
 */
function isRoutableRead (text: string): boolean {
  return text.startsWith('select ') || text === 'start transaction read only'
}

export interface ReplicationOptions {
  primary: pg.Pool
  replicaUrls: readonly string[]
  poolSize: number
  maxLagSeconds: number
  /** The primary's session settings (postgres.ts): replicas' connections start with the same. */
  startSession: (client: pg.ClientBase) => Promise<void>
  onPoolClient: (client: pg.PoolClient) => void
  log: (level: 'info' | 'warn', message: string, details: Record<string, unknown>) => void
}

export interface ReplicatedPools { pool: PostgresPool, replication: Replication }

export function replicatedPools (options: ReplicationOptions): ReplicatedPools {
  const { primary, maxLagSeconds } = options
  const intents = new AsyncLocalStorage<ReadIntent>()
  const reads: Record<ReadTarget, number> = { replica: 0, primary: 0, fallback: 0 }
  const replicas: Replica[] = options.replicaUrls.map((url) => {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      // A replica that does not answer at once is skipped; the primary answers instead.
      connectionTimeoutMillis: 1_000,
      idleTimeoutMillis: 30_000,
      onConnect: options.startSession
    })
    pool.on('error', () => {})
    pool.on('connect', (client) => {
      client.on('error', () => {})
      options.onPoolClient(client)
    })
    return { name: replicaName(url), pool, state: 'down', replayed: undefined, lagBytes: null, lagSeconds: null, reason: 'not checked yet' }
  })

  // The process's floor: undefined while the change follower applies a notification.
  let floor: bigint | undefined = 0n
  let nextReplica = 0

  const pick = (): Replica | undefined => {
    const intent = intents.getStore()
    if (intent === undefined || floor === undefined || pinnedToPrimary.getStore() === true) return undefined
    const needed = intent.after > floor ? intent.after : floor
    for (let i = 0; i < replicas.length; i++) {
      const replica = replicas[(nextReplica + i) % replicas.length]!
      if (replica.state === 'in_rotation' && replica.replayed !== undefined && replica.replayed >= needed) {
        nextReplica = (nextReplica + i + 1) % replicas.length
        return replica
      }
    }
    return undefined
  }

  const setState = (replica: Replica, state: ReplicaState, reason: string | null) => {
    if (replica.state !== state) {
      if (state === 'in_rotation') options.log('info', 'replica in rotation', { replica: replica.name })
      else options.log('warn', 'replica out of rotation', { replica: replica.name, state, reason })
    }
    replica.state = state
    replica.reason = reason
  }

  /** A later statement on `replica` failed: marks what the primary could answer (failedOnReplica). */
  const laterStatementFailed = (replica: Replica, error: unknown): unknown => {
    const connectionLost = isConnectionFailure(error)
    if (connectionLost) setState(replica, 'down', error instanceof Error ? error.message : String(error))
    if ((connectionLost || isRecoveryConflict(error)) && typeof error === 'object' && error !== null) replicaFailures.add(error)
    return error
  }

  /** One connection of Kysely's, bound on its first statement to a replica or the primary. */
  class RoutedClient {
    #client: pg.PoolClient | undefined
    #replica: Replica | undefined

    async query<R> (text: unknown, values?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
      if (typeof text !== 'string') throw new Error('cursors are not routed')
      if (this.#client !== undefined) {
        const result = this.#client.query(text, values as unknown[]) as unknown as Promise<PostgresQueryResult<R>>
        const replica = this.#replica
        return replica === undefined ? result : result.catch((error: unknown) => { throw laterStatementFailed(replica, error) })
      }
      const routable = isRoutableRead(text) && intents.getStore() !== undefined
      const replica = routable ? pick() : undefined
      if (replica !== undefined) {
        try {
          this.#client = await replica.pool.connect()
          const result = await this.#client.query(text, values as unknown[])
          this.#replica = replica
          reads.replica++
          return result as unknown as PostgresQueryResult<R>
        } catch (error) {
          if (isRecoveryConflict(error)) {
            // The replica is well; replaying the primary's log had to cancel this read (a lock
            // or a row version it needed). The primary has neither conflict: it answers instead.
            this.#client?.release()
          } else if (isConnectionFailure(error)) {
            setState(replica, 'down', error instanceof Error ? error.message : String(error))
            this.#client?.release(true)
          } else {
            throw error
          }
          this.#client = undefined
          reads.fallback++
        }
      } else if (routable) {
        // A transaction run again on the primary after its replica failed it (readOnPrimary)
        // counts where the statement the replica failed would have.
        if (pinnedToPrimary.getStore() === true) reads.fallback++
        else reads.primary++
      }
      this.#client = await primary.connect()
      return this.#client.query(text, values as unknown[]) as unknown as Promise<PostgresQueryResult<R>>
    }

    release (destroy?: boolean): void {
      this.#client?.release(destroy)
      this.#client = undefined
      this.#replica = undefined
    }
  }

  // Primary positions seen lately, oldest first: how long a replica has lagged is the time since
  // the primary first had something the replica has not replayed.
  const history: Array<{ at: number, lsn: bigint }> = []
  const historyLimit = Math.ceil((maxLagSeconds * 1000 * 4) / REPLICA_CHECK_MS) + 8
  let latestPrimary: bigint | undefined

  const primaryPosition = async (): Promise<bigint> => {
    const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
    return parseLsn(rows[0]!.lsn)!
  }

  const checkReplica = async (replica: Replica): Promise<void> => {
    let row: { lsn: string | null, recovering: boolean }
    try {
      const { rows } = await replica.pool.query<{ lsn: string | null, recovering: boolean }>(
        'SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_in_recovery() AS recovering')
      row = rows[0]!
    } catch (error) {
      setState(replica, 'down', error instanceof Error ? error.message : String(error))
      return
    }
    // A promoted replica is a second primary with its own history: never read from it.
    const replayed = row.lsn === null ? undefined : parseLsn(row.lsn)
    if (!row.recovering || replayed === undefined) return setState(replica, 'down', 'not a streaming replica (not in recovery)')
    replica.replayed = replayed
    const now = Date.now()
    if (latestPrimary === undefined || replayed >= latestPrimary) {
      replica.lagBytes = 0
      replica.lagSeconds = 0
    } else {
      replica.lagBytes = Number(latestPrimary - replayed)
      const since = history.find((sample) => sample.lsn > replayed)?.at ?? history[0]?.at ?? now
      replica.lagSeconds = (now - since) / 1000
    }
    if (replica.lagSeconds > maxLagSeconds) setState(replica, 'lagging', `${replica.lagSeconds.toFixed(1)} s behind the primary (limit ${maxLagSeconds} s)`)
    else setState(replica, 'in_rotation', null)
  }

  const check = async (): Promise<void> => {
    try {
      latestPrimary = await primaryPosition()
      const last = history[history.length - 1]
      if (last === undefined || last.lsn !== latestPrimary) history.push({ at: Date.now(), lsn: latestPrimary })
      if (history.length > historyLimit) history.splice(0, history.length - historyLimit)
    } catch {
      // The primary not answering is /readyz's business; replicas are still checked.
    }
    await Promise.all(replicas.map(checkReplica))
  }

  let closed = false
  let timer: NodeJS.Timeout | undefined
  let checking: Promise<void> | undefined
  const loop = () => {
    if (closed) return
    checking = check().finally(() => {
      checking = undefined
      timer = setTimeout(loop, REPLICA_CHECK_MS)
      timer.unref()
    })
  }
  loop()

  // After a new floor, look often until every replica in rotation has it, so reads return to
  // the replicas within milliseconds of a write instead of at the next regular check.
  let catchUpUntil = 0
  let catchUpTimer: NodeJS.Timeout | undefined
  const watchCatchUp = () => {
    catchUpUntil = Date.now() + CATCH_UP_WINDOW_MS
    if (catchUpTimer !== undefined) return
    const step = async () => {
      await Promise.all(replicas.filter((r) => r.state === 'in_rotation').map(checkReplica))
      const behind = floor !== undefined && replicas.some((r) => r.state === 'in_rotation' && (r.replayed ?? 0n) < floor!)
      if (!closed && behind && Date.now() < catchUpUntil) {
        catchUpTimer = setTimeout(() => { void step() }, CATCH_UP_CHECK_MS)
        catchUpTimer.unref()
      } else {
        catchUpTimer = undefined
      }
    }
    catchUpTimer = setTimeout(() => { void step() }, CATCH_UP_CHECK_MS)
    catchUpTimer.unref()
  }

  let ended: Promise<void> | undefined
  const pool: PostgresPool = {
    options: primary.options,
    // Kysely calls query(text, values) only: cursors (streaming) are not used.
    connect: async () => new RoutedClient() as unknown as PostgresPoolClient,
    end: () => {
      ended ??= (async () => {
        closed = true
        clearTimeout(timer)
        clearTimeout(catchUpTimer)
        await checking
        await Promise.all([primary.end(), ...replicas.map((r) => r.pool.end())])
      })()
      return ended
    }
  }

  const replication: Replication = {
    runReads: (after, next) => intents.run({ after }, next),
    primaryPosition,
    holdReads () { floor = undefined },
    releaseReads (position) {
      floor = position
      if (replicas.some((r) => r.state === 'in_rotation' && (r.replayed ?? 0n) < position)) watchCatchUp()
    },
    statuses: () => replicas.map((r) => ({
      name: r.name,
      state: r.state,
      replayed: r.replayed === undefined ? null : formatLsn(r.replayed),
      lagBytes: r.lagBytes,
      lagSeconds: r.lagSeconds,
      reason: r.reason
    })),
    reads,
    maxLagSeconds,
    close: () => pool.end()
  }
  return { pool, replication }
}
