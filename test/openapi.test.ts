import { readFile } from 'node:fs/promises'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import t from 'tap'
import { z } from 'zod'
import { generateOpenApiDocument as generate, OPENAPI_FILE } from '../src/cli.ts'
import { buildTestApp } from './helpers/test-app.ts'

// Generated once for the file: each generation builds the whole app.
const generated = generate()
const generateOpenApiDocument = async () => generated

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
        if (status.startsWith('3') && status !== '304') {
          t.ok(response.headers?.Location, `${name} ${status} documents Location`)
          continue
        }
        if (status === '204' || status === '304') {
          t.notOk(response.content, `${name} ${status} has no body`)
          continue
        }
        const [contentType, content] = Object.entries<any>(response.content ?? {})[0] ?? []
        t.ok(content?.schema, `${name} ${status} has a schema`)
        // Ghost's routes answer errors the way Ghost does, as application/json.
        const expected = Number(status) >= 400 && !operation.tags.includes('Ghost compatibility') ? 'application/problem+json' : path === '/metrics' ? 'text/plain' : path.endsWith('/news-article') ? 'application/ld+json' : path.endsWith('.xml') ? 'application/xml' : 'application/json'
        t.equal(contentType, expected, `${name} ${status} media type`)
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

t.test('every status an operation can answer is documented, with the headers that come with it', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument())
  t.same(document.servers, [{ url: '/', description: 'The server this document was fetched from.' }], 'servers')
  let checked = 0
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      const name = `${method.toUpperCase()} ${path}`
      if (operation['x-access'] === 'none' || operation['x-access'] === 'query-key') continue
      checked++
      const { responses } = operation
      t.ok(responses['401']?.headers?.['www-authenticate'], `${name} 401 with WWW-Authenticate`)
      t.ok(responses['403'], `${name} 403`)
      t.ok(responses['429']?.headers?.['retry-after'] && responses['429'].headers['ratelimit-limit'], `${name} 429 with Retry-After and the rate-limit headers`)
      t.ok(responses['503']?.headers?.['retry-after'], `${name} 503 with Retry-After`)
      const success = Object.entries<any>(responses).find(([status]) => status.startsWith('2'))?.[1]
      t.ok(success?.headers?.['ratelimit-remaining'], `${name} success carries the rate-limit headers`)
      if (method === 'get' && operation['x-access'] === 'public') t.ok(responses['304'], `${name} 304`)
      // Content takes If-Match on every change (keys and webhooks are not versioned).
      if (/^\/v1\/(blogs|authors|tags|posts)/.test(path) && (['patch', 'delete'].includes(method) || /publish$/.test(path))) t.ok(responses['412'], `${name} 412 (If-Match)`)
    }
  }
  t.ok(checked > 30, `${checked} operations checked`)
  t.same(Object.keys(document.paths['/metrics'].get.responses['200'].content), ['text/plain'], '/metrics is text/plain')
  t.equal(document.paths['/metrics'].get['x-access'], 'admin', '/metrics needs an admin key')
  t.same(document.paths['/metrics'].get.security, [{ bearerAuth: [] }], 'and says so as security')
  t.same(document.paths['/v1/posts'].get.security, [{}, { bearerAuth: [] }], 'public reads take a key, optionally')
})

t.test('schemas say what typed clients should see: booleans, no generator noise, no deprecated keywords', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument())
  const text = JSON.stringify(document)
  t.notMatch(text, /9007199254740991/, 'no safe-integer bounds (Swagger UI showed word_count: -9007199254740991)')
  t.notMatch(JSON.stringify(document.components.schemas), /"example":/, 'schemas use `examples`, never the deprecated `example`')
  const params = document.paths['/v1/posts'].get.parameters
  for (const name of ['is_breaking', 'is_featured']) t.same(params.find((p: any) => p.name === name).schema, { type: 'boolean' }, `${name} is a boolean`)
  const create = document.components.schemas.CreatePostInput
  t.notOk(create.required.includes('status'), 'a create body\'s status is optional')
  t.notOk('default' in create.properties.status, 'and carries no default (generators make defaulted fields required)')
  const item = document.components.schemas.PostListItem
  t.same(item.required.sort(), Object.keys(item.properties).filter((name) => !name.startsWith('body_')).sort(), 'list items are complete without fields=')
  t.same(document.components.schemas.Post.properties.published_at.type, 'string', 'public posts always have a publish time')
  t.ok(document.components.schemas.Change.oneOf.every((variant: any) => variant.properties.type.const), 'Change is a union told apart by type')
  t.ok(document.paths['/v1/posts'].get['x-response-variants'].fields.$ref.endsWith('/SparsePostPage'), 'the sparse variant is documented')
})

t.test('every example in the document is valid by its own schema', async (t) => {
  await generateOpenApiDocument()
  let count = 0
  const components = new Set(Object.keys(JSON.parse(await generateOpenApiDocument()).components.schemas))
  const missing: string[] = []
  for (const [id, registered] of z.globalRegistry._idmap.entries()) {
    const schema = registered as unknown as z.ZodType
    const examples = (schema.meta()?.examples as unknown[] | undefined) ?? []
    // Envelopes ({ data, meta, links }) show their parts' examples; every other shape has its own.
    if (examples.length === 0 && (components.has(id) || components.has(`${id}Input`)) && !/(Page|Response|Included|WrittenPost)$|^Ghost(Posts|Pages|Authors|Tags)$/.test(id)) missing.push(id)
    for (const example of examples) {
      count++
      const parsed = schema.safeParse(example)
      t.ok(parsed.success, `${id}: ${parsed.success ? 'valid' : JSON.stringify(parsed.error.issues).slice(0, 300)}`)
    }
  }
  t.same(missing, [], 'every shape has a realistic example (Swagger UI otherwise invents -9007199254740991 and the year 3508)')
  t.ok(count >= 30, `${count} examples checked`)
})

t.test('every example and pattern holds as JSON Schema tools read the document: Ajv, patterns without the u flag', async (t) => {
  // Validators and linters (Spectral's oas ruleset among them) compile `pattern` as ECMA-262
  // without the `u` flag, the dialect JSON Schema tools share; there \\p{Cc} is the letters p, C,
  // c and braces, and the q parameter's own example ("coalition") failed its pattern.
  const document = JSON.parse(await generateOpenApiDocument()) as Record<string, unknown>
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false })
  ;(addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020)(ajv)
  ajv.addSchema(document, 'openapi.json')
  const escape = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1')
  const checked: string[] = []
  const failures: string[] = []
  const check = (pointer: string, example: unknown) => {
    const validate = ajv.getSchema(`openapi.json#${pointer}`)
    checked.push(pointer)
    if (validate === undefined) failures.push(`${pointer}: no schema`)
    else if (!validate(example)) failures.push(`${pointer}: ${JSON.stringify(example).slice(0, 80)}: ${ajv.errorsText(validate.errors)}`)
  }
  const walk = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) { node.forEach((child, i) => walk(child, `${pointer}/${i}`)); return }
    if (node === null || typeof node !== 'object') return
    const object = node as Record<string, unknown>
    if (typeof object.pattern === 'string') {
      t.notMatch(object.pattern, /\\[pP]\{/, `${pointer}: no Unicode property escapes`)
      t.doesNotThrow(() => new RegExp(object.pattern as string), `${pointer}: a pattern without the u flag`)
    }
    // A schema's examples, and a parameter's or media type's example against its schema.
    const isSchema = 'type' in object || '$ref' in object || 'properties' in object || 'anyOf' in object || 'oneOf' in object || 'allOf' in object
    if (isSchema && Array.isArray(object.examples)) object.examples.forEach((example) => check(pointer, example))
    if ('schema' in object && 'example' in object) check(`${pointer}/schema`, object.example)
    for (const [key, child] of Object.entries(object)) walk(child, `${pointer}/${escape(key)}`)
  }
  walk(document, '')
  t.same(failures, [], 'every example is valid')
  t.ok(checked.length >= 40, `${checked.length} examples checked`)
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

t.test('the headers the document promises are the ones the API sends', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '2' })
  const ok = await app.inject({ url: '/v1/blogs' })
  for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) t.match(ok.headers[name], /^\d+$/, `200 has ${name}`)
  const etag = ok.headers.etag as string
  const notModified = await app.inject({ url: '/v1/blogs', headers: { 'if-none-match': etag } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '', '304 without a body')
  const limited = await app.inject({ url: '/v1/blogs' })
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['retry-after'], /^\d+$/, '429 has Retry-After')
  t.match(limited.headers['ratelimit-limit'], /^\d+$/)
  const unauthorized = await app.inject({ url: '/v1/blogs', headers: { authorization: 'Bearer nope' } })
  t.match(unauthorized.headers['www-authenticate'], /^Bearer realm="content-api"/, '401 has WWW-Authenticate')
})
