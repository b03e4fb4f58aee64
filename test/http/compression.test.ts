import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import t from 'tap'
import { negotiateCoding } from '../../src/http/compression.ts'
import { newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Responses go out in the content coding the client accepts (RFC 9110 8.4, 12.5.3), tagged per
// coding, varying on Accept-Encoding; decoded by independent decoders (zlib, Node's fetch,
// curl) they are the identity bytes exactly.

const run = promisify(execFile)

t.test('Accept-Encoding is negotiated by the RFC: q-values, refusals, wildcards, any case', async (t) => {
  const cases: Array<[string | undefined, 'br' | 'gzip' | undefined]> = [
    [undefined, undefined], ['', undefined], ['identity', undefined], ['deflate', undefined], ['compress', undefined],
    ['gzip', 'gzip'], ['br', 'br'], ['GZIP', 'gzip'], ['Br', 'br'],
    ['gzip, deflate, br', 'br'], ['br, gzip', 'br'], ['gzip, br;q=0.9', 'gzip'], ['br;q=0.5, gzip', 'gzip'], ['gzip;q=0.2, br;q=0.9', 'br'],
    ['*', 'br'], ['br;q=0, *', 'gzip'], ['gzip;q=0, *', 'br'], ['gzip;q=0, br;q=0', undefined], ['br;q=0, gzip;q=0, *;q=0.1', undefined],
    ['*;q=0', undefined], ['gzip;q=0.000', undefined], ['gzip;q=abc', undefined], ['identity;q=0', undefined], [' gzip ; q=1 ', 'gzip']
  ]
  for (const [header, expected] of cases) t.equal(negotiateCoding(header), expected, `${JSON.stringify(header)} -> ${expected ?? 'identity'}`)
})

t.test('compressible responses go out in the negotiated coding, with their own ETag, and decode to the identity bytes', async (t) => {
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const blog = await newBlog(app.db, { slug: 'coded' })
  for (let i = 0; i < 12; i++) await newPost(app.db, { blogId: blog.id, slug: `story-${i}`, title: `Story ${i}: تحت الراية السوداء ${'long text '.repeat(20)}` })
  const get = (url: string, coding?: string, extra: Record<string, string> = {}) =>
    app.inject({ url, headers: { ...(coding === undefined ? {} : { 'accept-encoding': coding }), ...extra } })

  for (const url of ['/v1/posts', '/v1/blogs/coded/posts/story-3', '/v1/feeds/latest', '/v1/feeds/latest?format=rss', '/v1/feeds/latest?format=atom', '/v1/news-sitemap.xml']) {
    const identity = await get(url)
    t.equal(identity.statusCode, 200, url)
    t.equal(identity.headers['content-encoding'], undefined, `${url}: identity without Accept-Encoding`)
    t.match(identity.headers.vary, /\bAccept-Encoding\b/, `${url}: varies on Accept-Encoding even when not compressed`)
    for (const [coding, decode] of [['gzip', gunzipSync], ['br', brotliDecompressSync]] as const) {
      const coded = await get(url, coding)
      t.equal(coded.headers['content-encoding'], coding, `${url}: ${coding}`)
      t.ok(decode(coded.rawPayload).equals(identity.rawPayload), `${url}: ${coding} decodes to the identity bytes`)
      t.ok(coded.rawPayload.length < identity.rawPayload.length / 2, `${url}: ${coding} is ${coded.rawPayload.length} of ${identity.rawPayload.length} bytes`)
      t.equal(coded.headers['content-length'], String(coded.rawPayload.length))
      t.equal(coded.headers.etag, `${(identity.headers.etag as string).slice(0, -1)}-${coding}"`, 'a distinct representation, a distinct strong tag')
      t.match(coded.headers.vary, /\bAccept-Encoding\b/)

      const revalidated = await get(url, coding, { 'if-none-match': coded.headers.etag as string })
      t.equal(revalidated.statusCode, 304, `${url}: ${coding} revalidates with its own tag`)
      t.equal(revalidated.headers['content-encoding'], undefined, 'a 304 has no coding')
      t.equal(revalidated.rawPayload.length, 0)
      t.equal((await get(url, coding, { 'if-none-match': identity.headers.etag as string })).statusCode, 200, 'the identity\'s tag does not validate a coded response')

      const head = await app.inject({ method: 'HEAD', url, headers: { 'accept-encoding': coding } })
      t.equal(head.headers['content-length'], String(coded.rawPayload.length), `${url}: HEAD says the coded length`)
      t.equal(head.rawPayload.length, 0)
    }
  }

  // What stays identity: small bodies, errors, and clients that refuse every coding.
  const small = await get('/v1/blogs/coded', 'br')
  t.equal(small.statusCode, 200)
  t.ok(small.rawPayload.length < 1024 && small.headers['content-encoding'] === undefined, `a ${small.rawPayload.length}-byte body is sent as is`)
  const missing = await get('/v1/posts/nope', 'br')
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['content-encoding'], undefined, 'problem documents are sent as is')
  t.equal((await get('/v1/posts', 'br;q=0, gzip;q=0')).headers['content-encoding'], undefined)
})

t.test('real clients decode what they are sent: Node\'s fetch and curl --compressed', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'wire' })
  for (let i = 0; i < 12; i++) await newPost(app.db, { blogId: blog.id, slug: `wire-${i}`, title: `Wire story ${i} ${'with words '.repeat(15)}` })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const identity = await app.inject({ url: '/v1/posts' })

  // fetch (undici) asks for gzip and deflate (no brotli) and decodes transparently.
  const fetched = await fetch(`${base}/v1/posts`)
  t.equal(fetched.headers.get('content-encoding'), 'gzip')
  t.equal(await fetched.text(), identity.body, 'fetch: the identity body')

  // curl asks for the codings it was built with (gzip, usually brotli too), and decodes them.
  const { stdout } = await run('curl', ['-sS', '--compressed', '-D', '-', `${base}/v1/posts`], { maxBuffer: 16 * 1024 * 1024 })
  const [head = '', body = ''] = stdout.split('\r\n\r\n')
  t.match(head, /content-encoding: (br|gzip)/i, 'curl was sent a coded response')
  t.equal(body, identity.body, 'curl --compressed: the identity body')
})
