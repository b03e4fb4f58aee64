import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { CHANGES_CHANNEL } from '../../content/changes.repository.ts'

// One LISTEN per process on the change channel (PostgreSQL LISTEN/NOTIFY, or PGlite's own),
// fanned out in memory to whatever waits: long-polling sync clients, the webhook dispatcher.

export interface ChangeSignal {
  /** Resolves true when a change is signalled within timeoutMs, false otherwise. */
  wait (timeoutMs: number, abort?: AbortSignal): Promise<boolean>
  on (listener: () => void): () => void
}

declare module 'fastify' {
  interface FastifyInstance { changeSignal: ChangeSignal }
}

export async function registerChangeSignal (app: FastifyInstance): Promise<void> {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  const stop = await app.database.listen(CHANGES_CHANNEL, () => emitter.emit('change'))
  app.addHook('onClose', async () => {
    emitter.emit('close')
    await stop()
  })
  app.decorate('changeSignal', {
    wait (timeoutMs, abort) {
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
    }
  })
}
