import t from 'tap'
import { checkReads, demoWorld, documentChecker, HIGH_LIMITS, isGhostPath, statusCounts } from './helpers/openapi-checker.ts'
import { buildTestApp } from './helpers/test-app.ts'
import { databaseName, quoteIdent, testServerUrl, withAdminClient } from './helpers/test-database.ts'

// Every answer the API gives is in its OpenAPI document: the status is listed for the operation,
// the Content-Type is one it lists for that status, and a JSON body validates against the schema
// it names (Ajv, an independent JSON Schema validator, over the generated document; the
// documented `x-response-variants` for `fields=` and preview keys; helpers/openapi-checker.ts).
// Asked of every operation, as every kind of caller, with a family of bad requests (the reads of
// /v1 here, Ghost's in openapi-responses-ghost.test.ts, the writes in
// openapi-responses-writes.test.ts: one file took 149 s of tap's 240 s a file on a busy machine),
// rate-limited, and with the database gone; every parameter inside and just outside its schema is
// openapi-parameters.test.ts. Found this way: 413 on most writes, 400/413/415 on POSTs without a
// body, 304 on scoped and Ghost reads, Ghost's 429 and 503, and 401/429 on the probes were all
// undocumented.

t.test('every answer to every read of /v1 and the probes, as every caller, to a family of bad requests, is in the document', async (t) => {
  const { app } = await buildTestApp(t, HIGH_LIMITS)
  const { problems, seen } = await checkReads(app, (path) => !isGhostPath(path))
  t.comment(`statuses seen: ${statusCounts(seen)}`)
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
  for (const status of ['200', '304', '308', '400', '401', '403', '404']) t.ok(seen.has(status), `saw ${status}`)
})

t.test('rate-limited answers, Ghost\'s included, are in the document; probes take no key and are never limited', async (t) => {
  const limit = '3'
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: limit, RATE_LIMIT_READ: limit, RATE_LIMIT_WRITE: limit, RATE_LIMIT_AUTH_FAILURES: limit })
  const { check, operations, problems, seen } = await documentChecker(app)
  const { keys, fills, url } = await demoWorld(app)
  for (const { path, method, operation } of operations) {
    for (const key of Object.values(keys)) {
      const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
      for (let i = 0; i < 5; i++) await check(path, method, operation, { method: method.toUpperCase(), url: url(path, fills.real), headers })
    }
  }
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
  t.ok((seen.get('429') ?? 0) > 100, `${seen.get('429') ?? 0} answers were 429`)
  for (const url of ['/healthz', '/readyz', '/healthz?probe=1']) {
    for (let i = 0; i < 10; i++) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${keys.invalid}` } })
      t.equal(res.statusCode, 200, `${url} with a bad key, ${i + 1}: ${res.statusCode}`)
      if (res.statusCode !== 200) break
    }
  }
})

t.test('with the database gone, every answer is in the document, in each route\'s own error format', { skip: testServerUrl() === undefined ? 'needs a PostgreSQL server the test can take away' : false }, async (t) => {
  const { app, testDb } = await buildTestApp(t, HIGH_LIMITS)
  const { check, operations, problems, seen } = await documentChecker(app)
  const { keys, fills, url } = await demoWorld(app)
  const server = testServerUrl() as string
  const name = databaseName(testDb.url as string)
  await withAdminClient(server, async (client) => {
    await client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS false`)
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
  })
  t.teardown(() => withAdminClient(server, (client) => client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`)).catch(() => {}))
  for (const { path, method, operation } of operations) {
    for (const key of [undefined, keys.admin]) {
      const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
      await check(path, method, operation, { method: method.toUpperCase(), url: url(path, fills.real), headers, ...(method === 'get' || method === 'delete' ? {} : { payload: '{}' }) })
    }
  }
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
  t.ok((seen.get('503') ?? 0) > 50, `${seen.get('503') ?? 0} answers were 503`)
})
