import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { Counter } from 'prom-client'
import { compactChanges } from '../changes/change-log.repository.ts'
import type { DB } from '../db/schema.ts'
import { runInBackground } from './background-job.ts'
import { fanoutPosition } from './webhooks/webhooks.repository.ts'

// The change log gets a row for every write. Compaction (change-log.repository.ts,
// compactChanges) deletes the rows a newer row of the same resource makes redundant once they
// are CHANGE_LOG_COMPACT_AFTER_DAYS old, so the log grows with the number of resources, not of
// writes. Never past webhook fan-out: a webhook hears of every event, not only the latest. The
// other readers need only each resource's latest row: sync clients (their state is the same
// from any cursor), the response cache and the edge purge (their keys name the resource); the
// WebSub publisher also needs the rows that name feeds a post left, which compaction keeps.

const BATCH = 5_000
const INTERVAL_MS = 15 * 60_000

/** Compacts as far as is allowed now, a batch per transaction; returns the rows deleted. Safe to run in several processes at once. */
export async function compactChangeLog (db: Kysely<DB>, compactAfterMs: number, shouldStop: () => boolean = () => false): Promise<number> {
  let deleted = 0
  while (!shouldStop()) {
    const pass = await db.transaction().execute(async (tx) => {
      const through = await fanoutPosition(tx)
      return compactChanges(tx, { through, olderThan: new Date(Date.now() - compactAfterMs), batch: BATCH })
    })
    // Another process is compacting; it will go on from where this one stops.
    if (pass === undefined) return deleted
    deleted += pass.deleted
    if (pass.reached === pass.from) return deleted
  }
  return deleted
}

/** A pass when the app is ready, then every 15 minutes, until it closes. */
async function changeLogCompaction (app: FastifyInstance): Promise<void> {
  const compacted = new Counter({ name: 'change_log_compacted_rows_total', help: 'Change-log rows deleted by compaction (CHANGE_LOG_COMPACT_AFTER_DAYS).', registers: [app.metrics.registry] })
  runInBackground(app, {
    failure: 'change-log compaction failed',
    everyMs: INTERVAL_MS,
    run: async (stopped) => {
      const count = await compactChangeLog(app.db, app.config.changeLogCompactAfterMs, stopped)
      compacted.inc(count)
      if (count > 0) app.log.info({ count }, 'compacted the change log')
    }
  })
}

export const changeLogCompactionPlugin = fp(changeLogCompaction, { name: 'change-log-compaction', dependencies: ['core', 'metrics', 'change-log'] })
