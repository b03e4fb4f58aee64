import t from 'tap'
import { buildTestApp } from '../helpers/test-app.ts'

t.test('healthz and readyz answer while the database is up', async (t) => {
  const { app, testDb } = await buildTestApp(t)
  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', database: testDb.database.kind, replicas: [] })
  t.equal(ready.headers['cache-control'], 'no-store')
})

t.test('readyz is a 503 problem when the database goes away; healthz stays 200', async (t) => {
  const { app, testDb } = await buildTestApp(t)
  await testDb.simulateOutage()
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.equal(ready.headers['content-type'], 'application/problem+json')
  t.equal(ready.headers['retry-after'], '5')
  t.match(ready.json(), { status: 503, code: 'database_unavailable' })
  t.notMatch(ready.body, /ECONNREFUSED|does not exist|PGlite|stack/i, 'no driver internals leak')
  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200)
  const list = await app.inject({ url: '/v1/blogs' })
  t.equal(list.statusCode, 503, 'a read fails fast with 503, not a 500')
  t.equal(list.headers['content-type'], 'application/problem+json')
  t.ok(list.headers['retry-after'])
  t.notMatch(list.body, /does not exist|PGlite|select/i)
})
