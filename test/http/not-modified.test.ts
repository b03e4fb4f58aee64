import t from 'tap'
import { buildTestApp } from '../helpers/test-app.ts'
import { newBlog, newPost } from '../helpers/factories.ts'
import { nextSecond } from '../helpers/clock.ts'
import { rawRequester } from '../helpers/raw-http.ts'

// A 304 carries the validators and caching headers and nothing of the content: no body, no
// Content-Type, and no Content-Length unless it is the length the 200 would have had (RFC 9110
// 8.6, 15.4.5). A `Content-Length: 0` on a 304 is a lie a cache may believe (it updates what it
// stores from a 304's headers). Checked on the wire, for every way a 304 is made: computed or
// replayed from the response cache, If-None-Match or If-Modified-Since, GET or HEAD, JSON or XML.

function parse (response: string): { status: number, headers: Map<string, string>, body: string } {
  const [head = '', ...rest] = response.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = new Map(lines.map((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string]
  }))
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') }
}

for (const cache of ['on', 'off'] as const) {
  t.test(`every 304 is bare of content headers (response cache ${cache})`, async (t) => {
    const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: cache === 'on' ? '16' : '0' })
    await newBlog(app.db, { slug: 'bare' })
    const blog = await app.db.selectFrom('blogs').select('id').where('slug', '=', 'bare').executeTakeFirstOrThrow()
    const post = await newPost(app.db, { blogId: blog.id, slug: 'validated' })
    // Past the second of these writes, so the single post and the feeds carry Last-Modified.
    await nextSecond()
    // Not half-closed: some of these responses take a query to compute.
    const send = await rawRequester(app, { halfClose: false })
    const request = async (method: string, url: string, headers: Record<string, string> = {}) => parse(await send(
      `${method} ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}Connection: close\r\n\r\n`))

    for (const url of ['/v1/posts', `/v1/posts/${post.id}`, '/v1/blogs/bare/posts/validated', '/v1/feeds/latest', '/v1/feeds/latest?format=rss', '/v1/sitemap.xml']) {
      const first = await request('GET', url)
      t.equal(first.status, 200, url)
      // A second GET is the one a warm response cache answers.
      const full = await request('GET', url)
      const etag = full.headers.get('etag') as string
      t.equal(full.headers.get('content-length'), String(Buffer.byteLength(full.body)), `${url}: a 200 says its length`)
      const conditions: Array<[string, Record<string, string>]> = [['GET', { 'If-None-Match': etag }], ['HEAD', { 'If-None-Match': etag }]]
      const lastModified = full.headers.get('last-modified')
      if (lastModified !== undefined) conditions.push(['GET', { 'If-Modified-Since': lastModified }])
      for (const [method, headers] of conditions) {
        const what = `${method} ${url} ${Object.keys(headers)[0]}`
        const answer = await request(method, url, headers)
        t.equal(answer.status, 304, what)
        t.equal(answer.body, '', `${what}: no body`)
        t.equal(answer.headers.get('etag'), etag, `${what}: the validator`)
        t.ok(answer.headers.get('cache-control'), `${what}: the caching policy`)
        t.notOk(answer.headers.has('content-type'), `${what}: no Content-Type`)
        const length = answer.headers.get('content-length')
        t.ok(length === undefined || length === full.headers.get('content-length'), `${what}: no Content-Length but the 200's (got ${length})`)
      }
    }
  })
}

t.test('no Last-Modified in the second of the last change: two publishes in one second cannot hide the second from If-Modified-Since', async (t) => {
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const blog = await newBlog(app.db, { slug: 'burst' })
  await newPost(app.db, { blogId: blog.id, slug: 'first', publishedAt: new Date(Date.now() - 60_000) })
  const url = '/v1/feeds/latest?format=rss'

  // A copy made in the second of its change has no date a later change of that second could share.
  await nextSecond()
  const second = Math.floor(Date.now() / 1000)
  await newPost(app.db, { blogId: blog.id, slug: 'second', publishedAt: new Date() })
  const sameSecond = await app.inject({ url })
  if (Math.floor(Date.now() / 1000) === second) t.equal(sameSecond.headers['last-modified'], undefined, 'made in the change\'s second: no Last-Modified')
  t.ok(sameSecond.headers.etag, 'the ETag validates it')
  // A database clock ahead of this one dates nothing in the future (RFC 9110 8.8.2.1).
  await app.db.updateTable('posts').set({ updated_at: new Date(Date.now() + 5_000) }).where('slug', '=', 'second').execute()
  t.equal((await app.inject({ url })).headers['last-modified'], undefined, 'a change dated ahead of the clock: no Last-Modified')
  await app.db.updateTable('posts').set({ updated_at: new Date(second * 1000 + 100) }).where('slug', '=', 'second').execute()

  // In a later second, the date comes, and validates until the next change.
  await nextSecond()
  const later = await app.inject({ url })
  const lastModified = later.headers['last-modified'] as string
  t.equal(lastModified, new Date(second * 1000).toUTCString(), 'dated the second of the change')
  t.equal((await app.inject({ url, headers: { 'if-modified-since': lastModified } })).statusCode, 304)
  // The next change is in a later second than that copy was made in, so it dates later.
  await newPost(app.db, { blogId: blog.id, slug: 'third', publishedAt: new Date() })
  const changed = await app.inject({ url, headers: { 'if-modified-since': lastModified } })
  t.equal(changed.statusCode, 200, 'the next change is not hidden')
  t.match(changed.body, /third/)
})
