import t from 'tap'
import { BODY_LIMIT_BYTES } from '../src/http/errors.ts'
import { demoWorld, documentChecker, HIGH_LIMITS, statusCounts } from './helpers/openapi-checker.ts'
import { buildTestApp } from './helpers/test-app.ts'

// Every answer to a write is in the OpenAPI document: each write, as every kind of caller, with a
// family of bad bodies and content types. The reads, rate-limited answers and the database gone:
// openapi-responses.test.ts and openapi-responses-ghost.test.ts.

const OTHER_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x']
/** What the bad requests below get, among others: each must come up. */
const WRITE_STATUSES = ['201', '204', '400', '401', '403', '404', '409', '413', '415', '422']

t.test('every answer to every write, as every caller, to a family of bad requests, is in the document', async (t) => {
  const { app } = await buildTestApp(t, HIGH_LIMITS)
  const { check, operations, problems, seen } = await documentChecker(app)
  const { keys, fills, url, blog } = await demoWorld(app)
  const bodies = [undefined, '{}', 'garbage', '[]', 'null', JSON.stringify({ title: 1 }), JSON.stringify({ title: 'x', blog: blog.id, body_html: '<p>x</p>', slug: 'probe-slug' }),
    JSON.stringify({ title: 'x', blog: blog.id, authors: ['nobody'] }),
    JSON.stringify({ title: 'x'.repeat(BODY_LIMIT_BYTES) })]

  for (const { path, method, operation } of operations.filter((operation) => operation.method !== 'get')) {
    for (const fill of Object.values(fills)) {
      for (const [caller, key] of Object.entries(keys)) {
        const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
        const variant = caller === 'admin' ? 'preview' as const : undefined
        for (const payload of method === 'delete' ? [undefined] : bodies) {
          await check(path, method, operation, { method: method.toUpperCase(), url: url(path, fill), headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload }), variant })
        }
        if (method !== 'delete' && caller === 'admin') {
          for (const type of OTHER_TYPES) await check(path, method, operation, { method: method.toUpperCase(), url: url(path, fill), headers: { ...auth, 'content-type': type }, payload: '{}' })
        }
      }
    }
  }
  t.comment(`statuses seen: ${statusCounts(seen)}`)
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
  for (const status of WRITE_STATUSES) t.ok(seen.has(status), `saw ${status}`)
})
