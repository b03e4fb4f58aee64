import { extractFromJson, extractFromXml } from '@extractus/feed-extractor'
import { parseFeed } from 'feedsmith'
import Parser from 'rss-parser'
import t, { type Test } from 'tap'
import { sql } from 'kysely'
import { appendChanges, latestPostChangeTime } from '../../src/changes/change-log.repository.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { atomViolations, jsonFeedViolations, rssViolations } from '../helpers/feed-rules.ts'
import { JsonFeed11Schema } from '../../src/syndication/feeds/feeds.schemas.ts'
import { nextSecond } from '../helpers/clock.ts'
import { testServerUrl } from '../helpers/test-database.ts'

// Every format is read back with parsers from npm (rss-parser for RSS and Atom,
// @extractus/feed-extractor for JSON Feed and as a second opinion on XML), never our own code,
// and compared with the JSON API.

async function fixture (t: Test, env: Record<string, string> = {}) {
  const testApp = await buildTestApp(t, { POST_URL_TEMPLATE: 'https://news.example.com/{blog}/{yyyy}/{mm}/{slug}', ...env })
  const { app } = testApp
  const blog = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag', description: 'About the blog' })
  const other = await newBlog(app.db, { slug: 'steppe', title: 'Across The Steppe' })
  const ann = await newAuthor(app.db, { slug: 'ann', name: 'Ann Writer' })
  const bob = await newAuthor(app.db, { slug: 'bob', name: 'Bob Writer' })
  const syria = await newTag(app.db, { slug: 'syria', name: 'Syria' })
  const oil = await newTag(app.db, { slug: 'oil', name: 'Oil' })
  const at = (h: number) => new Date(Date.UTC(2024, 4, 1, h))
  await newPost(app.db, { blogId: blog.id, slug: 'one', title: 'One & <Only>', publishedAt: at(1), authorIds: [ann.id], tagIds: [syria.id], leadImageUrl: 'https://img.example/one.jpg', bodyText: 'Body one' })
  await newPost(app.db, { blogId: blog.id, slug: 'two', title: 'Two', publishedAt: at(2), authorIds: [bob.id, ann.id], tagIds: [oil.id], isBreaking: true })
  await newPost(app.db, { blogId: other.id, slug: 'three', title: 'Three', publishedAt: at(3), authorIds: [bob.id], tagIds: [syria.id, oil.id] })
  await newPost(app.db, { blogId: other.id, slug: 'draft', title: 'Draft', status: 'draft', authorIds: [ann.id] })
  return testApp
}

t.test('every format carries the same items as the JSON API, with absolute links and stable ids', async (t) => {
  const { app } = await fixture(t)
  const api = (await app.inject({ url: '/v1/posts?limit=20' })).json().data as Array<{ id: string, title: string, url: string, authors: Array<{ name: string }>, tags: Array<{ name: string }> }>
  t.same(api.map((p) => p.title), ['Three', 'Two', 'One & <Only>'])

  const json = await app.inject({ url: '/v1/feeds/latest' })
  t.equal(json.headers['content-type'], 'application/json; charset=utf-8')
  t.same(json.json().data.map((item: { id: string }) => item.id), api.map((p) => p.id))
  t.match(json.json().data[2], { url: 'https://news.example.com/flag/2024/05/one', thumbnail: 'https://img.example/one.jpg', blog: { slug: 'flag' }, authors: [{ name: 'Ann Writer' }] })

  const parser = new Parser()
  const rss = await app.inject({ url: '/v1/feeds/latest?format=rss' })
  t.equal(rss.headers['content-type'], 'application/rss+xml; charset=utf-8')
  const rssFeed = await parser.parseString(rss.body)
  t.equal(rssFeed.title, 'Latest Posts')
  t.same(rssFeed.items.map((item) => item.title), api.map((p) => p.title))
  t.same(rssFeed.items.map((item) => item.link), api.map((p) => p.url))
  t.same(rssFeed.items.map((item) => item.guid), api.map((p) => `urn:uuid:${p.id}`))
  t.same(rssFeed.items.map((item) => item.categories), api.map((p) => p.tags.map((tag) => tag.name)))
  t.equal(rssFeed.items[2]?.enclosure?.url, 'https://img.example/one.jpg')

  const atom = await app.inject({ url: '/v1/feeds/latest', headers: { accept: 'application/atom+xml' } })
  t.equal(atom.headers['content-type'], 'application/atom+xml; charset=utf-8')
  const atomFeed = await parser.parseString(atom.body)
  t.same(atomFeed.items.map((item) => item.title), api.map((p) => p.title))
  t.same(atomFeed.items.map((item) => item.id), api.map((p) => `urn:uuid:${p.id}`))
  t.same(atomFeed.items.map((item) => item.link), api.map((p) => p.url))
  const atomAgain = extractFromXml(atom.body)
  t.same(atomAgain.entries?.map((entry) => entry.link), api.map((p) => p.url), 'a second parser agrees')

  const jsonFeed = await app.inject({ url: '/v1/feeds/latest', headers: { accept: 'application/feed+json' } })
  t.equal(jsonFeed.headers['content-type'], 'application/feed+json; charset=utf-8')
  const parsed = extractFromJson(JSON.parse(jsonFeed.body), { getExtraEntryFields: (entry: Record<string, unknown>) => ({ authors: entry.authors, tags: entry.tags }) })
  t.same(parsed.entries?.map((entry) => entry.title), api.map((p) => p.title))
  t.same(parsed.entries?.map((entry) => entry.link), api.map((p) => p.url))
  t.same(parsed.entries?.map((entry) => (entry as { authors?: Array<{ name: string }> }).authors?.map((a) => a.name)), api.map((p) => p.authors.map((a) => a.name)))
  t.equal(JSON.parse(jsonFeed.body).version, 'https://jsonfeed.org/version/1.1')

  // A full-content feed carries each article.
  const full = await parser.parseString((await app.inject({ url: '/v1/feeds/latest?format=rss&content=full' })).body)
  t.match(full.items[2]?.['content:encoded'] ?? full.items[2]?.content, /Body one/)
})

t.test('feeds per blog, author and tag, breaking news, and combined filters', async (t) => {
  const { app } = await fixture(t)
  const titles = async (url: string) => (await app.inject({ url })).json().data.map((item: { title: string }) => item.title)
  t.same(await titles('/v1/feeds/breaking'), ['Two'])
  t.same(await titles('/v1/blogs/flag/feed'), ['Two', 'One & <Only>'])
  t.same(await titles('/v1/authors/ann/feed'), ['Two', 'One & <Only>'], 'a second author counts')
  t.same(await titles('/v1/tags/oil/feed'), ['Three', 'Two'])
  t.same(await titles('/v1/authors/bob/feed?tag=syria'), ['Three'], 'this author in this tag')
  t.same(await titles('/v1/feeds/latest?blog=steppe&author=bob'), ['Three'])
  t.same(await titles('/v1/feeds/latest?limit=1'), ['Three'])
  const rss = await new Parser().parseString((await app.inject({ url: '/v1/authors/ann/feed?format=rss' })).body)
  t.equal(rss.title, 'Posts by Ann Writer')
  t.equal((await app.inject({ url: '/v1/authors/nobody/feed' })).statusCode, 404)
  for (const query of ['format=xml', 'limit=0', 'limit=101', 'content=everything', 'nope=1', 'language=English']) {
    const res = await app.inject({ url: `/v1/feeds/latest?${query}` })
    t.equal(res.statusCode, 400, query)
    t.equal(res.headers['content-type'], 'application/problem+json')
  }
})

t.test('feeds answer conditional requests with 304, and change when a post is published', async (t) => {
  // The post below is written straight into the table, behind the change log that the
  // response cache follows; this test is about the route's own validators.
  const { app } = await fixture(t, { RESPONSE_CACHE_MAX_MB: '0' })
  await nextSecond()
  for (const url of ['/v1/feeds/latest?format=rss', '/v1/feeds/latest', '/v1/tags/syria/feed?format=atom']) {
    const first = await app.inject({ url })
    t.ok(first.headers.etag)
    t.ok(first.headers['last-modified'])
    t.match(first.headers['cache-control'], /^public, max-age=/)
    t.match(first.headers.vary, /Accept/)
    t.match(first.headers['surrogate-key'], /feed:/)
    t.equal((await app.inject({ url, headers: { 'if-none-match': first.headers.etag as string } })).statusCode, 304, url)
    t.equal((await app.inject({ url, headers: { 'if-modified-since': first.headers['last-modified'] as string } })).statusCode, 304, url)
  }
  const before = await app.inject({ url: '/v1/feeds/latest' })
  await newPost(app.db, { blogId: (await newBlog(app.db)).id, title: 'Fresh' })
  const after = await app.inject({ url: '/v1/feeds/latest', headers: { 'if-none-match': before.headers.etag as string } })
  t.equal(after.statusCode, 200)
  t.equal(after.json().data[0].title, 'Fresh')
})

/** A time as Last-Modified says it: whole seconds, HTTP's format. */
const httpDate = (time: Date) => new Date(Math.floor(time.getTime() / 1000) * 1000).toUTCString()

t.test('a feed\'s Last-Modified moves forward when its newest item goes, in every format and when nothing is left', async (t) => {
  // Unpublishing the newest post leaves items older than the feed the reader has: only the
  // change log's time (read in the page's own statement) can move Last-Modified forward, or
  // If-Modified-Since would keep a reader on the copy that still lists the post.
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const blog = await newBlog(app.db, { slug: 'flag' })
  const lonely = await newTag(app.db, { slug: 'lonely', name: 'Lonely' })
  const older = await newPost(app.db, { blogId: blog.id, slug: 'older', publishedAt: new Date('2024-05-01T01:00:00Z'), tagIds: [lonely.id] })
  const newer = await newPost(app.db, { blogId: blog.id, slug: 'newer', publishedAt: new Date('2024-05-01T02:00:00Z'), tagIds: [lonely.id] })
  await app.db.updateTable('posts').set({ updated_at: new Date('2024-05-01T03:00:00Z') }).execute()
  const writer = await newApiKey(app.db, ['content:write'])
  /** The unpublish's time as each feed counts it: the network's from the change log, the tag's from its own posts' changes. */
  const unpublish = async (id: string) => {
    const res = await app.inject({ method: 'POST', url: `/v1/posts/${id}/unpublish`, headers: { authorization: `Bearer ${writer}` } })
    t.equal(res.statusCode, 200, res.body)
    const [network, tag] = [await latestPostChangeTime(app.db), await latestPostChangeTime(app.db, [{ type: 'tag', id: lonely.id }])]
    t.ok(network !== undefined && tag !== undefined, 'the change log has the unpublish')
    await nextSecond()
    return (url: string) => httpDate((url.startsWith('/v1/tags/') ? tag : network) as Date)
  }
  const feeds = ['/v1/feeds/latest', '/v1/tags/lonely/feed'].flatMap((url) => ['json', 'rss', 'atom', 'jsonfeed', 'json&content=full'].map((format) => `${url}?format=${format}`))
  const lastModified = async (url: string) => {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    return res.headers['last-modified'] as string
  }
  const before = new Map<string, string>()
  for (const url of feeds) before.set(url, await lastModified(url))
  t.same(new Set(before.values()), new Set(['Wed, 01 May 2024 03:00:00 GMT']), 'before any change: the newest item\'s time')

  const firstChange = await unpublish(newer.id)
  for (const url of feeds) {
    t.equal(await lastModified(url), firstChange(url), `${url}: the unpublish's time`)
    t.equal((await app.inject({ url, headers: { 'if-modified-since': before.get(url) as string } })).statusCode, 200, `${url}: a reader's older copy is not current`)
  }
  const secondChange = await unpublish(older.id)
  for (const url of feeds) {
    const res = await app.inject({ url })
    t.notMatch(res.body, /older|newer/, `${url}: nothing left to list`)
    t.equal(res.headers['last-modified'], secondChange(url), `${url}: an empty feed still says when it last changed`)
  }
})

t.test('an owner\'s feed counts the changes of its own posts, those that left it among them, and no others', async (t) => {
  // Its responses are purged by those changes alone (surrogate-keys.ts), so a copy a cache kept
  // through another blog's publish must say the time a fresh one would.
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const [desk, wire] = [await newBlog(app.db, { slug: 'desk' }), await newBlog(app.db, { slug: 'wire' })]
  await newPost(app.db, { blogId: desk.id, slug: 'desk-story', publishedAt: new Date('2024-05-01T01:00:00Z') })
  await newPost(app.db, { blogId: wire.id, slug: 'wire-story', publishedAt: new Date('2024-05-01T01:00:00Z') })
  await app.db.updateTable('posts').set({ updated_at: new Date('2024-05-01T03:00:00Z') }).execute()
  const writer = await newApiKey(app.db, ['content:write'])
  const lastModified = async (url: string) => (await app.inject({ url })).headers['last-modified'] as string
  const feeds = ['/v1/blogs/desk/feed?format=rss', '/v1/blogs/wire/feed?format=atom', '/v1/feeds/latest?format=rss']
  const times = async () => Object.fromEntries(await Promise.all(feeds.map(async (url) => [url, await lastModified(url)])))
  /** What each feed should say after a write: the network's time from the change log, each blog's from its own posts' changes. */
  const expected = async () => {
    const [network, deskTime, wireTime] = [
      await latestPostChangeTime(app.db), await latestPostChangeTime(app.db, [{ type: 'blog', id: desk.id }]), await latestPostChangeTime(app.db, [{ type: 'blog', id: wire.id }])
    ]
    await nextSecond()
    const at = (time: Date | undefined) => time === undefined ? old : httpDate(time)
    return { [feeds[0]!]: at(deskTime), [feeds[1]!]: at(wireTime), [feeds[2]!]: at(network) }
  }
  const old = 'Wed, 01 May 2024 03:00:00 GMT'
  t.same(await times(), { [feeds[0]!]: old, [feeds[1]!]: old, [feeds[2]!]: old })
  const published = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'desk', title: 'Desk news', status: 'published', published_at: '2024-04-01T00:00:00Z' } })
  t.equal(published.statusCode, 201, published.body)
  const afterPublish = await expected()
  t.not(afterPublish[feeds[0]!], old, 'the desk has a time of its own')
  t.same(await times(), { ...afterPublish, [feeds[1]!]: old }, 'a publish in one blog moves its feed and the network\'s, not the other blog\'s')
  const moved = await app.inject({ method: 'PATCH', url: `/v1/posts/${published.json().data.id as string}`, headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'wire' } })
  t.equal(moved.statusCode, 200)
  const afterMove = await expected()
  t.ok(afterMove[feeds[0]!] !== afterPublish[feeds[0]!] && afterMove[feeds[1]!] !== old, 'both blogs\' times moved')
  t.same(await times(), afterMove, 'moved: the feed it left and the feed it joined')
})

t.test('a write that began before another committed still moves every feed\'s Last-Modified past what that one\'s readers were told', {
  skip: testServerUrl() === undefined && 'PostgreSQL only: the embedded database has one connection, so one write waits for the other to end'
}, async (t) => {
  // A transaction's own time (now(), occurred_at) is when it began; one that began before
  // another's commit can append to the change log after it. Were a feed's Last-Modified read
  // from that, it would go back, and a reader asking If-Modified-Since with the time the other
  // write gave it would get a 304 and never see the post the late one changed.
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const blog = await newBlog(app.db, { slug: 'desk' })
  const urgent = await newTag(app.db, { slug: 'urgent', name: 'Urgent' })
  const late = await newPost(app.db, { blogId: blog.id, slug: 'late', title: 'Late', publishedAt: new Date('2024-05-01T01:00:00Z'), tagIds: [urgent.id], isBreaking: true })
  const writer = await newApiKey(app.db, ['content:write'])
  const feeds = ['/v1/feeds/latest?format=rss', '/v1/feeds/breaking?format=atom', '/v1/feeds/latest?tag=urgent', '/v1/blogs/desk/feed?format=rss', '/v1/tags/urgent/feed']
  let begun!: () => void
  let goAhead!: () => void
  const [hasBegun, mayAppend] = [new Promise<void>((resolve) => { begun = resolve }), new Promise<void>((resolve) => { goAhead = resolve })]
  const lateWrite = app.db.transaction().execute(async (trx) => {
    await sql`SELECT now()`.execute(trx)
    begun()
    await mayAppend
    await trx.updateTable('posts').set({ title: 'Late, corrected', updated_at: sql`now()` }).where('id', '=', late.id).execute()
    await appendChanges(trx, [{ entityType: 'post', entityId: late.id, blogId: blog.id, op: 'upsert', publicOp: 'upsert' }])
  })
  await hasBegun
  await nextSecond()
  const other = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'desk', title: 'Other', status: 'published', tags: ['urgent'], is_breaking: true, published_at: '2024-04-01T00:00:00Z' } })
  t.equal(other.statusCode, 201, other.body)
  await nextSecond()
  const told = new Map<string, string>()
  for (const url of feeds) told.set(url, (await app.inject({ url })).headers['last-modified'] as string)
  t.ok([...told.values()].every((time) => time !== undefined), 'every feed says when it last changed')
  goAhead()
  await lateWrite
  await nextSecond()
  for (const url of feeds) {
    const res = await app.inject({ url, headers: { 'if-modified-since': told.get(url) as string } })
    t.equal(res.statusCode, 200, `${url}: a reader told ${told.get(url) ?? ''} is sent the late write`)
    t.match(res.body, /Late, corrected/, url)
    t.ok(Date.parse(res.headers['last-modified'] as string) > Date.parse(told.get(url) as string), `${url}: Last-Modified moved forward (${res.headers['last-modified'] as string})`)
  }
})

t.test('a feed says its blog\'s language, or the one filtered on, and claims none when it mixes languages', async (t) => {
  const { app } = await buildTestApp(t)
  const persian = await newBlog(app.db, { slug: 'radio-farda', title: 'Radio Farda', language: 'fa' })
  const english = await newBlog(app.db, { slug: 'flag', title: 'Flag', language: 'en' })
  await newPost(app.db, { blogId: persian.id, slug: 'farsi', title: 'خبر', publishedAt: new Date('2024-05-01T00:00:00Z'), language: 'fa' })
  await newPost(app.db, { blogId: english.id, slug: 'english', title: 'News', publishedAt: new Date('2024-05-02T00:00:00Z'), language: 'en' })
  const parser = new Parser({ customFields: { feed: ['language'] } })

  const blogRss = await parser.parseString((await app.inject({ url: '/v1/blogs/radio-farda/feed?format=rss' })).body)
  t.equal((blogRss as unknown as { language: string }).language, 'fa', 'RSS <language> is the blog\'s')
  const blogJson = JSON.parse((await app.inject({ url: '/v1/blogs/radio-farda/feed?format=jsonfeed' })).body) as { language?: string }
  t.equal(blogJson.language, 'fa', 'JSON Feed language is the blog\'s')
  const atom = (await app.inject({ url: '/v1/blogs/radio-farda/feed?format=atom' })).body
  t.notMatch(atom, /xml:lang="en"/, 'Atom does not claim English')

  const latest = await app.inject({ url: '/v1/feeds/latest?format=rss' })
  t.notMatch(latest.body, /<language>/, 'a network feed of two languages claims neither')
  const filtered = await parser.parseString((await app.inject({ url: '/v1/feeds/latest?format=rss&language=fa' })).body)
  t.equal((filtered as unknown as { language: string }).language, 'fa', 'language= filters and names the language')
  t.same(filtered.items.map((item) => item.title), ['خبر'])
})

t.test('a post without a byline is in every feed format', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'wire' })
  await newPost(app.db, { blogId: blog.id, slug: 'unsigned', title: 'From the wires', publishedAt: new Date('2024-05-01T00:00:00Z') })
  for (const format of ['json', 'rss', 'atom', 'jsonfeed']) {
    const response = await app.inject({ url: `/v1/feeds/latest?format=${format}` })
    t.equal(response.statusCode, 200, format)
    t.match(response.body, /From the wires/, `${format} carries the item`)
  }
})

t.test('every feed, in every format, keeps the format\'s rules and reads the same in two more parsers', async (t) => {
  const { app } = await fixture(t, { WEBSITE_URL: 'https://news.example.com', WEBSUB_HUB_URL: 'https://hub.example.com/', FEED_TTL_MINUTES: '30' })
  // The lead image with its words: caption, credit and alt text.
  await app.db.updateTable('posts').set({ lead_image_caption: 'Kerry & Lavrov in <Paris>', lead_image_credit: 'Photo: Example Wire', lead_image_alt: 'Two men at a table', lead_image_width: 1200, lead_image_height: 800 })
    .where('slug', '=', 'one').execute()
  // Links and images as an editor writes them on the site: the full feeds must not carry them relative.
  await app.db.updateTable('posts').set({ body_html: '<p>See <a href="/about">about</a>, <a href="#notes">the notes</a> and <img src="images/map.jpg" srcset="images/map-2x.jpg 2x" alt="A map"></p>' })
    .where('slug', '=', 'two').execute()
  const api = (await app.inject({ url: '/v1/posts?limit=20' })).json().data as Array<{ id: string, title: string, url: string, authors: Array<{ name: string }> }>
  const paths = ['/v1/feeds/latest', '/v1/feeds/breaking', '/v1/blogs/flag/feed', '/v1/authors/ann/feed', '/v1/tags/oil/feed', '/v1/authors/bob/feed?tag=syria']
  for (const path of paths) {
    for (const content of ['summary', 'full']) {
      const url = `${path}${path.includes('?') ? '&' : '?'}content=${content}`
      const rss = await app.inject({ url: `${url}&format=rss` })
      t.same(rssViolations(rss.body), [], `${url} RSS 2.0`)
      t.same(atomViolations((await app.inject({ url: `${url}&format=atom` })).body), [], `${url} Atom 1.0`)
      t.same(jsonFeedViolations((await app.inject({ url: `${url}&format=jsonfeed` })).body), [], `${url} JSON Feed 1.1`)
      // The hub is named where it is told of updates: a feed at its own address, with the
      // article or without it as the default (websub-topics.ts); not where a query filters it.
      const published = !path.includes('?')
      for (const topic of published ? [`${path}?format=rss`, `${path}?content=full&format=rss`] : [`${url}&format=rss`]) {
        const link = String((await app.inject({ url: topic })).headers.link ?? '')
        if (published) t.match(link, /<https:\/\/hub\.example\.com\/>; rel="hub", <http:\/\/api\.test\/v1\/[^>]+format=rss>; rel="self"/, `${topic}: WebSub discovery in the Link header`)
        else t.notMatch(link, /rel="hub"/, `${topic}: filtered by query, never pinged: no hub`)
      }
    }
  }

  // feedsmith: a third parser, namespace-aware, for what the other two do not read.
  const rss = parseFeed((await app.inject({ url: '/v1/feeds/latest?format=rss' })).body)
  t.equal(rss.format, 'rss')
  const channel = rss.feed as { link?: string, ttl?: number, sy?: { updatePeriod?: string, updateFrequency?: number }, atom?: { links?: Array<{ rel?: string, href?: string }> }, items?: Array<Record<string, any>> }
  t.equal(channel.link, 'https://news.example.com', 'the channel links to the website')
  t.equal(channel.ttl, 30)
  t.same(channel.sy, { updatePeriod: 'hourly', updateFrequency: 2 })
  t.ok(channel.atom?.links?.some((link) => link.rel === 'hub' && link.href === 'https://hub.example.com/'), 'the hub')
  const items = channel.items ?? []
  t.same(items.map((item) => item.dc?.creators), api.map((p) => p.authors.length === 0 ? undefined : p.authors.map((a) => a.name)), 'one dc:creator per author, in byline order')
  t.ok(items.every((item) => item.authors === undefined), 'no <author> (RSS wants an e-mail address there)')
  const withImage = items.find((item) => item.media !== undefined)
  t.match(withImage?.media?.contents?.[0], { url: 'https://img.example/one.jpg', medium: 'image', width: 1200, description: { value: 'Kerry & Lavrov in <Paris>' }, credits: [{ value: 'Photo: Example Wire' }] })
  t.match(withImage?.enclosures?.[0] ?? withImage?.enclosure, { url: 'https://img.example/one.jpg', type: 'image/jpeg' })

  const atom = parseFeed((await app.inject({ url: '/v1/feeds/latest?format=atom' })).body)
  t.equal(atom.format, 'atom')
  const atomFeed = atom.feed as { links?: Array<{ rel?: string, href?: string, type?: string }>, entries?: Array<{ links?: Array<{ rel?: string, type?: string }> }> }
  t.ok(atomFeed.links?.some((link) => link.rel === 'alternate' && link.href === 'https://news.example.com'), 'Atom: alternate is the website')
  t.ok(atomFeed.entries?.flatMap((entry) => entry.links ?? []).filter((link) => link.rel === 'enclosure').every((link) => link.type === 'image/jpeg'), 'image/jpeg, as in RSS')
  const atomImaged = (atom.feed as { entries?: Array<Record<string, any>> }).entries?.find((entry) => entry.media !== undefined)
  t.match(atomImaged?.media?.contents?.[0], { url: 'https://img.example/one.jpg', width: 1200, height: 800, description: { value: 'Kerry & Lavrov in <Paris>' }, credits: [{ value: 'Photo: Example Wire' }] },
    'Atom entries carry the image\'s words too (Media RSS)')

  const jsonFeed = parseFeed((await app.inject({ url: '/v1/feeds/latest?format=jsonfeed' })).body)
  t.equal(jsonFeed.format, 'json')
  const raw = JSON.parse((await app.inject({ url: '/v1/feeds/latest?format=jsonfeed' })).body)
  t.ok(JsonFeed11Schema.safeParse(raw).success, 'the JSON Feed is what the OpenAPI document says it is')
  t.equal(raw.home_page_url, 'https://news.example.com')
  t.same(raw.hubs, [{ type: 'WebSub', url: 'https://hub.example.com/' }])
  const imaged = raw.items.find((item: { image?: string }) => item.image !== undefined)
  t.same(imaged._lead_image, { alt: 'Two men at a table', caption: 'Kerry & Lavrov in <Paris>', credit: 'Photo: Example Wire', width: 1200, height: 800 })
  t.ok(raw.items.every((item: { summary?: string, content_text?: string, content_html?: string }) => item.content_html === undefined), 'summary feeds carry no HTML')
})

t.test('the format rules catch what validators catch (the checks above can fail)', async (t) => {
  const badRss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>/relative</link><description></description>
    <item><title>A</title><author>Ann Writer</author><pubDate>2024-05-01T01:00:00Z</pubDate><enclosure url="https://i.example/a.jpg" type="image/jpg"/></item>
    <item><title>B</title><guid>not-a-url</guid></item></channel></rss>`
  const rss = rssViolations(badRss)
  for (const rule of ['channel <description> is required', 'channel <link> must be an absolute', 'item 1: <guid> is required', '<author> must be an e-mail address', '<pubDate> must be RFC 822', 'enclosure length', 'item 2: a permalink guid must be a URL', 'atom:link rel="self"']) {
    t.ok(rss.some((problem) => problem.includes(rule)), rule)
  }
  const atom = atomViolations('<feed xmlns="http://www.w3.org/2005/Atom"><title type="plain">T</title><updated>yesterday</updated><entry><title>A</title><id>x</id><updated>2024-05-01T01:00:00Z</updated></entry></feed>')
  for (const rule of ['feed: exactly one <id>', 'feed title: type must be text', 'feed <updated> must be RFC 3339', 'entry 1: <id> must be an IRI', 'an <author>, or one on the feed', 'link rel="alternate" is required']) {
    t.ok(atom.some((problem) => problem.includes(rule)), rule)
  }
  // The W3C Feed Validator's ContainsRelRef, in each format's HTML.
  const relativeRss = rssViolations(`<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title><link>https://a.example/</link><description>D</description>
    <item><title>A</title><guid isPermaLink="false">a</guid><content:encoded>&lt;p&gt;&lt;a href="/about"&gt;x&lt;/a&gt; &lt;img srcset="https://i.example/a.jpg 1x, b.jpg 2x"&gt;&lt;/p&gt;</content:encoded></item></channel></rss>`)
  t.ok(relativeRss.some((problem) => problem.includes('content:encoded should not contain relative URL references: a[href]="/about", img[srcset]="b.jpg"')), 'RSS: a relative link and srcset candidate')
  const relativeAtom = atomViolations(`<feed xmlns="http://www.w3.org/2005/Atom"><id>https://a.example/</id><title>T</title><updated>2024-05-01T01:00:00Z</updated><author><name>A</name></author>
    <entry><id>urn:x:1</id><title>A</title><updated>2024-05-01T01:00:00Z</updated><content type="html">&lt;img src="map.jpg"&gt;</content></entry></feed>`)
  t.ok(relativeAtom.some((problem) => problem.includes('<content> should not contain relative URL references: img[src]="map.jpg"')), 'Atom: a relative image')
  t.ok(jsonFeedViolations(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'T', items: [{ id: '1', content_html: '<a href="#notes">n</a>' }] }))
    .some((problem) => problem.includes('content_html should not contain relative URL references: a[href]="#notes"')), 'JSON Feed: a fragment-only link')
  const json = jsonFeedViolations(JSON.stringify({ version: 'https://jsonfeed.org/version/1', title: 'T', items: [{ id: 1, url: '/x', image_caption: 'c' }] }))
  for (const rule of ['version must be', 'id is required', 'content_html or content_text', 'url must be absolute', '"image_caption" is not JSON Feed 1.1']) {
    t.ok(json.some((problem) => problem.includes(rule)), rule)
  }
})
