import t from 'tap'
import { demoWorld, documentChecker, HIGH_LIMITS, inSchemaValues, outOfSchemaValues, queryOf } from './helpers/openapi-checker.ts'
import { buildTestApp } from './helpers/test-app.ts'

// Every query and path parameter of every operation, with values its schema in the OpenAPI
// document allows and values just outside it: each answer is in the document (the checker in
// helpers/openapi-checker.ts), values inside are never refused, values outside are always a
// documented 400. Found this way: list parameters documented as "a string or an array of
// strings" (no enum, no format for their items), feeds refusing a list sent as repeated
// parameters, every list refusing axios's `tag[]=a`, a bad `fields=` on a missing tag's posts
// answered 404, and `GET /v1/webhooks/{id}` with 101 characters a 400 its operation did not
// list. (Part of openapi-responses.test.ts until 2026-12: on a busy machine that file took
// 167 s of the 240 s a file may.)

t.test('every parameter inside its schema is taken and just outside it is a documented 400', async (t) => {
  const { app } = await buildTestApp(t, HIGH_LIMITS)
  const { check, operations, problems, seen } = await documentChecker(app)
  const { keys, fills, url } = await demoWorld(app)

  // Every query parameter inside its schema, one at a time, as the admin; with what its
  // description says it needs (JSON Schema cannot say that one parameter needs another). Reads
  // first, while the demo world is whole, so that a 404 for something deleted cannot stand in
  // for the 400 looked for; writes (a DELETE's options) at the end, as they take the world apart.
  const needs: Record<string, string> = { 'sort=relevance': '&q=coalition', page: '&month=2014-10' }
  const refused: string[] = []
  let inSchema = 0
  const admin = { authorization: `Bearer ${keys.admin}` }
  const sendInSchema = async (selected: typeof operations) => {
    for (const { path, method, operation } of selected) {
      for (const { parameter, value } of inSchemaValues(operation)) {
        if (path.includes('/ghost/') && parameter.name === 'key') continue
        const payload = method === 'get' || method === 'delete' ? undefined : '{}'
        // A list as the document writes it (`a,b`), and as the API takes it too: repeated
        // (`x=a&x=b`, openapi-fetch) and with brackets (`x[]=a&x[]=b`, axios).
        const forms = !Array.isArray(value)
          ? [queryOf(parameter, value)]
          : [...new Set([queryOf(parameter, value), queryOf({ ...parameter, explode: true }, value), queryOf({ ...parameter, name: `${parameter.name}[]`, explode: true }, value)])]
        for (const query of forms) {
          const status = await check(path, method, operation, { method: method.toUpperCase(), url: url(path, fills.real, query + (needs[`${parameter.name}=${String(value)}`] ?? needs[parameter.name] ?? '')), headers: { ...admin, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload }), variant: parameter.name === 'fields' ? 'fields' : 'preview' })
          inSchema++
          if (status === 400 || status >= 500) refused.push(`${operation.operationId} ${query.slice(0, 80)} -> ${status}`)
        }
      }
    }
  }
  await sendInSchema(operations.filter(({ method }) => method === 'get'))

  // Every parameter just outside its schema, as the admin (who may call every operation).
  const notRefused: string[] = []
  let outOfSchema = 0
  for (const { path, method, operation } of operations) {
    for (const { parameter, value } of outOfSchemaValues(operation)) {
      // Ghost's key is the credential, checked first, as Ghost does: any key it does not know is a 401.
      const ghostKey = path.includes('/ghost/') && parameter.name === 'key'
      const fill = parameter.in === 'path' ? { ...fills.real, [parameter.name]: String(value) } : fills.real
      const query = parameter.in === 'query' && !ghostKey ? queryOf(parameter, value) : ''
      const target = ghostKey ? url(path, fill).replace(/key=[^&]*/, `key=${encodeURIComponent(String(value))}`) : url(path, fill, query)
      const payload = method === 'get' || method === 'delete' ? undefined : '{}'
      const status = await check(path, method, operation, { method: method.toUpperCase(), url: target, headers: { ...admin, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload }) })
      outOfSchema++
      // A path parameter past the router's limit (maxParamLength) matches no route.
      const expected = ghostKey ? 401 : parameter.in === 'path' && String(value).length > 500 ? 404 : 400
      if (status !== expected) notRefused.push(`${operation.operationId} ${parameter.in} ${parameter.name}=${String(value).slice(0, 40)}${String(value).length > 40 ? `… (${String(value).length})` : ''} -> ${status}`)
    }
  }
  t.ok(outOfSchema > 300, `${outOfSchema} parameters sent just outside their schemas`)
  t.same(notRefused.slice(0, 20), [], `${notRefused.length} values outside the document's schema were not refused`)

  await sendInSchema(operations.filter(({ method }) => method !== 'get'))
  t.ok(inSchema > 100, `${inSchema} parameters sent inside their schemas`)
  t.same(refused.slice(0, 20), [], `${refused.length} values the document allows were refused`)

  t.comment(`statuses seen: ${[...seen].sort().map(([status, count]) => `${status} ×${count}`).join(', ')}`)
  t.same(problems.slice(0, 20), [], `${problems.length} answers the document does not describe`)
})
