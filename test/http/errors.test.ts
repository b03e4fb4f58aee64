import pino from 'pino'
import t from 'tap'
import { toAppError } from '../../src/http/errors.ts'
import { rawRequester } from '../helpers/raw-http.ts'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

t.test('an unknown route is a 404 problem+json that is never cached; a known one with another method, a 405', async (t) => {
  const { app } = await buildTestApp(t)
  for (const [method, url] of [['GET', '/nope'], ['GET', '/v1/nothing-here?x=1'], ['DELETE', '/v1/nothing-here']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.equal(res.headers['cache-control'], 'no-store')
    const problem = res.json()
    t.match(problem, { type: '/problems/not-found', title: 'Not Found', status: 404, code: 'not_found', instance: url.split('?')[0] })
    t.equal(problem.request_id, res.headers['x-request-id'])
  }
  // A path that is there, asked with a method it does not take: 405, never cached either
  // (test/http/allowed-methods.test.ts goes over every path).
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/v1/blogs' })
  t.equal(wrongMethod.statusCode, 405)
  t.equal(wrongMethod.headers.allow, 'GET, HEAD, POST, OPTIONS')
  t.equal(wrongMethod.headers['cache-control'], 'no-store')
  t.match(wrongMethod.json(), { type: '/problems/method-not-allowed', status: 405, code: 'method_not_allowed', instance: '/v1/blogs' })
})

t.test('URLs the router cannot take are problems too, never a bare framework error', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, number]> = [['/v1/blogs/%C3%28', 400], [`/v1/blogs/${'a'.repeat(600)}`, 414]]
  for (const [url, status] of cases) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, status, url.slice(0, 30))
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.match(res.json(), { status, type: String, title: String, code: String })
  }
})

t.test('X-Request-Id: a safe incoming id is echoed, anything else is replaced', async (t) => {
  const { app, logs } = await buildTestApp(t)
  const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'edge-123.abc' } })
  t.equal(kept.headers['x-request-id'], 'edge-123.abc')
  const replaced = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\twith <html>' } })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const fresh = await app.inject({ url: '/v1/blogs' })
  t.match(fresh.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  t.ok(logs.some((line) => line.reqId === fresh.headers['x-request-id']), 'the log carries the same id')
})

t.test('an Authorization header never reaches the logs', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOG_LEVEL: 'trace' })
  const secret = 'ck_live_supersecretvalue123'
  await app.inject({ url: '/v1/blogs', headers: { authorization: `Bearer ${secret}` } })
  await app.inject({ url: '/v1/blogs/x', headers: { authorization: `Bearer ${secret}` } })
  t.ok(logs.length > 0, 'something was logged')
  t.notMatch(JSON.stringify(logs), secret)
})

t.test('security headers suit an API', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/v1/blogs' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.equal(res.headers['referrer-policy'], 'no-referrer')
  t.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'")
})

t.test('CORS: any origin by default, only the allowlist when one is configured', async (t) => {
  const open = await buildTestApp(t)
  const anyOrigin = await open.app.inject({ url: '/v1/blogs', headers: { origin: 'https://anywhere.example' } })
  t.equal(anyOrigin.headers['access-control-allow-origin'], '*')
  t.match(anyOrigin.headers['access-control-expose-headers'], /X-Request-Id/)

  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'https://app.example.com, https://news.example.org' })
  const allowed = await app.inject({ url: '/v1/blogs', headers: { origin: 'https://news.example.org' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://news.example.org')
  const refused = await app.inject({ url: '/v1/blogs', headers: { origin: 'https://evil.example' } })
  t.equal(refused.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({
    method: 'OPTIONS', url: '/v1/blogs', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' }
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com')
})

t.test('errors raised before routing (oversized or malformed request lines and headers) are problem+json on the wire', async (t) => {
  const { app } = await buildTestApp(t)
  // Raw bytes over a real socket: these never reach a route, so app.inject cannot show them.
  const raw = await rawRequester(app)
  const cases: Array<[string, string, number]> = [
    ['a 20 KB query string', `GET /v1/posts?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['a 20 KB header', `GET /v1/posts HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400],
    ['a header without a colon', 'GET /v1/posts HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n', 400],
    ['a control character in a header value', 'GET /v1/posts HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n', 400],
    ['an unknown HTTP version', 'GET /v1/posts HTTP/9.9\r\nHost: x\r\n\r\n', 400]
  ]
  for (const [what, request, status] of cases) {
    const response = await raw(request)
    const [head = '', body = ''] = response.split('\r\n\r\n')
    t.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${status}`)
    t.match(head, /content-type: application\/problem\+json/i, `${what}: problem+json`)
    const problem = JSON.parse(body) as { status: number, type: string, title: string, code: string }
    t.match(problem, { status, type: String, title: String, code: String }, `${what}: a problem document`)
  }
})

t.test('a body that is not JSON, or JSON refused on purpose, is a 400 that says why', async (t) => {
  const { app } = await buildTestApp(t)
  const key = await newApiKey(app.db, ['content:write'])
  await newBlog(app.db, { slug: 'desk' })
  const send = (payload: string, contentType = 'application/json') => app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, payload })
  const cases: Array<[string, string, RegExp]> = [
    ['a trailing comma', '{"blog":"desk","title":"x",}', /^The body is not valid JSON: .*(position|property name)/],
    ['single quotes', '{\'blog\':\'desk\'}', /^The body is not valid JSON: /],
    ['cut short', '{"blog":"desk","title":"x"', /^The body is not valid JSON: /],
    // Valid JSON, refused: the keys that pollute prototypes, at any depth.
    ['a __proto__ key', '{"blog":"desk","title":"x","__proto__":{"admin":true}}', /"__proto__" key, or a "constructor" with a "prototype"/],
    ['constructor.prototype, nested', '{"blog":"desk","title":"x","seo":{"constructor":{"prototype":{"x":1}}}}', /"__proto__" key, or a "constructor" with a "prototype"/],
    ['an empty body', '', /^The body is empty/]
  ]
  for (const [what, payload, detail] of cases) {
    const res = await send(payload)
    t.equal(res.statusCode, 400, what)
    t.equal(res.headers['content-type'], 'application/problem+json', what)
    t.equal(res.json().type, payload === '' ? '/problems/ctp-empty-json-body' : '/problems/ctp-invalid-json-body', `${what}: the same problem type as before`)
    t.match(res.json().detail, detail, `${what}: ${res.json().detail}`)
  }
  t.equal((await send('{"blog":"desk","title":"With a charset"}', 'application/json; charset=utf-8')).statusCode, 201, 'parameters on the media type still parse')
  t.equal((await send('{"blog":"desk","title":"A \\"constructor\\" field is fine","excerpt":"constructor"}')).statusCode, 201, 'the words themselves are fine')
})

t.test('database errors by their SQLSTATE: what the client can do about each', async (t) => {
  const request = (method: string) => ({ method, headers: {}, log: pino({ level: 'silent' }) })
  const cases: Array<[code: string, method: string, status: number, problem: string, retryAfter?: string]> = [
    // Cancelled at DATABASE_STATEMENT_TIMEOUT_MS (db/postgres.ts).
    ['57014', 'GET', 503, 'database_timeout', '5'],
    ['57014', 'POST', 503, 'database_timeout', '5'],
    // A replica's recovery conflict (db/replication.ts) cancels reads only: not a write collision.
    ['40001', 'GET', 503, 'read_conflict', '1'],
    ['40P01', 'HEAD', 503, 'read_conflict', '1'],
    ['40001', 'POST', 409, 'conflict', '1'],
    ['40P01', 'PATCH', 409, 'conflict', '1'],
    ['40001', 'DELETE', 409, 'conflict', '1'],
    ['23505', 'PUT', 409, 'conflict'],
    ['22021', 'GET', 400, 'invalid_value'],
    ['08006', 'GET', 503, 'database_unavailable', '5'],
    ['57P01', 'POST', 503, 'database_unavailable', '5'],
    ['42P01', 'GET', 500, 'internal_error']
  ]
  for (const [code, method, status, problem, retryAfter] of cases) {
    const error = Object.assign(new Error(`SQLSTATE ${code}`), { code })
    const answer = toAppError(error, request(method))
    t.equal(answer.status, status, `${code} on ${method}: ${status}`)
    t.equal(answer.code, problem, `${code} on ${method}: ${problem}`)
    t.equal(answer.extra.headers?.['retry-after'], retryAfter, `${code} on ${method}: Retry-After ${retryAfter ?? 'none'}`)
  }
})
