import { readFile } from 'node:fs/promises'
import t from 'tap'
import { generateOpenApiDocument, OPENAPI_FILE } from '../src/cli.ts'
import { buildTestApp } from './helpers/test-app.ts'

t.test('the committed openapi/openapi.json is what the code generates (run `npm run openapi`)', async (t) => {
  const committed = await readFile(OPENAPI_FILE, 'utf8')
  t.equal(await generateOpenApiDocument(), committed)
})

t.test('every operation is documented: id, summary, tags, and a schema for each response', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument())
  t.equal(document.openapi, '3.1.0')
  const operationIds = new Set<string>()
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      const name = `${method.toUpperCase()} ${path}`
      t.type(operation.operationId, 'string', `${name} has an operationId`)
      t.notOk(operationIds.has(operation.operationId), `${name}: operationId is unique`)
      operationIds.add(operation.operationId)
      t.type(operation.summary, 'string', `${name} has a summary`)
      t.ok(operation.tags?.length > 0, `${name} has tags`)
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        t.type(response.description, 'string', `${name} ${status} has a description`)
        if (status.startsWith('3')) {
          t.ok(response.headers?.Location, `${name} ${status} documents Location`)
          continue
        }
        if (status === '204') {
          t.notOk(response.content, `${name} 204 has no body`)
          continue
        }
        const [contentType, content] = Object.entries<any>(response.content ?? {})[0] ?? []
        t.ok(content?.schema, `${name} ${status} has a schema`)
        t.equal(contentType, Number(status) >= 400 ? 'application/problem+json' : 'application/json', `${name} ${status} media type`)
      }
    }
  }
  t.ok(operationIds.has('listBlogs') && operationIds.has('getBlog'))
  t.ok(document.components.securitySchemes.bearerAuth, 'the security scheme is documented')
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      if (method === 'get') continue
      t.same(operation.security, [{ bearerAuth: [] }], `${method.toUpperCase()} ${path} says it needs a key`)
      t.ok(operation.responses['401'] && operation.responses['403'], `${method.toUpperCase()} ${path} documents 401 and 403`)
    }
  }
  t.ok(document.components.schemas.Blog, 'named components come from .meta({ id })')
  t.ok(document.components.schemas.Problem)
})

t.test('the app serves the document and the docs page', async (t) => {
  const { app } = await buildTestApp(t)
  const spec = await app.inject({ url: '/openapi.json' })
  t.equal(spec.statusCode, 200)
  t.equal(spec.json().openapi, '3.1.0')
  const docs = await app.inject({ url: '/docs' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
  t.notMatch(docs.body, /https?:\/\/(?!localhost)[a-z0-9.-]+\.[a-z]{2,}\//i, 'no assets from another host')
  const csp = String(docs.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/, 'scripts only from this origin, none inline')
  t.notMatch(csp, /https:|validator/, 'nothing from other hosts')
})
