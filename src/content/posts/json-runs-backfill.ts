import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Executor } from '../../db/database.ts'
import { storeMissingRuns } from './post-json.repository.ts'

// Posts written before the post_json_on_the_row migration, outside its window, have no JSON
// runs: their JSON is computed on every read, a deep page's or an old article's. This pass
// gives them theirs in the background, a batch at a time with a pause between (each batch is
// its own short transaction, so writers wait on no more than a batch's rows), from the moment
// the app is ready until none is left; then it stops for good (every later write has the
// trigger). Several processes may run it at once: SKIP LOCKED keeps them off each other's rows.

const BATCH = 500
const PAUSE_MS = 50

/** Stores every missing run, a batch at a time, until none is left or `stopped()`; returns how many posts got theirs. */
export async function storeAllMissingRuns (db: Executor, stopped: () => boolean = () => false, pauseMs = 0): Promise<number> {
  let total = 0
  while (!stopped()) {
    const stored = await storeMissingRuns(db, BATCH)
    total += stored
    if (stored === 0) break
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
