import { connect } from 'node:net'
import t from 'tap'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Rate limits with REDIS_URL: one budget per client across processes (two apps here, each
// with its own store, as two processes have), and limits that hold while Redis does not answer.
// The scale-out script (test/scale-out) also stops a real Redis in the middle of load.

const LOCAL_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function reachable (url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname)
    socket.once('connect', () => { socket.end(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** A client address of its own per run: counters in a shared Redis outlive a test run by a minute. */
const clientAddress = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`

t.test('two processes sharing Redis enforce one limit per client', { skip: await reachable(LOCAL_REDIS) ? false : `no Redis at ${LOCAL_REDIS}` }, async (t) => {
  const env = { REDIS_URL: LOCAL_REDIS, RATE_LIMIT_ANONYMOUS: '5' }
  const [a, b] = await Promise.all([buildTestApp(t, env), buildTestApp(t, env)])
  const client = clientAddress()
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    const app = i % 2 === 0 ? a.app : b.app
    const res = await app.inject({ url: '/v1/blogs', remoteAddress: client })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429, 429], 'five in all, whichever process answered')
  const other = await b.app.inject({ url: '/v1/blogs', remoteAddress: clientAddress() })
  t.equal(other.statusCode, 200, 'another client has a budget of its own')
  t.equal(other.headers['ratelimit-remaining'], '4')
})

t.test('Redis not answering: each process limits on its own, and says so', async (t) => {
  // Nothing listens on port 1: every connection is refused at once.
  const { app, logs } = await buildTestApp(t, { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_ANONYMOUS: '3' })
  const admin = await newApiKey(app.db, ['admin'])
  const client = clientAddress()
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await app.inject({ url: '/v1/blogs', remoteAddress: client })).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429], 'the limit still holds, counted in this process')

  let metrics = ''
  for (let i = 0; i < 50 && !/rate_limit_store_shared 0/.test(metrics); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    metrics = (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${admin}` } })).body
  }
  t.match(metrics, /rate_limit_store_shared 0/)
  t.match(metrics, /rate_limit_local_fallbacks_total [1-9]/)
  t.ok(logs.some((line) => line.level === 40 && /Redis is not answering/.test(String(line.msg))), 'a warning in the log')
})
