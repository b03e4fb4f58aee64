import type { Test } from 'tap'
import { newApiKey } from './factories.ts'
import { buildTestApp } from './test-app.ts'

// For the tests that run random sequences of writes against something kept in step with them
// (stored summaries, JSON runs, sitemap counts) and compare after each step.

/** A seeded generator (a linear congruence), so a failing sequence replays from its seed. */
export function seededRandom (seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

/** A test app and a way to call it with an admin key. */
export async function appWithAdmin (t: Test, env: Record<string, string> = {}) {
  const { app } = await buildTestApp(t, env)
  const admin = await newApiKey(app.db, ['admin'])
  const call = (method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  return { app, call }
}
