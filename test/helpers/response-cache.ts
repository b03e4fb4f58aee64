import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { newApiKey, newBlog } from './factories.ts'
import { buildTestApp } from './test-app.ts'

// What the response cache's tests share (test/http/response-cache*.test.ts): their settings,
// its counters as /metrics has them, two processes' worth of app on one database, and waits for
// change notifications to settle.

// Stored at the first miss (RESPONSE_CACHE_MIN_USES=1), so each test sees its entries from the
// second request; the default, the second miss, has a test of its own.
export const ENV = { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', RATE_LIMIT_WRITE: '100000', PUBLIC_BASE_URL: 'http://api.test', RESPONSE_CACHE_MIN_USES: '1' }

export async function admissions (app: FastifyInstance): Promise<{ admitted: number, declined: number, outranked: number }> {
  const counts = { admitted: 0, declined: 0, outranked: 0 }
  const metric = app.metrics.registry.getSingleMetric('response_cache_admissions_total')
  for (const value of (await metric?.get())?.values ?? []) counts[value.labels.decision as keyof typeof counts] = value.value
  return counts
}

export async function lookups (app: FastifyInstance): Promise<{ hit: number, miss: number, shared: number }> {
  const counts = { hit: 0, miss: 0, shared: 0 }
  // Through the registry, as /metrics reads them.
  for (const value of (await app.metrics.registry.getSingleMetric('response_cache_lookups_total')?.get())?.values ?? []) counts[value.labels.result as keyof typeof counts] = value.value
  return counts
}

/** What the response cache holds, from its gauges. */
export async function cacheSize (app: FastifyInstance): Promise<{ entries: number, bytes: number }> {
  const gauge = async (name: string) => (await app.metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? NaN
  return { entries: await gauge('response_cache_entries'), bytes: await gauge('response_cache_bytes') }
}

/**
 * Ready, which is past the change follower's first pass: that pass clears the cache, having no
 * position yet, and before apps waited for it a test that stored entries just after ready lost
 * them (a CI run under load: an entry gone, its size then free for another).
 */
export async function started (app: FastifyInstance): Promise<void> {
  await app.ready()
}

/** Two API processes' worth of app on one database: A takes the writes, B only reads. */
export async function twoApps (t: Test, env: Record<string, string> = {}) {
  const { app: a } = await buildTestApp(t, { ...ENV, ...env })
  const b = await buildApp({ config: loadConfig({ ...ENV, ...env }), database: a.database, logger: pino({ level: 'silent' }), backgroundJobs: false })
  t.teardown(() => b.close())
  await started(a)
  await started(b)
  const writer = await newApiKey(a.db, ['content:write'])
  await newBlog(a.db, { slug: 'desk' })
  const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => a.inject({
    method,
    url,
    headers: { authorization: `Bearer ${writer}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
  const publish = async (title: string) => {
    const res = await send('POST', '/v1/posts', { blog: 'desk', title, status: 'published', published_at: '2026-01-01T00:00:00Z' })
    t.equal(res.statusCode, 201, res.body)
    return res.json().data.id as string
  }
  return { a, b, send, publish }
}

/** Waits until pending change notifications have reached `app`: it serves a cache hit again. */
export async function settle (app: FastifyInstance): Promise<void> {
  await waitFor(async () => {
    const { hit } = await lookups(app)
    await app.inject({ url: '/v1/blogs?limit=1' })
    return (await lookups(app)).hit > hit
  }, 2_000)
}

/**
 * Waits until `app` has heard no change for a while: the notifications of writes it served
 * itself come back from PostgreSQL after the response, and one that arrives while a response is
 * computed keeps that response out of the cache (rightly), which a test counting what was
 * stored must not race (a fresh-clone CI run once counted 0 admitted for 1).
 */
export async function quiet (app: FastifyInstance): Promise<void> {
  let epoch = app.changeFollower.epoch
  let stableSince = Date.now()
  const started = Date.now()
  while (Date.now() - stableSince < 200 && Date.now() - started < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    if (app.changeFollower.epoch !== epoch) {
      epoch = app.changeFollower.epoch
      stableSince = Date.now()
    }
  }
}

export async function waitFor (check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) return Infinity
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}
