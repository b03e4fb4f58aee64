import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CHANGES_CHANNEL } from './change-log.repository.ts'

// One LISTEN per process on the change channel (PostgreSQL LISTEN/NOTIFY, or PGlite's own),
// fanned out in memory to whatever waits: long-polling sync clients, the webhook dispatcher,
// the response cache.

export interface ChangeSignal {
  /** Resolves true when a change is signalled within timeoutMs, false otherwise (or when aborted or closing). */
  wait (timeoutMs: number, abort?: AbortSignal): Promise<boolean>
  /** Calls `listener` on every signal; returns how to stop. */
  on (listener: () => void): () => void
  /** Aborted when the process starts to close: long waits end with it, and none starts after. */
  readonly closing: AbortSignal
}

declare module 'fastify' {
  interface FastifyInstance { changeSignal: ChangeSignal }
}

async function changeLog (app: FastifyInstance): Promise<void> {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  const stop = await app.database.listen(CHANGES_CHANNEL, () => emitter.emit('change'))
  // Before the server waits for requests in flight (preClose): a long poll otherwise held the
  // shutdown for up to its 30 s, past SHUTDOWN_TIMEOUT_MS, and its client lost the connection
  // when the process was killed. Woken now, it answers its page (no changes, the same cursor)
  // and the client asks again, of another process.
  const closing = new AbortController()
  app.addHook('preClose', (done) => {
    closing.abort()
    emitter.emit('close')
    done()
  })
  app.addHook('onClose', async () => { await stop() })
  app.decorate('changeSignal', {
    wait (timeoutMs, abort) {
      if (closing.signal.aborted) return Promise.resolve(false)
      return new Promise<boolean>((resolve) => {
        const done = (result: boolean) => {
          clearTimeout(timer)
          emitter.off('change', onChange)
          emitter.off('close', onClose)
          abort?.removeEventListener('abort', onClose)
          resolve(result)
        }
        const onChange = () => done(true)
        const onClose = () => done(false)
        const timer = setTimeout(() => done(false), timeoutMs)
        emitter.once('change', onChange)
        emitter.once('close', onClose)
        abort?.addEventListener('abort', onClose, { once: true })
      })
    },
    on (listener) {
      emitter.on('change', listener)
      return () => { emitter.off('change', listener) }
    },
    closing: closing.signal
  } satisfies ChangeSignal)
}

export const changeLogPlugin = fp(changeLog, { name: 'change-log', dependencies: ['core'] })
