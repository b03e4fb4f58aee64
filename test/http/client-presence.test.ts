import { connect, type AddressInfo, type Socket } from 'node:net'
import t from 'tap'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { HELD_MARKER, holdEveryConnection, untilWaitingForConnection } from '../helpers/held-connections.ts'
import { buildTestApp, type TestApp } from '../helpers/test-app.ts'
import { testServerUrl, withAdminClient } from '../helpers/test-database.ts'

// A public read whose client leaves while it waits for the database runs no query
// (src/http/client-presence.ts, src/db/client-presence.ts), over real sockets. Whether a query
// ran is read from PostgreSQL itself: each held backend's last statement in pg_stat_activity.

async function listening (app: TestApp['app']): Promise<number> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

/** Sends a GET over a socket of its own, left open until the caller destroys it. */
function openGet (port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: api.test\r\n\r\n`)
      resolve(socket)
    })
    socket.on('error', reject)
  })
}

async function until<T> (find: () => T | undefined): Promise<T> {
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves once the server has seen all but `left` of its connections close. */
async function untilNoConnections (app: TestApp['app'], left = 0): Promise<void> {
  const count = () => new Promise<number>((resolve, reject) => app.server.getConnections((error, n) => error === null ? resolve(n) : reject(error)))
  while (await count() > left) await new Promise((resolve) => setTimeout(resolve, 10))
}

async function appWithPost (t: Parameters<typeof buildTestApp>[0], env: Record<string, string>) {
  const testApp = await buildTestApp(t, env)
  const db = testApp.app.db
  const blog = await newBlog(db)
  const post = await newPost(db, { blogId: blog.id })
  const path = `/v1/blogs/${blog.slug}/posts/${post.slug}`
  return { ...testApp, path, port: await listening(testApp.app) }
}

t.test('a GET whose client leaves while it waits for a connection runs no query, and is counted', async (t) => {
  const { app, logs, path, port } = await appWithPost(t, { RESPONSE_CACHE_MAX_MB: '0' })
  t.equal((await app.inject({ url: path })).statusCode, 200, 'the post is there (and its blog remembered)')

  const held = await holdEveryConnection(app.database)
  const socket = await openGet(port, path)
  await untilWaitingForConnection(app.database)
  socket.destroy()
  await untilNoConnections(app)
  await held.release()

  const logged = await until(() => logs.find((line) => line.msg === 'client closed the request before its read reached the database'))
  t.ok(logged, 'logged')
  t.notOk(logs.some((line) => (line.level as number) >= 50), 'nothing logged as an error')
  if (held.pids.length > 0) {
    // Asked on a connection of its own: any of the pool's would run this query itself.
    const lastQueries = await withAdminClient(testServerUrl() as string, async (client) =>
      (await client.query<{ query: string }>('SELECT query FROM pg_stat_activity WHERE pid = ANY($1)', [held.pids])).rows.map((row) => row.query))
    t.same(lastQueries, held.pids.map(() => HELD_MARKER), 'no held connection ran anything after the test let it go')
  }

  const metrics = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}` } })
  t.match(metrics.body, /^db_reads_spared_total [1-9]\d*$/m, 'counted in /metrics')
  t.equal((await app.inject({ url: path })).statusCode, 200, 'the next client is answered')
})

t.test('a client waiting for the answer another client went away from is answered', async (t) => {
  // The first request leads the response cache's flight for its key, the second waits for it.
  // The flight's own limit is the request timeout, set far beyond this test's waits.
  const { app, path, port } = await appWithPost(t, { REQUEST_TIMEOUT_MS: '120000' })
  const held = await holdEveryConnection(app.database)
  const leader = await openGet(port, path)
  await untilWaitingForConnection(app.database)
  const startedAt = Date.now()
  const follower = fetch(`http://127.0.0.1:${port}${path}`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  leader.destroy()
  await untilNoConnections(app, 1)
  await held.release()
  const answer = await follower
  t.equal(answer.status, 200)
  t.match(await answer.json(), { data: { slug: path.split('/').at(-1) } })
  t.ok(Date.now() - startedAt < 60_000, 'without waiting out the flight\'s limit')
})
