import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { listChanges } from '../../changes/change-log.repository.ts'
import { cursorPosition, withLeasedCursor } from '../../changes/cursor-leases.repository.ts'
import { staleKeysFor } from '../../changes/surrogate-keys.ts'
import { appliedByAll, forgetFollower, reportApplied } from './edge-purge.repository.ts'
import { KEYS_PER_REQUEST, purgeRequest } from './purge-request.ts'

// Purges the edge cache (EDGE_PURGE_URL) by surrogate key, precisely and in order: a purge may
// only be followed by a refill that sees the change. So a change's keys are purged only once
// every live API process has applied it: dropped its own cached copies and moved its replica
// floor past it (change-follower, read-routing), and a response computed across the change is
// marked no-cache. Each process reports how far it has applied the log (after every pass, and
// every second as a heartbeat); whichever finds that all live processes have passed the purge
// cursor sends the keys of the changes in between, then moves the cursor, holding the cursor's
// lease (cursor-leases.repository.ts). A failed purge moves nothing and is tried again at the
// next report.

const HEARTBEAT_MS = 1_000
/** A process that has not reported for this long (crashed, stuck) no longer holds purges back. */
const LIVE_SECONDS = 5
const REQUEST_TIMEOUT_MS = 5_000
const CHANGE_BATCH = 1_000
/** Longer than a purge should take (5 s a request at worst); a lease that runs out early only means keys purged twice. */
const LEASE_MS = 120_000

async function edgePurger (app: FastifyInstance): Promise<void> {
  const target = app.config.edgePurge
  if (target === undefined) return
  const processId = randomUUID()
  const requests = new Counter({
    name: 'edge_purge_requests_total',
    help: 'Purge requests sent to the edge cache (EDGE_PURGE_URL), by result.',
    labelNames: ['result'] as const,
    registers: [app.metrics.registry]
  })
  const purgedKeys = new Counter({ name: 'edge_purged_keys_total', help: 'Surrogate keys purged at the edge.', registers: [app.metrics.registry] })

  const send = async (keys: readonly string[]): Promise<void> => {
    for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) {
      const chunk = keys.slice(i, i + KEYS_PER_REQUEST)
      const { url, init } = purgeRequest(target, chunk)
      let res: Response
      try {
        res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        await res.arrayBuffer()
      } catch (error) {
        requests.inc({ result: 'failed' })
        throw new Error(`edge purge request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
      }
      if (!res.ok) {
        requests.inc({ result: 'failed' })
        throw new Error(`edge purge answered ${res.status}`)
      }
      requests.inc({ result: 'sent' })
      purgedKeys.inc(chunk.length)
    }
  }

  /** The keys the public changes after `after`, through `through`, made stale. */
  const staleKeysBetween = async (after: string, through: string): Promise<Set<string>> => {
    const keys = new Set<string>()
    for (let from = after; ;) {
      const rows = await listChanges(app.db, { afterSeq: from, throughSeq: through, limit: CHANGE_BATCH, visibility: 'public' })
      for (const row of rows) for (const key of staleKeysFor(row)) keys.add(key)
      if (rows.length < CHANGE_BATCH) return keys
      from = rows[rows.length - 1]!.seq
    }
  }

  /** Purges what every live process has applied and nobody has purged yet; the cursor is leased, so no transaction waits on the edge. */
  const purgeApplied = async () => {
    // Most reports (a heartbeat a second) find nothing to purge: no lease taken for those.
    const upTo = await appliedByAll(app.db, LIVE_SECONDS)
    if (upTo === undefined || BigInt(upTo) <= BigInt(await cursorPosition(app.db, 'edge-purge'))) return
    // While another process holds the lease, its next report, or this one's, sends what is left.
    await withLeasedCursor(app.db, 'edge-purge', LEASE_MS, async (from) => {
      if (BigInt(upTo) <= BigInt(from)) return undefined
      const keys = await staleKeysBetween(from, upTo)
      if (keys.size > 0) await send([...keys])
      return upTo
    })
  }

  // One purge at a time in this process; a report meanwhile asks for one more after it.
  let purging: Promise<void> | undefined
  let again = false
  const purgeSoon = () => {
    if (purging !== undefined) {
      again = true
      return
    }
    purging = purgeApplied()
      .catch((error: unknown) => { app.log.warn({ err: error }, 'edge purge failed; it is sent again at the next report') })
      .finally(() => {
        purging = undefined
        if (again) {
          again = false
          purgeSoon()
        }
      })
  }

  // Reported on every pass (settled or not: this process has applied `seq` either way, and its
  // replica reads are held until they are past it). The purge runs apart, so that a slow edge
  // never delays the next pass.
  app.changeFollower.onApplied(async (seq) => {
    await reportApplied(app.db, processId, seq)
    purgeSoon()
  })
  const heartbeat = setInterval(() => { void app.changeFollower.catchUp() }, HEARTBEAT_MS)
  heartbeat.unref()
  app.addHook('onClose', async () => {
    clearInterval(heartbeat)
    await purging
    await forgetFollower(app.db, processId).catch(() => {})
  })
}

export const edgePurgerPlugin = fp(edgePurger, { name: 'edge-purger', dependencies: ['core', 'metrics', 'change-follower', 'read-routing'] })
