import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { latestChangeSeq, listChanges, type ChangeRow } from './change-log.repository.ts'

// Each process follows the change log: on every notification (and after every write it served)
// it reads the public changes it has not applied yet, from the primary, and hands them in order
// to what keeps derived state: the response cache drops what went stale, replica reads move
// their floor past the change, the edge purger reports how far this process has come. One pass
// at a time; a pass asked for while one runs is the pass after it, which therefore sees every
// change committed by then.
//
// `epoch` moves on at every notification and local write: a response computed across a move
// may have read data from before the change, so no cache (ours or a shared one) keeps it.

export interface ChangeFollower {
  /** Moves on at every change notification and every write this process served. */
  readonly epoch: number
  /** The change log position applied so far; undefined until the first pass. */
  readonly appliedSeq: string | undefined
  /** Called with each batch of newly applied public changes, in order. */
  onChanges (listener: (rows: readonly ChangeRow[]) => void): void
  /** Called when the position was lost (start, a failed read): derived state must be dropped whole. */
  onReset (listener: () => void): void
  /** Called when a notification arrives, before the pass that applies it. */
  onSignal (listener: () => void): void
  /**
   * Called after every pass that read the log, with the position applied; `settled` is false
   * when a notification arrived during the pass (another pass follows).
   */
  onApplied (listener: (seq: string, settled: boolean) => Promise<void> | void): void
  /** Resolves once every change committed before the call has been applied. */
  catchUp (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { changeFollower: ChangeFollower }
  interface FastifyRequest {
    /** The change epoch when a GET arrived (-1 for other methods): see the onSend hook below. */
    changeEpochAtStart: number
  }
}

const CHANGE_BATCH = 500

async function changeFollower (app: FastifyInstance): Promise<void> {
  const changeListeners: Array<(rows: readonly ChangeRow[]) => void> = []
  const resetListeners: Array<() => void> = []
  const signalListeners: Array<() => void> = []
  const appliedListeners: Array<(seq: string, settled: boolean) => Promise<void> | void> = []
  let epoch = 0
  let appliedSeq: string | undefined
  // Notifications seen; a pass that started after the last one leaves nothing pending.
  let signals = 0

  const applyPending = async (): Promise<void> => {
    if (appliedSeq === undefined) {
      const newest = await latestChangeSeq(app.db)
      for (const listener of resetListeners) listener()
      appliedSeq = newest
      return
    }
    for (;;) {
      const rows = await listChanges(app.db, { afterSeq: appliedSeq, limit: CHANGE_BATCH, visibility: 'public' })
      if (rows.length > 0) {
        for (const listener of changeListeners) listener(rows)
        appliedSeq = rows[rows.length - 1]!.seq
      }
      if (rows.length < CHANGE_BATCH) return
    }
  }

  const runPass = async (): Promise<void> => {
    const signalsAtStart = signals
    try {
      await applyPending()
    } catch (error) {
      appliedSeq = undefined
      for (const listener of resetListeners) listener()
      app.log.warn({ err: error }, 'could not read the change log; derived state dropped, will start again from the newest change')
      return
    }
    if (appliedSeq === undefined) return
    const settled = signals === signalsAtStart
    for (const listener of appliedListeners) {
      try {
        await listener(appliedSeq, settled)
      } catch (error) {
        app.log.warn({ err: error }, 'a change follower listener failed')
      }
    }
  }

  let running: Promise<void> | undefined
  let next: Promise<void> | undefined
  const catchUp = (): Promise<void> => {
    if (running === undefined) {
      running = runPass().finally(() => { running = undefined })
      return running
    }
    next ??= running.then(() => {
      next = undefined
      return catchUp()
    })
    return next
  }

  const signal = () => {
    epoch++
    signals++
    for (const listener of signalListeners) listener()
  }

  app.changeSignal.on(() => {
    signal()
    void catchUp()
  })
  // Read-your-writes: a write through this process has committed by the time its response is
  // sent, so what it made stale is applied before the writer hears back (other processes
  // apply it when the notification reaches them).
  //
  // A public response computed across a change may show the data from before it, after the
  // edge cache was purged for it: shared caches are told not to keep it (the next reader
  // gets a fresh one). Callback-style hooks: they run on every request, cache hits included.
  // A request property, not a WeakMap: that was 1 % of a cache hit's CPU time.
  app.decorateRequest('changeEpochAtStart', -1)
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') request.changeEpochAtStart = epoch
    done()
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const started = request.changeEpochAtStart
      if (started !== -1 && started !== epoch) {
        const cacheControl = reply.getHeader('cache-control')
        if (typeof cacheControl === 'string' && /\bpublic\b/.test(cacheControl)) reply.header('cache-control', 'public, no-cache')
      }
      return done(null, payload)
    }
    if (request.method === 'OPTIONS' || reply.statusCode >= 400) return done(null, payload)
    signal()
    catchUp().then(() => done(null, payload), done)
  })
  // Ready only once the first pass has taken its position: that pass drops derived state whole
  // (it cannot know what changed before), and made after the first requests it threw away what
  // they had cached. A log that cannot be read does not hold the start: the pass logs it, and
  // the next signal or write tries again.
  app.addHook('onReady', async () => { await catchUp() })
  app.addHook('onClose', async () => { await running })

  app.decorate('changeFollower', {
    get epoch () { return epoch },
    get appliedSeq () { return appliedSeq },
    onChanges (listener) { changeListeners.push(listener) },
    onReset (listener) { resetListeners.push(listener) },
    onSignal (listener) { signalListeners.push(listener) },
    onApplied (listener) { appliedListeners.push(listener) },
    catchUp
  } satisfies ChangeFollower)
}

// After http-caching, so that its onSend has set Cache-Control when this one looks at it.
export const changeFollowerPlugin = fp(changeFollower, { name: 'change-follower', dependencies: ['core', 'change-log', 'http-caching'] })
