import type { FastifyInstance } from 'fastify'

// What an API process does beside answering requests (scheduled publishing, webhook delivery,
// the WebSub publisher, change-log compaction, delivery pruning) runs the same way: from the
// moment the app is ready until it closes, woken by a timer, by every change (LISTEN/NOTIFY
// through app.changeSignal), or both. One run at a time: a wake during a run asks for one more
// run after it, so a burst of changes costs two runs, not one each, and a slow run is never
// overlapped by the next tick. Closing the app stops the waking and waits for the run in flight,
// so the database closes only after it.

export interface BackgroundJob {
  /** What failed, for the log: "<failure>; will retry". */
  failure: string
  /** One run. `stopped` turns true when the app closes; a long run checks it between batches. */
  run: (stopped: () => boolean) => Promise<void>
  /** Wake every so often (also what retries a failed run when there is no `retryAfterFailure`). */
  everyMs?: number
  /** Wake on every change written, by this process or another. */
  onChanges?: boolean
  /** After a failure, wake again after a pause that doubles up to `maxMs`; a success resets it. */
  retryAfterFailure?: { firstMs: number, maxMs: number }
}

export function runInBackground (app: FastifyInstance, job: BackgroundJob): void {
  let stopped = false
  let running: Promise<void> | undefined
  let again = false
  let timer: NodeJS.Timeout | undefined
  let retry: NodeJS.Timeout | undefined
  let pauseMs = job.retryAfterFailure?.firstMs ?? 0
  let unsubscribe = () => {}
  const isStopped = () => stopped
  const runOnce = async () => {
    try {
      await job.run(isStopped)
      pauseMs = job.retryAfterFailure?.firstMs ?? 0
    } catch (error) {
      if (job.retryAfterFailure === undefined) {
        app.log.warn({ err: error }, `${job.failure}; will retry`)
        return
      }
      app.log.warn({ err: error, retryInMs: pauseMs }, `${job.failure}; will retry`)
      retry = setTimeout(wake, pauseMs)
      retry.unref()
      pauseMs = Math.min(pauseMs * 2, job.retryAfterFailure.maxMs)
    }
  }
  function wake (): void {
    if (stopped) return
    if (running !== undefined) { again = true; return }
    clearTimeout(retry)
    running = runOnce().finally(() => {
      running = undefined
      if (again) { again = false; wake() }
    })
  }
  app.addHook('onReady', async () => {
    if (job.everyMs !== undefined) {
      timer = setInterval(wake, job.everyMs)
      timer.unref()
    }
    if (job.onChanges === true) unsubscribe = app.changeSignal.on(wake)
    wake()
  })
  app.addHook('onClose', async () => {
    stopped = true
    clearInterval(timer)
    clearTimeout(retry)
    unsubscribe()
    await running
  })
}
