import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { latestChangeSeq } from '../changes/change-log.repository.ts'
import { analyzeAll, plannedRows } from '../db/planner-statistics.ts'
import { runInBackground } from './background-job.ts'

// PostgreSQL keeps the planner's statistics fresh with autovacuum, a server process of its own.
// The embedded database (PGlite: one backend, single-user) has none, and its activity counters
// (pg_stat_user_tables.n_mod_since_analyze) stay at zero, so its statistics were those of the
// migrations' empty tables for good: the planner took the posts table for empty and chose plans
// that are quadratic in it. Ghost's `filter=tag:x` for a tag no post has walked every post once
// for each post: 2.1 s for 485 posts, holding the one connection the embedded database has
// (on PostgreSQL with statistics as stale, 15 s for 3,400 posts, 26 ms after an ANALYZE). So on
// the embedded database this job does autovacuum's analyzing: it counts the writes since its
// last ANALYZE by the change log (every write of content appends a row) and analyzes once they
// pass autovacuum's own threshold, 50 rows plus a tenth of the posts
// (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor). Woken by every write, so a
// bulk import is analyzed while it goes on, and once at start: the statistics a data directory
// was left with are not known.

const BASE_THRESHOLD = 50
const SCALE_FACTOR = 0.1
const CHECK_EVERY_MS = 60_000

async function plannerStatistics (app: FastifyInstance): Promise<void> {
  if (app.database.kind !== 'embedded') return
  let analyzedAt: bigint | undefined
  runInBackground(app, {
    failure: 'analyzing the embedded database failed',
    onChanges: true,
    everyMs: CHECK_EVERY_MS,
    run: async () => {
      const head = BigInt(await latestChangeSeq(app.db))
      if (analyzedAt !== undefined) {
        const threshold = BASE_THRESHOLD + SCALE_FACTOR * await plannedRows(app.db, 'posts')
        if (Number(head - analyzedAt) < threshold) return
      }
      await analyzeAll(app.db)
      analyzedAt = head
      app.log.debug({ changeSeq: head.toString() }, 'analyzed the embedded database')
    }
  })
}

export const plannerStatisticsPlugin = fp(plannerStatistics, { name: 'planner-statistics', dependencies: ['core', 'change-log'] })
