import pino from 'pino'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { ENV, admissions, lookups, cacheSize, started, twoApps, quiet, waitFor } from '../helpers/response-cache.ts'

// What the response cache admits when it is full (TinyLFU), how long it keeps an entry, and the
// memory it gives back; its coherence: response-cache.test.ts. (One file took half of tap's
// per-file time on a busy machine.)

t.test('by default a response is stored the second time it is asked for, or the first when others wait for it', async (t) => {
  const { a, publish } = await twoApps(t, { RESPONSE_CACHE_MIN_USES: '2' })
  const id = await publish('Read twice')
  await publish('Read by many')
  await quiet(a)
  const url = `/v1/posts/${id}`
  const answers = [await a.inject({ url }), await a.inject({ url })]
  t.same(await lookups(a), { hit: 0, miss: 2, shared: 0 }, 'computed twice')
  t.same(await admissions(a), { admitted: 1, declined: 1, outranked: 0 }, 'declined the first time, stored the second')
  answers.push(await a.inject({ url }))
  t.same(await lookups(a), { hit: 1, miss: 2, shared: 0 }, 'then served from the cache')
  for (const res of answers) {
    t.equal(res.statusCode, 200)
    t.ok(res.rawPayload.equals(answers[0]!.rawPayload), 'the same bytes, stored or not')
    t.equal(res.headers.etag, answers[0]!.headers.etag)
  }
  // A cold key wanted by many at once is already wanted twice: stored at its first computation.
  const feed = await Promise.all(Array.from({ length: 10 }, () => a.inject({ url: '/v1/feeds/latest' })))
  t.equal(new Set(feed.map((res) => res.body)).size, 1)
  t.same(await lookups(a), { hit: 1, miss: 3, shared: 9 }, 'one computation, shared by the others')
  t.same(await admissions(a), { admitted: 2, declined: 1, outranked: 0 })
  t.equal((await a.inject({ url: '/v1/feeds/latest' })).statusCode, 200)
  t.equal((await lookups(a)).hit, 2, 'and stored')
})

t.test('once full, a response is stored only when asked for more often than the entry it would push out', async (t) => {
  const { a, publish } = await twoApps(t, { RESPONSE_CACHE_MIN_USES: '2', RESPONSE_CACHE_MAX_MB: '0.03' })
  const ids: string[] = []
  for (let i = 0; i < 41; i++) ids.push(await publish(`Story ${i}`))
  await quiet(a)
  const read = async (id: string) => t.equal((await a.inject({ url: `/v1/posts/${id}` })).statusCode, 200)
  const [popular, rising, thrice, ...others] = ids as [string, string, string, ...string[]]
  for (let i = 0; i < 5; i++) await read(popular)
  t.same(await admissions(a), { admitted: 1, declined: 1, outranked: 0 }, 'the popular page stored at its second miss')
  // Thirty-eight other pages read twice each: 30 KB holds some of them; then the least recently used
  // entry is the popular page, read five times, and a page read twice does not push it out.
  for (const id of others) { await read(id); await read(id) }
  const full = await admissions(a)
  t.ok(full.outranked > 0 && full.admitted > 1, `stored while there was room, then outranked: ${JSON.stringify(full)}`)
  // Nor does one read three times: the popular page missed twice, but its hits count too.
  for (let i = 0; i < 3; i++) await read(thrice)
  const before = await lookups(a)
  await read(popular)
  t.equal((await lookups(a)).hit, before.hit + 1, 'the popular page is still a hit')
  // A page asked for more often than the popular one takes its place.
  for (let i = 0; i < 8; i++) await read(rising)
  const after = await lookups(a)
  await read(rising)
  t.equal((await lookups(a)).hit, after.hit + 1, 'the rising page is stored')
})

t.test('an entry that fits only without its overhead is weighed against the one it would push out', async (t) => {
  const { app: sizer } = await buildTestApp(t, ENV)
  const blog = await newBlog(sizer.db, { slug: 'desk' })
  const [kept, newcomer] = [`/v1/posts/${(await newPost(sizer.db, { blogId: blog.id, title: 'Kept' })).id}`, `/v1/posts/${(await newPost(sizer.db, { blogId: blog.id, title: 'Newcomer' })).id}`]
  await started(sizer)
  await quiet(sizer)
  // The two entries' sizes as stored (body and overhead), and the newcomer's body as sent.
  await sizer.inject({ url: kept })
  const keptSize = (await cacheSize(sizer)).bytes
  const newcomerBody = (await sizer.inject({ url: newcomer })).rawPayload.length
  const newcomerSize = (await cacheSize(sizer)).bytes - keptSize
  t.ok(newcomerSize > newcomerBody, `stored, the newcomer takes more than its body (${newcomerSize} > ${newcomerBody} bytes)`)
  // A cache with room for the newcomer's body beside the kept entry, but not for the whole entry.
  const maxBytes = keptSize + Math.floor((newcomerBody + newcomerSize) / 2)
  const app = await buildApp({ config: loadConfig({ ...ENV, RESPONSE_CACHE_MIN_USES: '2', RESPONSE_CACHE_MAX_MB: String(maxBytes / 1048576) }), database: sizer.database, logger: pino({ level: 'silent' }), backgroundJobs: false })
  t.teardown(() => app.close())
  await started(app)
  for (let i = 0; i < 5; i++) await app.inject({ url: kept })
  for (let i = 0; i < 2; i++) await app.inject({ url: newcomer })
  t.same(await admissions(app), { admitted: 1, declined: 2, outranked: 1 }, 'the newcomer, asked for twice, is outranked by the page asked for five times')
  const before = await lookups(app)
  await app.inject({ url: kept })
  t.equal((await lookups(app)).hit, before.hit + 1, 'the kept page is still a hit')
})

t.test('entries past their time to live make room: after a change of traffic the new pages are stored', async (t) => {
  const { a, publish } = await twoApps(t, { RESPONSE_CACHE_MIN_USES: '2', RESPONSE_CACHE_MAX_MB: '0.03', RESPONSE_CACHE_TTL_SECONDS: '2' })
  const ids: string[] = []
  for (let i = 0; i < 40; i++) ids.push(await publish(`Story ${i}`))
  await quiet(a)
  const read = async (id: string) => t.equal((await a.inject({ url: `/v1/posts/${id}` })).statusCode, 200)
  const old = ids.slice(0, 30)
  const fresh = ids.slice(30)
  // Each old page read four times: the cache fills, and the pages after that are outranked.
  for (const id of old) for (let i = 0; i < 4; i++) await read(id)
  const filled = await admissions(a)
  t.ok(filled.outranked > 0, `the cache is full of pages read four times: ${JSON.stringify(filled)}`)
  t.ok((await cacheSize(a)).entries > 0)
  // Nothing reads the old pages any more. Once they have expired, pages read twice are stored at
  // their second miss: no dead entry outranks them.
  await new Promise((resolve) => setTimeout(resolve, 2_100))
  for (const id of fresh) { await read(id); await read(id) }
  const shifted = await admissions(a)
  t.equal(shifted.outranked, filled.outranked, 'none outranked')
  t.equal(shifted.admitted, filled.admitted + fresh.length, 'each stored at its second miss')
  const before = await lookups(a)
  for (const id of fresh) await read(id)
  t.equal((await lookups(a)).hit, before.hit + fresh.length, 'and each a hit after')
})

t.test('entries past their time to live give back their memory unasked', async (t) => {
  const { a, publish } = await twoApps(t, { RESPONSE_CACHE_TTL_SECONDS: '1' })
  const id = await publish('Story')
  await quiet(a)
  t.equal((await a.inject({ url: `/v1/posts/${id}` })).statusCode, 200)
  const stored = await cacheSize(a)
  t.equal(stored.entries, 1, 'stored')
  t.ok(stored.bytes > 0)
  t.ok(await waitFor(async () => (await cacheSize(a)).entries === 0, 5_000) < 5_000, 'dropped with no request for it')
  t.equal((await cacheSize(a)).bytes, 0)
})

t.test('entries expire without a timer each', async (t) => {
  const { a, publish } = await twoApps(t)
  const ids: string[] = []
  for (let i = 0; i < 30; i++) ids.push(await publish(`Story ${i}`))
  await quiet(a)
  // Timers set while the pages are stored that are still pending afterwards (neither cleared nor
  // run): lru-cache's ttlAutopurge set one an entry, for its time to live.
  const pending = new Set<unknown>()
  const { setTimeout: originalSet, clearTimeout: originalClear } = globalThis
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = originalSet((...callbackArgs: unknown[]) => { pending.delete(timer); callback(...callbackArgs) }, ms, ...args)
    pending.add(timer)
    return timer
  }) as typeof globalThis.setTimeout
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => { pending.delete(timer); originalClear(timer) }) as typeof globalThis.clearTimeout
  try {
    for (const id of ids) t.equal((await a.inject({ url: `/v1/posts/${id}` })).statusCode, 200)
  } finally {
    globalThis.setTimeout = originalSet
    globalThis.clearTimeout = originalClear
  }
  t.equal((await cacheSize(a)).entries, 30, 'thirty entries stored')
  // A timer an entry took 250 bytes of heap an entry more: 1,355-1,395 bytes against 1,108-1,124
  // with one sweep, 20,000 article pages stored, three runs each.
  t.ok(pending.size < 10, `${pending.size} timers pending, not one an entry`)
})

t.test('a page is counted whatever the coding it is asked for in', async (t) => {
  const { a, publish } = await twoApps(t, { RESPONSE_CACHE_MIN_USES: '2', RESPONSE_CACHE_MAX_MB: '0.03' })
  const ids: string[] = []
  for (let i = 0; i < 40; i++) ids.push(await publish(`Story ${i} ${'with a headline long enough '.repeat(9)}`))
  await quiet(a)
  const read = async (id: string, coding?: string) => {
    const res = await a.inject({ url: `/v1/posts/${id}`, headers: coding === undefined ? {} : { 'accept-encoding': coding } })
    t.equal(res.statusCode, 200)
    return res
  }
  const [page, ...others] = ids as [string, ...string[]]
  for (const id of others) { await read(id); await read(id) }
  t.ok((await admissions(a)).outranked > 0, 'the cache is full')
  for (let i = 0; i < 3; i++) await read(page)
  // Asked for three times as it is sent uncompressed: its first brotli request is already its
  // fourth, more than the twice of the entry it would push out, so it is stored at once.
  t.equal((await read(page, 'br')).headers['content-encoding'], 'br')
  const before = await lookups(a)
  t.equal((await read(page, 'br')).headers['content-encoding'], 'br')
  t.equal((await lookups(a)).hit, before.hit + 1, 'the second brotli request is a hit')
})

t.test('RESPONSE_CACHE_MAX_MB=0 turns the cache off', async (t) => {
  const { a } = await twoApps(t, { RESPONSE_CACHE_MAX_MB: '0' })
  t.equal((await a.inject({ url: '/v1/feeds/latest' })).statusCode, 200)
  t.equal((await a.inject({ url: '/v1/feeds/latest' })).statusCode, 200)
  t.same(await lookups(a), { hit: 0, miss: 0, shared: 0 })
})
