import t from 'tap'
import { compress } from '../../src/http/compression.ts'
import { ownedBytes } from '../../src/http/response-cache.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { testServerUrl, withAdminClient } from '../helpers/test-database.ts'
import { CHANGES_CHANNEL } from '../../src/changes/change-log.repository.ts'
import { ENV, lookups, cacheSize, twoApps, settle, quiet, waitFor } from '../helpers/response-cache.ts'

// The response cache's coherence: what it stores, when a change drops it in every process, who
// shares an entry, and that what it serves is what was computed. What it admits and keeps when
// full, and for how long: response-cache-admission.test.ts.

t.test('an app is ready once its change follower has its position, so what the first requests cache is kept', async (t) => {
  const { app } = await buildTestApp(t, ENV)
  await app.ready()
  t.not(app.changeFollower.appliedSeq, undefined, 'the first pass ran before ready')
  t.equal((await app.inject({ url: '/v1/blogs' })).statusCode, 200)
  const stored = await cacheSize(app)
  t.equal(stored.entries, 1, 'the first request was cached')
  await app.changeFollower.catchUp()
  t.same(await cacheSize(app), stored, 'and a pass with nothing new keeps it')
})

t.test('a public GET is served from the cache until a change makes it stale, in this process and in another', async (t) => {
  const { a, b, send, publish } = await twoApps(t)
  const first = await publish('First')
  const second = await publish('Second')

  // The publishes' notifications reach B on their own time; a response B computes while one
  // arrives is (rightly) not stored. Wait until B serves a hit, then count from there.
  const fresh = await b.inject({ url: `/v1/posts/${first}` })
  t.ok(await waitFor(async () => {
    const { hit } = await lookups(b)
    await b.inject({ url: `/v1/posts/${first}` })
    return (await lookups(b)).hit > hit
  }, 1_000) < 1_000, 'B caches the post')
  const counted = await lookups(b)
  const cached = await b.inject({ url: `/v1/posts/${first}` })
  t.equal(cached.body, fresh.body, 'same bytes')
  t.equal(cached.headers.etag, fresh.headers.etag, 'same ETag')
  t.equal(cached.headers['surrogate-key'], fresh.headers['surrogate-key'])
  t.ok(cached.headers['x-request-id'] !== fresh.headers['x-request-id'], 'per-request headers are not replayed')
  const revalidated = await b.inject({ url: `/v1/posts/${first}`, headers: { 'if-none-match': fresh.headers.etag as string } })
  t.equal(revalidated.statusCode, 304, 'a cached response still answers If-None-Match')
  t.equal(revalidated.body, '')
  t.equal(revalidated.headers.etag, fresh.headers.etag)
  // (Not `fresh`'s: computed while a publish's notification arrived, it may say no-cache.)
  t.equal(revalidated.headers['cache-control'], cached.headers['cache-control'])
  t.notOk(revalidated.headers['content-type'], 'no content headers on a 304')
  t.equal((await b.inject({ url: `/v1/posts/${first}`, headers: { 'if-none-match': '"other"' } })).statusCode, 200, 'another ETag gets the body')
  t.same(await lookups(b), { ...counted, hit: counted.hit + 3 })

  // The other post cached in B too, the same way (one read can overlap a late notification).
  t.ok(await waitFor(async () => {
    const { hit } = await lookups(b)
    await b.inject({ url: `/v1/posts/${second}` })
    return (await lookups(b)).hit > hit
  }, 1_000) < 1_000, 'B caches the other post')
  await b.inject({ url: '/v1/feeds/latest' })
  t.equal((await send('PATCH', `/v1/posts/${first}`, { title: 'First, corrected' })).statusCode, 200)
  const took = await waitFor(async () => (await b.inject({ url: `/v1/posts/${first}` })).json().data.title === 'First, corrected', 1_000)
  t.ok(took < 1_000, `the other process dropped the stale post within a second (${took} ms)`)
  t.equal((await b.inject({ url: '/v1/feeds/latest' })).json().data.find((item: { id: string }) => item.id === first).title, 'First, corrected', 'and the feed holding it')

  const before = await lookups(b)
  await b.inject({ url: `/v1/posts/${second}` })
  t.equal((await lookups(b)).hit, before.hit + 1, 'an unrelated post stayed cached: invalidation is precise')

  // Read-your-writes in the process that took the write: no waiting for the notification.
  t.equal((await a.inject({ url: `/v1/posts/${second}` })).json().data.title, 'Second')
  t.equal((await send('PATCH', `/v1/posts/${second}`, { title: 'Second, corrected' })).statusCode, 200)
  t.equal((await a.inject({ url: `/v1/posts/${second}` })).json().data.title, 'Second, corrected', 'the writer reads its write at once')
  t.equal((await send('DELETE', `/v1/posts/${second}`)).statusCode, 204)
  t.equal((await a.inject({ url: `/v1/posts/${second}` })).statusCode, 404, 'a deleted post is gone at once')
  t.equal((await a.inject({ url: '/v1/blogs/desk' })).json().data.title !== undefined, true)
  t.equal((await send('PATCH', '/v1/blogs/desk', { title: 'The Desk' })).statusCode, 200)
  t.equal((await a.inject({ url: '/v1/blogs/desk' })).json().data.title, 'The Desk', 'blogs too')
  t.equal((await a.inject({ url: '/v1/feeds/latest' })).json().data.some((item: { id: string }) => item.id === second), false)
})

t.test('a post change drops the lists it is or was in, in every process, and leaves other blogs\', authors\' and tags\' lists cached', async (t) => {
  const { b, send } = await twoApps(t)
  await newBlog(b.db, { slug: 'wire' })
  for (const slug of ['ann', 'bo']) await newAuthor(b.db, { slug })
  for (const slug of ['war', 'oil']) await newTag(b.db, { slug })
  const created = await send('POST', '/v1/posts', { blog: 'desk', title: 'Convoy sighted', status: 'published', authors: ['ann'], tags: ['war'] })
  t.equal(created.statusCode, 201, created.body)
  const id = created.json().data.id as string
  const wireCopy = (await send('POST', '/v1/posts', { blog: 'wire', title: 'Wire copy', status: 'published', authors: ['bo'], tags: ['oil'] })).json().data.id as string
  const lists = {
    desk: '/v1/blogs/desk/posts', deskFeed: '/v1/blogs/desk/feed?format=rss', wire: '/v1/blogs/wire/posts', wireFeed: '/v1/blogs/wire/feed?format=rss',
    ann: '/v1/authors/ann/posts', bo: '/v1/authors/bo/posts', boItself: '/v1/authors/bo', war: '/v1/tags/war/posts', oil: '/v1/tags/oil/feed', latest: '/v1/feeds/latest', authors: '/v1/authors',
    // The network's list and feed filtered to one tag, and to another blog and an author: theirs alone.
    oilFiltered: '/v1/posts?tag=oil', oilFilteredFeed: '/v1/feeds/latest?tag=oil&format=rss', wireByBo: '/v1/posts?blog=wire&author=bo',
    // Lists of the posts they name: theirs alone.
    pickedConvoy: `/v1/posts?ids=${id}`, pickedWire: `/v1/posts?ids=${wireCopy}`
  }
  /** Whether B answers `url` from its cache. */
  const servedFromCache = async (url: string) => {
    const { hit } = await lookups(b)
    const res = await b.inject({ url })
    return { hit: (await lookups(b)).hit > hit, body: res.body }
  }
  /** Every list cached in B and B up to date, then what a write in A leaves cached in B. */
  const cachedAfter = async (write: () => Promise<unknown>, seen: { url: string, text: string }) => {
    for (const url of Object.values(lists)) t.ok(await waitFor(async () => (await servedFromCache(url)).hit, 2_000) < 2_000, `B caches ${url}`)
    await quiet(b)
    await write()
    t.ok(await waitFor(async () => (await b.inject({ url: seen.url })).body.includes(seen.text), 2_000) < 2_000, 'B heard of the change')
    await quiet(b)
    const left: Record<string, boolean> = {}
    for (const [name, url] of Object.entries(lists)) left[name] = (await servedFromCache(url)).hit
    return left
  }

  const edited = await cachedAfter(() => send('PATCH', `/v1/posts/${id}`, { title: 'Convoy sighted off the cape' }), { url: lists.desk, text: 'off the cape' })
  t.same(edited, { desk: true, deskFeed: false, wire: true, wireFeed: true, ann: false, bo: true, boItself: true, war: false, oil: true, latest: false, authors: false, oilFiltered: true, oilFilteredFeed: true, wireByBo: true, pickedConvoy: false, pickedWire: true },
    'an edit: its blog\'s, author\'s and tag\'s lists and every-post lists refilled (the blog\'s, read to see the change, is cached again); the others still cached')
  const corrected = await cachedAfter(() => send('PATCH', `/v1/posts/${id}`, { authors: ['bo'], tags: ['oil'] }), { url: lists.bo, text: 'off the cape' })
  t.same(corrected, { desk: false, deskFeed: false, wire: true, wireFeed: true, ann: false, bo: true, boItself: false, war: false, oil: false, latest: false, authors: false, oilFiltered: false, oilFilteredFeed: false, wireByBo: true, pickedConvoy: false, pickedWire: true },
    'a byline corrected: the lists of the author and tag it left and of those it joined refilled; the other blog\'s still cached (filtered to bo too: bo\'s post is not in it)')
  t.notOk((await b.inject({ url: lists.ann })).body.includes('off the cape'), 'the author it left lists it no more')
  t.ok((await b.inject({ url: lists.oil })).body.includes('off the cape'), 'the tag it joined lists it')
  const moved = await cachedAfter(() => send('PATCH', `/v1/posts/${id}`, { blog: 'wire' }), { url: lists.wire, text: 'off the cape' })
  t.same(moved, { desk: false, deskFeed: false, wire: true, wireFeed: false, ann: true, bo: false, boItself: false, war: true, oil: false, latest: false, authors: false, oilFiltered: false, oilFilteredFeed: false, wireByBo: false, pickedConvoy: false, pickedWire: true },
    'moved: both blogs\' lists refilled; the author and tag it never had, still cached')
  t.notOk((await b.inject({ url: lists.deskFeed })).body.includes('off the cape'), 'the blog it left lists it no more')
})

t.test('only what any anonymous reader would get is cached', async (t) => {
  const { a, send } = await twoApps(t)
  const preview = await newApiKey(a.db, ['content:preview'])
  const draft = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Embargoed', status: 'draft' })).json().data.id as string
  await a.inject({ url: '/v1/posts?status=draft', headers: { authorization: `Bearer ${preview}` } })
  await a.inject({ url: '/v1/posts', headers: { authorization: `Bearer ${preview}` } })
  t.same(await lookups(a), { hit: 0, miss: 0, shared: 0 }, 'requests with a key never touch the cache')
  t.equal((await a.inject({ url: `/v1/posts/${draft}` })).statusCode, 404)
  t.equal((await a.inject({ url: `/v1/posts/${draft}` })).statusCode, 404, 'a 404 is not cached as a hit')
  t.equal((await a.inject({ url: '/v1/changes' })).statusCode, 200)
  t.equal((await a.inject({ url: '/v1/changes' })).statusCode, 200)
  t.equal((await lookups(a)).hit, 0, 'errors and the change feed (no-cache) are never stored')
})

t.test('clients that send different Accept headers share a page; feeds are kept per format their Accept picks', async (t) => {
  const { a, publish } = await twoApps(t)
  await publish('Shared across clients')
  await quiet(a)
  const get = (url: string, accept?: string) => a.inject({ url, headers: accept === undefined ? {} : { accept } })
  // What apps, fetch and curl, axios (the Ghost client's) and browsers send.
  const accepts = [undefined, 'application/json', '*/*', 'application/json, text/plain, */*', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']
  const first = await get('/v1/posts', accepts[0])
  const before = await lookups(a)
  for (const accept of accepts.slice(1)) t.equal((await get('/v1/posts', accept)).body, first.body, `Accept: ${String(accept)}`)
  t.same(await lookups(a), { ...before, hit: before.hit + accepts.length - 1 }, 'a list is one entry whatever Accept says')

  const formats: Array<[string, string]> = [['application/rss+xml', 'application/rss+xml'], ['application/atom+xml;q=0.9, */*;q=0.1', 'application/atom+xml'], ['application/feed+json', 'application/feed+json'], ['*/*', 'application/json']]
  for (const [accept, type] of formats) {
    const stored = await get('/v1/feeds/latest', accept)
    t.match(stored.headers['content-type'], type, `a feed asked for with ${accept} is ${type}`)
    t.match(stored.headers.vary, /\bAccept\b/, 'and varies on Accept')
  }
  const hitsBefore = (await lookups(a)).hit
  const again: Array<[string, string]> = [['application/rss+xml;q=1, */*;q=0.1', 'application/rss+xml'], ['application/atom+xml', 'application/atom+xml'], ['application/json', 'application/json'], ['', 'application/json']]
  for (const [accept, type] of again) t.match((await get('/v1/feeds/latest', accept)).headers['content-type'], type, `another Accept that picks ${type} gets its entry`)
  t.equal((await lookups(a)).hit, hitsBefore + again.length, 'each from the cache')
})

t.test('a cold key is computed once however many ask at the same moment', async (t) => {
  const { a, publish } = await twoApps(t)
  await publish('Popular')
  await settle(a)
  const before = await lookups(a)
  const responses = await Promise.all(Array.from({ length: 20 }, () => a.inject({ url: '/v1/feeds/latest?format=rss' })))
  t.same(new Set(responses.map((res) => res.statusCode)), new Set([200]))
  t.equal(new Set(responses.map((res) => res.body)).size, 1, 'everyone got the same feed')
  const counts = await lookups(a)
  t.equal(counts.miss - before.miss, 1, 'one computation')
  t.equal(counts.hit + counts.shared - before.hit - before.shared, 19, 'the others shared it')
})

t.test('those waiting for a leader whose answer is not stored compute their own at once', async (t) => {
  // The flight's own limit is the request timeout, set far beyond what this test waits: a
  // waiter answered within it was let go when the leader's response ended, not by the timer.
  const { a } = await twoApps(t, { REQUEST_TIMEOUT_MS: '120000' })
  await settle(a)
  const before = await lookups(a)
  const startedAt = Date.now()
  // A 404 is never stored; the first request leads the flight, the other nine wait for it.
  const missing = await Promise.all(Array.from({ length: 10 }, () => a.inject({ url: '/v1/posts/00000000-0000-4000-8000-000000000000' })))
  t.same(new Set(missing.map((res) => res.statusCode)), new Set([404]))
  const counts = await lookups(a)
  t.equal(counts.miss - before.miss, 10, 'every one computed its own answer')
  t.equal(counts.shared - before.shared, 0)
  t.ok(Date.now() - startedAt < 60_000, 'without waiting out the flight\'s limit')
  // The next flight for the key is led anew: no flight is left behind.
  t.equal((await a.inject({ url: '/v1/posts/00000000-0000-4000-8000-000000000000' })).statusCode, 404)
})

t.test('/metrics: Prometheus text for admins only, with routes, cache, pool and webhook queue', async (t) => {
  const { app } = await buildTestApp(t, ENV)
  const admin = await newApiKey(app.db, ['admin'])
  const reader = await newApiKey(app.db, ['content:read'])
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401)
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${reader}` } })).statusCode, 403)
  await app.inject({ url: '/v1/blogs/nope' })
  await app.inject({ url: '/v1/feeds/latest' })
  await app.inject({ url: '/v1/feeds/latest' })
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${admin}` } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.body, /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/blogs\/:blog",status_code="404"\} \d/)
  t.match(res.body, /http_request_duration_seconds_count\{method="GET",route="\/v1\/feeds\/latest",status_code="200"\} 2/)
  t.match(res.body, /response_cache_lookups_total\{result="hit"\} 1/)
  t.match(res.body, /response_cache_lookups_total\{result="miss"\} 2/, 'the feed once, the 404 once')
  t.match(res.body, /webhook_deliveries_pending 0/)
  t.match(res.body, /process_resident_memory_bytes \d+/)
  if (testServerUrl() !== undefined) t.match(res.body, /db_pool_connections\{state="max"\} \d+/)
})

t.test('a response computed while a change arrived is neither stored here nor by a shared cache', { skip: testServerUrl() === undefined ? 'needs a second connection to PostgreSQL' : false }, async (t) => {
  const { app, testDb } = await buildTestApp(t, ENV)
  const blog = await newBlog(app.db, { slug: 'desk' })
  const post = await newPost(app.db, { blogId: blog.id, title: 'Held', status: 'published' })
  await app.ready()
  await withAdminClient(testDb.url as string, async (locker) => {
    // The read is held on a lock while another process's change is announced.
    await locker.query('BEGIN')
    await locker.query('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE')
    const epoch = app.changeFollower.epoch
    const held = app.inject({ url: `/v1/posts/${post.id}` })
    t.ok(await waitFor(async () => (await locker.query(`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'posts' AND NOT l.granted`)).rowCount! > 0, 5_000) < 5_000, 'the read waits on the lock')
    await withAdminClient(testDb.url as string, (notifier) => notifier.query(`SELECT pg_notify('${CHANGES_CHANNEL}', '')`))
    t.ok(await waitFor(async () => app.changeFollower.epoch !== epoch, 5_000) < 5_000, 'the notification arrived')
    await locker.query('COMMIT')
    const response = await held
    t.equal(response.statusCode, 200)
    t.equal(response.headers['cache-control'], 'public, no-cache', 'a shared cache must revalidate it')
  })
  const { miss } = await lookups(app)
  const next = await app.inject({ url: `/v1/posts/${post.id}` })
  t.equal((await lookups(app)).miss, miss + 1, 'it was not stored')
  t.match(next.headers['cache-control'], /^public, max-age=/, 'the next one is cacheable again')
})

t.test('a cached body holds only its own bytes, not the block it was cut from', async (t) => {
  const page = Buffer.from(JSON.stringify({ data: Array.from({ length: 200 }, (_, i) => ({ id: i, title: `Post ${i}` })) }))
  const compressed = compress(page, 'br') as Buffer
  t.ok(compressed.buffer.byteLength > compressed.length * 2, `zlib hands back a view of its output chunk (${compressed.length} of ${compressed.buffer.byteLength} bytes)`)
  const small = Buffer.from('{"data":[]}')
  t.ok(small.buffer.byteLength > small.length, 'small Buffers share a pool')
  for (const [name, bytes] of [['compressed', compressed], ['pooled', small]] as const) {
    const owned = ownedBytes(bytes)
    t.equal(owned.buffer.byteLength, bytes.length, `${name}: a block of its own size`)
    t.ok(owned.equals(bytes), `${name}: the same bytes`)
  }
  const exact = Buffer.allocUnsafeSlow(4)
  t.equal(ownedBytes(exact), exact, 'a Buffer that owns its block is kept as it is')
})

t.test('a stored body is served byte for byte on every hit, until its time to live from when it was stored is over', async (t) => {
  const { app } = await buildTestApp(t, { ...ENV, RESPONSE_CACHE_TTL_SECONDS: '2' })
  const blog = await newBlog(app.db, { slug: 'desk' })
  const post = await newPost(app.db, { blogId: blog.id, title: 'Stored', bodyText: 'A long body. '.repeat(400) })
  const url = `/v1/posts/${post.id}`
  const stored = Date.now()
  const first = await app.inject({ url })
  t.ok(first.rawPayload.length > 4096, `a long body (${first.rawPayload.length} bytes)`)
  await new Promise((resolve) => setTimeout(resolve, 1_200))
  const hits: Array<Awaited<ReturnType<typeof app.inject>>> = []
  for (let i = 0; i < 9; i++) hits.push(await app.inject({ url }))
  t.same(await lookups(app), { hit: 9, miss: 1, shared: 0 }, 'every one a hit')
  for (const [i, hit] of hits.entries()) {
    t.ok(hit.rawPayload.equals(first.rawPayload), `hit ${i + 1}: the same bytes`)
    t.equal(hit.headers['content-length'], first.headers['content-length'])
    t.equal(hit.headers.etag, first.headers.etag)
  }
  const revalidated = await app.inject({ url, headers: { 'if-none-match': first.headers.etag as string } })
  t.equal(revalidated.statusCode, 304)
  // Asked for at 1.2 s, the entry still expires 2 s after it was stored: hits do not extend it.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, stored + 2_300 - Date.now())))
  await app.inject({ url })
  t.equal((await lookups(app)).miss, 2, 'computed again once its time to live is over')
})
