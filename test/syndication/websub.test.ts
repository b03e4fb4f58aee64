import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { loadConfig } from '../../src/config.ts'
import { publishToHub } from '../../src/syndication/feeds/websub-publisher.plugin.ts'
import { leaseCursor } from '../../src/changes/cursor-leases.repository.ts'
import { compactChangeLog } from '../../src/syndication/change-log-compaction.ts'
import { fanOut } from '../../src/syndication/webhooks/dispatcher.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Feeds name a WebSub hub; WebSub says the publisher must tell the hub when a topic (a feed's
// self URL) is updated. The hub here is a stand-in on a loopback port (hubs are third-party
// services): it records each publish ping as the form hubs read, and can be made to fail.

async function startHub (t: Test) {
  const pings: Array<{ contentType: string | undefined, form: URLSearchParams }> = []
  let status = 204
  const read = async (request: IncomingMessage) => {
    let body = ''
    for await (const chunk of request) body += String(chunk)
    return body
  }
  const server = createServer((request, response) => {
    void read(request).then((body) => {
      if (status < 300) pings.push({ contentType: request.headers['content-type'], form: new URLSearchParams(body) })
      response.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub`, pings, fail: (code: number) => { status = code }, recover: () => { status = 204 } }
}

const BASE = 'https://api.example'

/** A stand-in hub, an app that tells it of its feeds' updates, and a writer's requests to the app. */
async function appWithHub (t: Test) {
  const hub = await startHub(t)
  const { app } = await buildTestApp(t, { WEBSUB_HUB_URL: hub.url, PUBLIC_BASE_URL: BASE })
  const key = await newApiKey(app.db, ['content:write'])
  const send = (method: 'POST' | 'PATCH', url: string, payload: object) => app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, payload })
  return { hub, app, send }
}

t.test('a public change tells the hub of every feed it updated, by the self URLs those feeds give', async (t) => {
  const { hub, app, send } = await appWithHub(t)
  await send('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  await send('POST', '/v1/authors', { name: 'Ann', slug: 'ann' })
  await send('POST', '/v1/tags', { name: 'Harbour', slug: 'harbour' })
  t.equal((await publishToHub(app.db, app.config)).changes, 3, 'the blog, author and tag')
  hub.pings.length = 0

  // A draft: nothing the public saw, no ping.
  const draft = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Draft', authors: ['ann'], tags: ['harbour'] })).json().data as { id: string }
  t.same(await publishToHub(app.db, app.config), { changes: 0, topics: 0 })
  t.equal(hub.pings.length, 0, 'no ping for a draft')

  t.equal((await send('POST', `/v1/posts/${draft.id}/publish`, {})).statusCode, 200)
  const passed = await publishToHub(app.db, app.config)
  t.equal(passed.changes, 1)
  t.equal(hub.pings.length, 1, 'one ping')
  const [ping] = hub.pings
  t.equal(ping?.contentType, 'application/x-www-form-urlencoded;charset=UTF-8', 'a form, as hubs read it')
  t.equal(ping?.form.get('hub.mode'), 'publish')
  const pinged = new Set(ping?.form.getAll('hub.url'))
  t.equal(pinged.size, passed.topics)

  // Each feed the post is in, each format, with and without the article: the very URL its self link gives.
  for (const path of ['/v1/feeds/latest', '/v1/feeds/breaking', '/v1/blogs/desk/feed', '/v1/authors/ann/feed', '/v1/tags/harbour/feed']) {
    for (const query of ['', 'content=full&']) {
      for (const format of ['rss', 'atom', 'jsonfeed']) {
        const res = await app.inject({ url: `${path}?${query}format=${format}` })
        const self = /<([^>]+)>; rel="self"/.exec(String(res.headers.link))?.[1]
        t.ok(self !== undefined && pinged.has(self), `${path}?${query}format=${format}: the hub was told of ${self}`)
        t.ok(res.body.includes(hub.url), 'and the feed names the hub')
      }
    }
  }
  t.equal(pinged.size, 5 * 2 * 3, 'and nothing else')
  // A feed filtered by query, or addressed by id, is a topic never pinged: naming the hub there
  // would leave its subscribers waiting for pushes that never come, so it names none.
  const annId = (await app.inject({ url: '/v1/authors/ann' })).json().data.id as string
  for (const url of ['/v1/feeds/latest?tag=harbour&format=rss', '/v1/feeds/latest?format=atom&limit=5', `/v1/authors/${annId}/feed?format=rss`,
    '/v1/tags/harbour/feed?content=summary&format=jsonfeed', '/v1/blogs/desk/feed?language=en&format=atom']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.ok(res.body.includes(draft.id) && !res.body.includes(hub.url) && !String(res.headers.link ?? '').includes('rel="hub"'), `${url}: lists the post, names no hub`)
  }

  // The hub fails: the ping is sent again, the same topics, once it answers.
  hub.pings.length = 0
  hub.fail(503)
  await send('PATCH', `/v1/posts/${draft.id}`, { title: 'Published, then edited' })
  await t.rejects(publishToHub(app.db, app.config), /WebSub hub answered 503/)
  hub.recover()
  t.equal((await publishToHub(app.db, app.config)).changes, 1, 'the same change, again')
  t.same(new Set(hub.pings[0]?.form.getAll('hub.url')), pinged, 'the same topics')
  t.same(await publishToHub(app.db, app.config), { changes: 0, topics: 0 }, 'then nothing more')

  // One process at a time, by a lease: while another holds the cursor, nothing is sent.
  await send('PATCH', `/v1/posts/${draft.id}`, { title: 'Edited again' })
  t.not(await leaseCursor(app.db, 'websub', 60_000), undefined, 'another process takes the cursor')
  t.same(await publishToHub(app.db, app.config), { changes: 0, topics: 0 }, 'so this one leaves it')
  await app.db.updateTable('change_cursors').set({ leased_until: new Date(Date.now() - 1_000) }).where('name', '=', 'websub').execute()
  t.equal((await publishToHub(app.db, app.config)).changes, 1, 'a lease run out (its process died) is taken over')
})

t.test('a post moved to another blog: the feed it left is told too', async (t) => {
  const { hub, app, send } = await appWithHub(t)
  await send('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  await send('POST', '/v1/blogs', { title: 'Other desk', slug: 'other-desk' })
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Wandering', status: 'published' })).json().data as { id: string }
  await publishToHub(app.db, app.config)
  hub.pings.length = 0

  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { blog: 'other-desk' })).statusCode, 200)
  t.equal((await publishToHub(app.db, app.config)).changes, 2, 'the delete in the blog it left, the change in the new one')
  const pinged = new Set(hub.pings.flatMap((ping) => ping.form.getAll('hub.url')))
  for (const blog of ['desk', 'other-desk']) {
    for (const format of ['rss', 'atom', 'jsonfeed']) t.ok(pinged.has(`${BASE}/v1/blogs/${blog}/feed?format=${format}`), `${blog}'s ${format} feed`)
  }
  // The feed it left no longer has it, which is what its subscribers are told to fetch.
  const left = await app.inject({ url: '/v1/blogs/desk/feed?format=jsonfeed' })
  t.same(left.json().items, [], 'the blog it left lists it no more')
})

t.test('an author or a blog renamed: subscribers of the old feed URL are told, then and at every later post', async (t) => {
  const { hub, app, send } = await appWithHub(t)
  await send('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  await send('POST', '/v1/authors', { name: 'Ann', slug: 'ann' })
  await send('POST', '/v1/posts', { blog: 'desk', title: 'Before the rename', status: 'published', authors: ['ann'] })
  await publishToHub(app.db, app.config)
  const pinged = () => new Set(hub.pings.splice(0).flatMap((ping) => ping.form.getAll('hub.url')))
  pinged()

  t.equal((await send('PATCH', '/v1/authors/ann', { slug: 'ann-lee' })).statusCode, 200)
  t.equal((await send('PATCH', '/v1/blogs/desk', { slug: 'the-desk' })).statusCode, 200)
  await publishToHub(app.db, app.config)
  const renamed = pinged()
  for (const path of ['/v1/authors/ann/feed', '/v1/authors/ann-lee/feed', '/v1/blogs/desk/feed', '/v1/blogs/the-desk/feed']) {
    t.ok(renamed.has(`${BASE}${path}?format=rss`), `the rename: ${path}`)
  }
  // The old address still answers (a redirect), so a hub that fetches it finds the feed.
  const old = await app.inject({ url: '/v1/authors/ann/feed?format=rss' })
  t.equal(old.statusCode, 308)
  t.equal(old.headers.location, '/v1/authors/ann-lee/feed?format=rss')

  await send('POST', '/v1/posts', { blog: 'the-desk', title: 'After the rename', status: 'published', authors: ['ann-lee'] })
  await publishToHub(app.db, app.config)
  const later = pinged()
  for (const path of ['/v1/authors/ann/feed', '/v1/authors/ann-lee/feed', '/v1/blogs/desk/feed', '/v1/blogs/the-desk/feed']) {
    t.ok(later.has(`${BASE}${path}?format=atom`), `a later post: ${path}`)
  }
})

t.test('a byline corrected: the feeds of the authors and tags the post left are told too', async (t) => {
  const { hub, app, send } = await appWithHub(t)
  await send('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  for (const slug of ['ann', 'bo', 'cy']) await send('POST', '/v1/authors', { name: slug, slug })
  for (const slug of ['harbour', 'fleet']) await send('POST', '/v1/tags', { name: slug, slug })
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Bylined', status: 'published', authors: ['ann', 'bo'], tags: ['harbour', 'fleet'] })).json().data as { id: string }
  const draft = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Not yet', authors: ['cy'], tags: ['fleet'] })).json().data as { id: string }
  await publishToHub(app.db, app.config)
  const pingedNow = async () => {
    hub.pings.length = 0
    await publishToHub(app.db, app.config)
    return new Set(hub.pings.flatMap((ping) => ping.form.getAll('hub.url')))
  }
  const feeds = (pinged: Set<string>, kind: string) => ['ann', 'bo', 'cy', 'harbour', 'fleet']
    .filter((slug) => pinged.has(`${BASE}/v1/${kind}/${slug}/feed?format=atom`))

  // Ann's byline was a mistake, and the post is not about the fleet after all.
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { authors: ['bo', 'cy'], tags: ['harbour'] })).statusCode, 200)
  let pinged = await pingedNow()
  t.same(feeds(pinged, 'authors'), ['ann', 'bo', 'cy'], 'the author it left, and those it has')
  t.same(feeds(pinged, 'tags'), ['harbour', 'fleet'], 'the tag it left, and the one it has')
  for (const [kind, slug] of [['authors', 'ann'], ['tags', 'fleet']]) {
    const left = await app.inject({ url: `/v1/${kind}/${slug}/feed?format=jsonfeed` })
    t.same(left.json().items, [], `${slug}'s feed, which its subscribers are told to fetch, lists it no more`)
  }

  // An edit that keeps the bylines tells only of the feeds the post is in.
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'Bylined, retitled' })).statusCode, 200)
  pinged = await pingedNow()
  t.same([feeds(pinged, 'authors'), feeds(pinged, 'tags')], [['bo', 'cy'], ['harbour']], 'nothing else')

  // A draft's bylines were in no public feed: changing them tells nobody.
  t.equal((await send('PATCH', `/v1/posts/${draft.id}`, { authors: ['ann'], tags: [] })).statusCode, 200)
  t.same(await publishToHub(app.db, app.config), { changes: 0, topics: 0 }, 'no ping for a draft')

  // The hub is down for longer than the log keeps superseded rows: compaction, which a later edit
  // of the post would let drop the correction's row, keeps it, and the hub hears of Bo's feed.
  hub.fail(503)
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { authors: ['cy'] })).statusCode, 200)
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'Bylined, once more' })).statusCode, 200)
  await t.rejects(publishToHub(app.db, app.config), /WebSub hub answered 503/)
  await fanOut(app.db, app.config, 100_000)
  t.ok(await compactChangeLog(app.db, 0) > 0, 'compaction ran over both edits')
  hub.recover()
  pinged = await pingedNow()
  t.same(feeds(pinged, 'authors'), ['bo', 'cy'], 'Bo\'s feed, which the post left before the hub came back')
})

t.test('every API process pings by itself when a change commits; a hub needs PUBLIC_BASE_URL', async (t) => {
  const hub = await startHub(t)
  const { app } = await buildTestApp(t, { WEBSUB_HUB_URL: hub.url, PUBLIC_BASE_URL: BASE }, { backgroundJobs: true })
  await app.ready()
  const key = await newApiKey(app.db, ['content:write'])
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${key}` }, payload: { title: 'Desk', slug: 'desk' } })
  await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${key}` }, payload: { blog: 'desk', title: 'Out now', status: 'published' } })
  const deadline = Date.now() + 30_000
  const told = () => hub.pings.some((ping) => ping.form.getAll('hub.url').includes(`${BASE}/v1/blogs/desk/feed?format=atom`))
  while (!told() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(told(), 'the blog\'s feed was announced')

  t.throws(() => loadConfig({ WEBSUB_HUB_URL: hub.url }), /PUBLIC_BASE_URL/, 'without PUBLIC_BASE_URL the topics have no address')
})

t.test('a hub configured later hears of what happens from then on, not of the history before it', async (t) => {
  const first = await buildTestApp(t, {}, { backgroundJobs: true })
  const key = await newApiKey(first.app.db, ['content:write'])
  await first.app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${key}` }, payload: { title: 'Old desk', slug: 'old-desk' } })
  // A process without a hub starts (after the change): the cursor follows the log.
  const without = await buildTestApp(t, {}, { backgroundJobs: true, sameDatabaseAs: first })
  await without.app.ready()
  const hub = await startHub(t)
  const withHub = await buildTestApp(t, { WEBSUB_HUB_URL: hub.url, PUBLIC_BASE_URL: BASE }, { sameDatabaseAs: first })
  t.same(await publishToHub(withHub.app.db, withHub.app.config), { changes: 0, topics: 0 }, 'nothing from before')
  await first.app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${key}` }, payload: { title: 'New desk', slug: 'new-desk' } })
  t.equal((await publishToHub(withHub.app.db, withHub.app.config)).changes, 1, 'the change after it')
  t.ok(hub.pings[0]?.form.getAll('hub.url').includes(`${BASE}/v1/blogs/new-desk/feed?format=rss`))
})
