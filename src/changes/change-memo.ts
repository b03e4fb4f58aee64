import type { FastifyInstance } from 'fastify'
import { boundedLru } from '../bounded-lru.ts'

// Values derived from content that a process keeps between requests (a blog found by its slug,
// how many posts a Ghost filter matches). Each memo is dropped whole at every change
// notification and every write this process serves (the change follower's signal) and when the
// follower starts over, so nothing kept is older than the newest change the process has heard
// of. A value read across a notification is not kept: it may predate it.

export interface ChangeMemo<Value> {
  get (key: string): Value | undefined
  /** Keeps `value` unless a change was signalled since `epoch` (the change epoch when its read began). */
  set (key: string, value: Value, epoch: number): void
}

export function changeMemo<Value extends NonNullable<unknown>> (app: FastifyInstance, options: { max: number, ttlMs?: number }): ChangeMemo<Value> {
  const values = boundedLru<string, Value>({ entries: options.max, ttlMs: options.ttlMs })
  const clear = () => values.clear()
  app.changeFollower.onSignal(clear)
  app.changeFollower.onReset(clear)
  return {
    get: (key) => values.get(key),
    set (key, value, epoch) {
      if (epoch === app.changeFollower.epoch) values.set(key, value)
    }
  }
}
