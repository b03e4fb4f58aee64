import { sql } from 'kysely'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { BODY_LIMIT_BYTES } from '../../src/http/errors.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { rawRequester } from '../helpers/raw-http.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Bad input, generated from our own OpenAPI document: for every operation, every parameter and
// every body field, values its schema forbids, plus the classics (wrong media type, broken and
// oversized bodies, prototype keys, deep nesting). Each must get a 4xx problem+json, the server
// must stay healthy, and no row may change.

type JsonSchema = {
  type?: string | string[]
  anyOf?: JsonSchema[]
  enum?: unknown[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  maxItems?: number
  pattern?: string
  format?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  $ref?: string
}

const MB = 'x'.repeat(1024 * 1024)

function resolve (schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  return schema.$ref === undefined ? schema : resolve(components[schema.$ref.split('/').pop() as string] as JsonSchema, components)
}

function types (schema: JsonSchema): string[] {
  if (schema.anyOf !== undefined) return schema.anyOf.flatMap(types)
  return schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]
}

/** Values that this schema forbids, as they would arrive in a query string (text). */
function badQueryValues (schema: JsonSchema): string[] {
  const kinds = types(schema)
  const values: string[] = []
  if (kinds.includes('integer') || kinds.includes('number')) {
    values.push('abc', 'NaN', 'Infinity', '-Infinity', '1e309', '9'.repeat(40), '0x10', '1e2', ' 5', '', '1,2', '[]', '5abc')
    if (kinds.includes('integer')) values.push('1.5')
    if (schema.minimum !== undefined) values.push(String(schema.minimum - 1))
    if (schema.maximum !== undefined) values.push(String(schema.maximum + 1))
  } else if (schema.enum !== undefined) {
    values.push('not-a-member', '', String(schema.enum[0]).toUpperCase() + '!')
  } else if (kinds.includes('string')) {
    const max = Math.max(...(schema.anyOf ?? [schema]).map((s) => s.maxLength ?? 0))
    if (max > 0) values.push('y'.repeat(max + 1))
    if (schema.minLength !== undefined && schema.minLength > 0) values.push('')
    const variants = schema.anyOf ?? [schema]
    if (variants.some((s) => s.pattern !== undefined)) values.push('\u0000', '\u0007bell')
    if (variants.some((s) => s.format === 'date-time' || s.format === 'date')) values.push('2024-13-45T99:99:99Z', 'yesterday', '2024-02-30')
  }
  return values
}

/** JSON values that this body field's schema forbids. */
function badBodyValues (schema: JsonSchema, components: Record<string, JsonSchema>): unknown[] {
  const field = resolve(schema, components)
  const kinds = types(field)
  const nullable = kinds.includes('null')
  const values: unknown[] = [{ nested: { deeper: [1, 2, 3] } }]
  if (!nullable) values.push(null)
  if (kinds.includes('string')) {
    values.push(123, true, ['a'], MB)
    if (field.minLength !== undefined && field.minLength > 0) values.push('')
    if (field.enum !== undefined) values.push('not-a-member')
    if (field.pattern !== undefined || field.format !== undefined) values.push('\u0000 <script>alert(1)</script>', "' OR 1=1 --")
  }
  if (kinds.includes('integer') || kinds.includes('number')) values.push('12', -1e308, 1e308, 1.5, -1)
  if (kinds.includes('boolean')) values.push('true', 1, 0)
  if (kinds.includes('array')) {
    values.push('a,b', [{ not: 'a string' }], [null])
    if (field.maxItems !== undefined) values.push(Array.from({ length: field.maxItems + 1 }, (_, i) => `item-${i}`))
  }
  if (kinds.includes('object')) values.push('string', [1, 2])
  // Values that happen to be valid for this field are filtered out by the caller's schema check.
  return values.filter((value) => !(value !== null && typeof value === 'object' && !Array.isArray(value) && kinds.includes('object')))
}

t.test('bad input from the OpenAPI document: every case a 4xx problem, nothing written, server healthy', async (t) => {
  // No PUBLIC_BASE_URL: links follow the Host sent, so a forged one reaches link building.
  const { app } = await buildTestApp(t, { PUBLIC_BASE_URL: '', RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_AUTH_FAILURES: '1000000' })
  const document = JSON.parse(await generateOpenApiDocument())
  const components = document.components.schemas as Record<string, JsonSchema>
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db, { slug: 'fuzz' })
  const author = await newAuthor(app.db, { slug: 'fuzzer' })
  const tag = await newTag(app.db, { slug: 'fuzzy' })
  const post = await newPost(app.db, { blogId: blog.id, slug: 'fuzzed', authorIds: [author.id], tagIds: [tag.id] })
  const { key: ghostKey } = await createApiKey(app.db, 'fuzz', ['content:read'], 'ghost')

  // Every table the migrations made (a table added later is covered without a change here), but
  // the migrator's own.
  const tables = (await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()
    AND tablename NOT LIKE 'kysely_migration%' ORDER BY tablename`.execute(app.db)).rows.map((row) => row.name)
  t.ok(tables.includes('post_list_changes') && tables.includes('posts'), `the fingerprint covers ${tables.length} tables`)
  const fingerprint = async () => {
    const parts: string[] = []
    for (const table of tables) {
      const result = await sql<{ n: string, h: string | null }>`SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${sql.table(table)} AS x`.execute(app.db)
      const row = result.rows[0]
      parts.push(`${table}:${row?.n}:${row?.h}`)
    }
    return parts.join(' ')
  }
  // last_used_at moves with every authenticated request; it is not content.
  const before = await fingerprint().then((f) => f.replace(/api_keys:[^ ]+/, ''))

  let cases = 0
  const failures: string[] = []
  interface Request { method: string, url: string, headers: Record<string, string>, payload?: string }
  // /v1 answers RFC 9457 problems; the Ghost routes answer Ghost's { errors: [{ type, message }] }.
  const isError = (url: string, res: { headers: Record<string, unknown>, body: string }) => {
    if (!url.includes('/ghost/api/content/')) return String(res.headers['content-type']).startsWith('application/problem+json')
    try {
      const body = JSON.parse(res.body) as { errors?: Array<{ type?: unknown, message?: unknown }> }
      return String(res.headers['content-type']).startsWith('application/json') && typeof body.errors?.[0]?.type === 'string' && typeof body.errors[0].message === 'string'
    } catch {
      return false
    }
  }
  const expectProblem = async (label: string, request: Request, statuses?: number[]) => {
    cases++
    const res = await app.inject(request as never)
    const ok = res.statusCode >= 400 && res.statusCode < 500 && (statuses === undefined || statuses.includes(res.statusCode)) && isError(request.url, res)
    if (!ok) failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`)
  }

  // Headers whose value can only be ignored (If-None-Match, Accept): never a 5xx, and any error a problem.
  const expectNoServerError = async (label: string, request: Request) => {
    cases++
    const res = await app.inject(request as never)
    if (res.statusCode >= 500 || (res.statusCode >= 400 && !isError(request.url, res))) failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`)
  }

  const pathFor = (path: string) => path.replace('{blog}', 'fuzz').replace('{site}', 'fuzz').replace('{author}', 'fuzzer').replace('{tag}', 'fuzzy')
    .replace('{slug}', 'fuzzed').replace('{delivery}', '01900000-0000-7000-8000-000000000000')
    .replace('{id}', path.startsWith('/v1/posts') || path.includes('/ghost/api/content/posts') ? post.id : '01900000-0000-7000-8000-000000000000')
  const auth = { authorization: `Bearer ${admin}` }

  for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      // Ghost routes take their key in the query string; every case carries a valid one but the key's own.
      const ghost = path.includes('/ghost/api/content/')
      const withKey = (target: string) => ghost ? `${target}${target.includes('?') ? '&' : '?'}key=${ghostKey}` : target
      const url = withKey(pathFor(path))
      const name = `${method.toUpperCase()} ${path}`
      const body = operation.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined

      for (const parameter of operation.parameters ?? []) {
        const values = parameter.in === 'path'
          ? ['y'.repeat(201), 'y'.repeat(499)]
          : badQueryValues(resolve(parameter.schema, components))
            // A header value with control characters cannot be sent (HTTP clients refuse it).
            // eslint-disable-next-line no-control-regex -- those characters are the point
            .filter((value) => parameter.in !== 'header' || !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
        for (const value of values) {
          const target = parameter.in === 'path'
            ? withKey(path.split('/').map((segment) => segment === `{${parameter.name}}` ? encodeURIComponent(value) : pathFor(segment)).join('/'))
            : parameter.in === 'header' ? url
              : parameter.name === 'key' ? `${pathFor(path)}?key=${encodeURIComponent(value)}` : `${url}${url.includes('?') ? '&' : '?'}${parameter.name}=${encodeURIComponent(value)}`
          await expectProblem(`${name} ${parameter.in}.${parameter.name}=${value.slice(0, 30)}`, {
            method, url: target, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(parameter.in === 'header' ? { [parameter.name]: value } : {}) },
            ...(body === undefined ? {} : { payload: '{}' })
          })
        }
      }

      // Headers, on every operation: broken keys are a 401 (the probes, which take no key,
      // do not look at one); a broken If-Match on a conditional write a 400; the rest never a 5xx.
      const payloadFor = body === undefined ? {} : { payload: '{}' }
      const keyless = Array.isArray(operation.security) && operation.security.length === 0
      for (const [label, authorization] of [['no key after Bearer', 'Bearer'], ['another scheme', 'Basic dXNlcjpwYXNz'], ['spaces in the key', 'Bearer a b c'],
        ['an 8 KB key', `Bearer ${'k'.repeat(8000)}`], ['an unknown prefix', `Bearer zzzzzz_${'a'.repeat(43)}`], ['latin-1 bytes', 'Bearer \u00e9\u00e8'],
        ['an empty header', ''], ['a key with a NUL-looking escape', 'Bearer abcdef_%00%00']] as const) {
        const request = { method, url, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...payloadFor }
        if (keyless) await expectNoServerError(`${name} Authorization: ${label}`, request)
        else await expectProblem(`${name} Authorization: ${label}`, request, [401])
      }
      if (method === 'patch' || method === 'delete' || /\/(publish|unpublish)$/.test(path)) {
        // A body the route accepts, so that only If-Match can be wrong.
        const properties = body === undefined ? {} : resolve(body.anyOf?.[0] ?? body, components).properties ?? {}
        const field = ['description', 'bio', 'title', 'at'].find((candidate) => candidate in properties)
        const valid = field === undefined ? '{}' : JSON.stringify({ [field]: field === 'at' ? '2030-01-01T00:00:00Z' : 'x' })
        for (const ifMatch of ['garbage', '"unterminated', 'W/', '"a" "b"', ',', '*, *', 'v1']) {
          await expectProblem(`${name} If-Match: ${ifMatch}`, {
            method, url, headers: { ...auth, 'if-match': ifMatch, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(body === undefined ? {} : { payload: valid })
          }, url.includes('01900000-0000-7000-8000-000000000000') ? [404] : [400])
        }
      }
      if (method === 'get') {
        for (const [header, value] of [['if-none-match', 'W/'], ['if-none-match', '"unterminated'], ['if-none-match', `"${'e'.repeat(8000)}"`], ['if-modified-since', 'yesterday'],
          ['if-modified-since', 'Thu, 99 Xyz 99999 99:99:99 GMT'], ['accept', 'application/xml'], ['accept', '*/*;q=abc'], ['accept', 'garbage'], ['accept', `${'a/b,'.repeat(2000)}c/d`],
          // Hosts links cannot be built on (a port past 65535 was a 500 on every list): site-links.test.ts.
          ['host', 'evil.example:99999'], ['host', '999.999.999.999'], ['host', '[1:2:3:4:5:6:7:8:9]']] as const) {
          await expectNoServerError(`${name} ${header}: ${value.slice(0, 30)}`, { method, url, headers: { [header]: value } })
        }
      }

      if (body === undefined) continue
      for (const contentType of ['text/html', 'application/xml', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/json-patch+json']) {
        await expectProblem(`${name} Content-Type: ${contentType}`, { method, url, headers: { ...auth, 'content-type': contentType }, payload: '{}' }, [400, 415])
      }
      const schema = resolve(body.anyOf?.[0] ?? body, components)
      const minimal: Record<string, unknown> = {}
      for (const field of schema.required ?? []) {
        const fieldSchema = resolve(schema.properties?.[field] ?? {}, components)
        minimal[field] = types(fieldSchema).includes('array') ? ['fuzz'] : field === 'url' ? 'https://example.com/hook' : field === 'scopes' ? ['content:read'] : field === 'event_types' ? ['*'] : field === 'blog' ? 'fuzz' : 'Fuzz value'
      }
      for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
        for (const value of badBodyValues(fieldSchema, components)) {
          await expectProblem(`${name} body.${field}=${JSON.stringify(value)?.slice(0, 30)}`, {
            method, url, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ ...minimal, [field]: value })
          })
        }
      }
      const json = { ...auth, 'content-type': 'application/json' }
      const generic: Array<[string, Record<string, string>, string, number[] | undefined]> = [
        ['unknown field', json, JSON.stringify({ ...minimal, surprise: true }), [400]],
        ['__proto__ key', json, `{"__proto__":{"admin":true},${JSON.stringify(minimal).slice(1)}`, [400]],
        ['constructor.prototype key', json, `{"constructor":{"prototype":{"admin":true}},${JSON.stringify(minimal).slice(1)}`, [400]],
        ['not JSON', json, 'this is not json', [400]],
        ['truncated JSON', json, JSON.stringify(minimal).slice(0, -1), [400]],
        ['a JSON array', json, '[1,2,3]', [400]],
        ['a JSON string', json, '"text"', [400]],
        ['deeply nested', json, '{"title":' + '['.repeat(5000) + ']'.repeat(5000) + '}', [400]],
        // A required field twice, the same value both times: what else the body holds decides nothing.
        ...Object.entries(minimal).slice(0, 1).map(([field, value]): [string, Record<string, string>, string, number[]] =>
          [`${field} twice`, json, `{${JSON.stringify(field)}:${JSON.stringify(value)},${JSON.stringify(minimal).slice(1)}`, [400]]),
        ['wrong media type', { ...auth, 'content-type': 'text/plain' }, 'title=x', [415]],
        ['form encoded', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'title=x', [415]],
        ['over the size limit', json, JSON.stringify({ ...minimal, title: 'z'.repeat(BODY_LIMIT_BYTES) }), [413]],
        ['invalid UTF-8', json, Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString('latin1'), [400]]
      ]
      for (const [label, headers, payload, statuses] of generic) {
        await expectProblem(`${name} ${label}`, { method, url, headers, payload }, statuses)
      }
    }
  }

  // Before routing: bytes Node's HTTP parser refuses, over a real socket.
  const raw = await rawRequester(app)
  for (const [label, request] of [['a 20 KB query', `GET /v1/posts?q=${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n'], ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n'],
    ['a bad Content-Length', 'POST /v1/posts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    ['two Content-Lengths', 'POST /v1/posts HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}'],
    ['Transfer-Encoding and Content-Length', 'POST /v1/posts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}']] as const) {
    cases++
    const response = await raw(request)
    const [head = ''] = response.split('\r\n\r\n')
    if (!/^HTTP\/1\.1 4\d\d /.test(head) || !/content-type: application\/problem\+json/i.test(head)) failures.push(`before routing, ${label}: ${head.slice(0, 120)}`)
  }

  t.comment(`${cases} bad-input cases`)
  t.ok(cases > 1000, `${cases} cases ran`)
  t.same(failures, [], 'every case was a 4xx problem+json')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the server is healthy')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  t.equal((await fingerprint()).replace(/api_keys:[^ ]+/, ''), before, 'no row changed')
})
