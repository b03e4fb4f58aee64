import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { EXPOSED_HEADERS } from '../../src/http/cors.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A frontend on another origin reads only the response headers the Fetch standard safelists and
// those Access-Control-Expose-Headers names; a browser hides the rest from its JavaScript. So
// every header the API documents, and every one it sends for a client to act on, is one or the
// other. (npm run test:cors-browser reads them in Chromium.)

const SAFELISTED = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma']
// For caches, proxies and the browser itself, not for a client's code: they need no exposing.
const NOT_FOR_CLIENT_CODE = new Set(['vary', 'surrogate-key', 'x-robots-tag', 'content-encoding', 'date', 'connection', 'keep-alive', 'transfer-encoding',
  'x-content-type-options', 'x-frame-options', 'content-security-policy', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy',
  'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection', 'strict-transport-security',
  'cross-origin-embedder-policy', 'accept-ranges'])
const readable = new Set([...SAFELISTED, ...EXPOSED_HEADERS.map((name) => name.toLowerCase())])

t.test('every response header the OpenAPI document names is readable from another origin', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, { responses?: Record<string, { headers?: Record<string, unknown> }> }>> }
  const documented = new Set(Object.values(document.paths).flatMap((item) => Object.values(item))
    .flatMap((operation) => Object.values(operation.responses ?? {})).flatMap((response) => Object.keys(response.headers ?? {}).map((name) => name.toLowerCase())))
  t.ok(documented.has('ratelimit-remaining') && documented.has('retry-after'), `read the document's headers: ${[...documented].join(', ')}`)
  t.same([...documented].filter((name) => !readable.has(name)), [], 'none hidden from a browser client')
})

t.test('every header the API sends a client, over a sample of every kind of answer, is readable from another origin', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'https://app.example.com', RATE_LIMIT_ANONYMOUS: '3' })
  await seedDemo(app.db)
  const writer = await newApiKey(app.db, ['content:write'])
  const ghostKey = (await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')).key
  const origin = 'https://app.example.com'
  const sent = new Map<string, string>()
  const ask = async (what: string, options: { method?: string, url: string, headers?: Record<string, string>, payload?: string }) => {
    const res = await app.inject({ method: (options.method ?? 'GET') as 'GET', url: options.url, headers: { origin, ...options.headers }, ...(options.payload === undefined ? {} : { payload: options.payload }) })
    t.equal(res.headers['access-control-allow-origin'], origin, `${what}: allowed`)
    for (const name of Object.keys(res.headers)) if (!sent.has(name)) sent.set(name, `${what} (${res.statusCode})`)
    return res
  }
  const post = await ask('a post', { url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports', headers: { authorization: `Bearer ${writer}` } })
  await ask('revalidated', { url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports', headers: { authorization: `Bearer ${writer}`, 'if-none-match': String(post.headers.etag) } })
  await ask('a list', { url: '/v1/posts?limit=2', headers: { authorization: `Bearer ${writer}` } })
  await ask('a feed', { url: '/v1/feeds/latest?format=rss', headers: { authorization: `Bearer ${writer}` } })
  const write = { method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json', 'idempotency-key': 'cors-1' }, payload: JSON.stringify({ blog: 'under-the-black-flag', title: 'Cross-origin' }) }
  await ask('a create', write)
  const replay = await ask('a replayed create', write)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  await ask('a bad key', { url: '/v1/posts', headers: { authorization: 'Bearer nokey1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } })
  await ask('Ghost', { url: `/ghost/api/content/posts/?key=${ghostKey}&limit=1` })
  await ask('a method the path does not take', { method: 'PUT', url: '/v1/blogs/under-the-black-flag', headers: { authorization: `Bearer ${writer}` } })
  await ask('a body type not taken', { method: 'PATCH', url: '/v1/blogs/under-the-black-flag', headers: { authorization: `Bearer ${writer}`, 'content-type': 'text/plain' }, payload: 'x' })
  for (let i = 0; i < 4; i++) await ask('anonymous, then rate-limited', { url: '/v1/blogs' })
  t.ok(sent.has('ratelimit-remaining') && sent.has('retry-after') && sent.has('www-authenticate') && sent.has('content-version') && sent.has('location') &&
    sent.has('allow') && sent.has('accept-patch'), `the sample met them: ${[...sent.keys()].join(', ')}`)
  t.same([...sent].filter(([name]) => !readable.has(name) && !NOT_FOR_CLIENT_CODE.has(name) && !name.startsWith('access-control-')).map(([name, where]) => `${name}, first in ${where}`), [], 'none hidden from a browser client')
})
