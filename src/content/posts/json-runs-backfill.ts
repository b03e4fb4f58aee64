import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { storeMissingRuns } from './post-json.repository.ts'

// A post has no JSON runs when it was written before they were kept and lies outside the window
// of the newest and scheduled posts that the migrations gave theirs (post_json_on_the_row, and
// post_json_runs_table, which moved them into a table of their own): its JSON is computed on
// every read, a deep page's or an old article's. This pass gives them theirs in the background,
// walking the posts in id order a batch at a time with a pause between (each batch is its own
// short transaction, so writers wait on no more than a batch's rows), from the moment the app is
// ready until it has walked them all; then it stops for good (every later write has the
// trigger). Several processes may run it at once: they take turns on the row that says where it
// stands.

const BATCH = 500
const PAUSE_MS = 50

/** Walks on, a batch at a time, until the pass is done or `stopped()`; returns how many posts got their runs. */
export async function storeAllMissingRuns (db: Kysely<DB>, stopped: () => boolean = () => false, pauseMs = 0): Promise<number> {
  let total = 0
  while (!stopped()) {
    const step = await storeMissingRuns(db, BATCH)
    total += step.stored
    if (step.done) break
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs).unref())
  }
  return total
}

async function jsonRunsBackfill (app: FastifyInstance): Promise<void> {
  let closing = false
  let running: Promise<unknown> = Promise.resolve()
  app.addHook('onReady', async () => {
    running = storeAllMissingRuns(app.db, () => closing, PAUSE_MS)
      .then((count) => { if (count > 0) app.log.info({ count }, 'stored the JSON runs of posts written before they were kept') })
      .catch((error: unknown) => app.log.warn({ err: error }, 'storing missing JSON runs failed; the next start tries again'))
  })
  app.addHook('onClose', async () => {
    closing = true
    await running
  })
}

export const jsonRunsBackfillPlugin = fp(jsonRunsBackfill, { name: 'json-runs-backfill', dependencies: ['core'] })
