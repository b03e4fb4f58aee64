import t from 'tap'
import { checkReads, HIGH_LIMITS, isGhostPath, statusCounts } from './helpers/openapi-checker.ts'
import { buildTestApp } from './helpers/test-app.ts'

// Every answer to a read of Ghost's Content API (and its per-site twin) is in the OpenAPI
// document, as every kind of caller, with a family of bad queries: openapi-responses.test.ts
// asks /v1 the same.

t.test('every answer to every read of Ghost\'s API, as every caller, to a family of bad requests, is in the document', async (t) => {
  const { app } = await buildTestApp(t, HIGH_LIMITS)
  const { problems, seen } = await checkReads(app, isGhostPath)
  t.comment(`statuses seen: ${statusCounts(seen)}`)
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
  for (const status of ['200', '304', '400', '401', '404']) t.ok(seen.has(status), `saw ${status}`)
})
