import t from 'tap'
import { newBlog } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { databaseName, quoteIdent, testServerUrl, withAdminClient } from '../helpers/test-database.ts'

t.test('overload: a stalled event loop sheds requests with 503 + Retry-After; probes still answer', async (t) => {
  const { app } = await buildTestApp(t, { OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '50' })
  await app.ready()
  t.equal((await app.inject({ url: '/v1/blogs' })).statusCode, 200)
  /** Holds the loop for well over the limit, lets under-pressure take its next sample, and asks until shed. */
  const shedAnswer = async (url: string) => {
    const until = Date.now() + 1500
    while (Date.now() < until) { /* busy: this is the overload */ }
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (let i = 0; i < 50; i++) {
      const res = await app.inject({ url })
      if (res.statusCode === 503) return res
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return undefined
  }
  const shed = await shedAnswer('/v1/blogs')
  t.ok(shed, 'a request was shed')
  t.equal(shed?.headers['retry-after'], '5')
  t.equal(shed?.headers['content-type'], 'application/problem+json')
  t.match(shed?.json(), { status: 503, code: 'overloaded' })
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness is never shed')
  // Probes are known by their route, not their URL: a query string (a cache buster) changes nothing.
  t.equal((await app.inject({ url: '/healthz?probe=1' })).statusCode, 200, 'nor with a query string')
  // Ghost's routes are shed in Ghost's error format, which its client reads.
  const ghost = await shedAnswer('/ghost/api/content/posts/?key=0123456789abcdef')
  t.ok(ghost, 'a Ghost request was shed')
  t.equal(ghost?.headers['retry-after'], '5')
  t.match(ghost?.headers['content-type'], /^application\/json/)
  t.match(ghost?.json(), { errors: [{ type: 'ServiceUnavailableError', code: 'overloaded' }] })
})

t.test('database outage: fast 503s with Retry-After, not ready, no crash, and recovery when it returns', { skip: testServerUrl() === undefined ? 'needs a PostgreSQL server the test can take away' : false }, async (t) => {
  const { app, testDb } = await buildTestApp(t)
  const server = testServerUrl() as string
  const name = databaseName(testDb.url as string)
  await newBlog(app.db, { slug: 'still-here' })
  t.equal((await app.inject({ url: '/v1/blogs/still-here' })).statusCode, 200)

  // The database goes away: no new connections, and every open one is cut.
  await withAdminClient(server, async (client) => {
    await client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS false`)
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
  })
  t.teardown(() => withAdminClient(server, (client) => client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`)).catch(() => {}))

  // What was read before the outage is still served from the response cache (no change can be
  // written meanwhile, so it is still true); everything else fails fast.
  const cached = await app.inject({ url: '/v1/blogs/still-here' })
  t.equal(cached.statusCode, 200, 'a page read before the outage is served from the response cache')
  t.equal(cached.json().data.slug, 'still-here')
  for (const url of ['/v1/blogs', '/v1/posts', '/v1/feeds/latest?format=rss', '/v1/changes']) {
    const started = Date.now()
    const res = await app.inject({ url })
    const took = Date.now() - started
    t.equal(res.statusCode, 503, `${url} is a 503`)
    t.equal(res.headers['retry-after'], '5')
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.ok(took < 6000, `${url} failed fast (${took} ms)`)
  }
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'not ready')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'alive')

  // It comes back: the pool reconnects by itself.
  await withAdminClient(server, (client) => client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`))
  const back = Date.now()
  let recovered = false
  while (!recovered && Date.now() - back < 10_000) {
    recovered = (await app.inject({ url: '/v1/blogs/still-here' })).statusCode === 200
    if (!recovered) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(recovered, `recovered ${Date.now() - back} ms after the database returned`)
  t.comment(`outage recovery: ${Date.now() - back} ms`)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
})
