import { readFileSync } from 'node:fs'
import { XmlDocument, XsdValidator } from 'libxml2-wasm'
import t from 'tap'
import { loadConfig } from '../../../src/config.ts'
import { normalizedPostUrlTemplate } from '../../../src/content/common/site.ts'
import { newApiKey, newBlog, newPost } from '../../helpers/factories.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Post addresses (`url`, feed links, sitemap <loc>) are built from blogs' website_url and
// post_url_template and the network's WEBSITE_URL and POST_URL_TEMPLATE. Whatever an editor
// writes there, every address must be a URI (RFC 3986: ASCII, nothing outside its syntax raw)
// of at most 2,048 characters (sitemaps.org's schema, crawlers): checked here with the family of
// inputs that broke it (spaces, quotes, angle brackets, backslashes, tabs, non-ASCII paths, IDN
// and uppercase hosts), through the API, a sitemap validated by libxml2, and RSS.

// RFC 3986's characters: unreserved, reserved and the percent sign of an escape.
const URI = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/
const PERCENT_ESCAPES = /%(?![0-9A-F]{2})/

const WEBSITES = [
  'https://news.example.com/a b',
  'https://news.example.com/quote"and<angle>brackets`',
  'https://ПРИМЕР.рф/новости',
  'https://News.Example.COM/Under The Black Flag/',
  'https://news.example.com/back\\slash',
  'https://news.example.com/tab\there',
  'https://news.example.com/ünïcödé/%41?q=a b&r=ü#frag ment',
  'https://東京.example.jp/記事'
]
const TEMPLATES = [
  'https://{blog}.Example.com/{yyyy}/{mm}/{slug}?ref=a b&x="q"',
  'https://пример.рф/{blog}/статья/{slug}',
  'https://news.example.com/<{id}>/{slug}',
  'https://ZZPlaceholder0zz.example.com/{slug}',
  // A website with a stray % is a 400 like any URL field's (url-fields.test.ts); a template's is written %25.
  'https://news.example.com/100%/%zz/{slug}'
]

const urisOf = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((match) => (match[1] as string).replaceAll('&amp;', '&'))

t.test('whatever website or template an editor writes, every post address is a URI the sitemap schema takes', async (t) => {
  const { app } = await buildTestApp(t)
  const writer = await newApiKey(app.db, ['content:write'])
  const blog = await newBlog(app.db, { slug: 'flag' })
  const post = await newPost(app.db, { blogId: blog.id, slug: 'fresh', publishedAt: new Date('2014-10-15T10:00:00Z') })
  const xsd = XmlDocument.fromString(readFileSync(new URL('../../fixtures/sitemaps/sitemap.xsd', import.meta.url), 'utf8'))
  const sitemapSchema = XsdValidator.fromDoc(xsd)
  xsd.dispose()
  t.teardown(() => sitemapSchema.dispose())

  for (const settings of [...WEBSITES.map((website_url) => ({ website_url, post_url_template: null })), ...TEMPLATES.map((post_url_template) => ({ post_url_template }))]) {
    const written = await app.inject({ method: 'PATCH', url: '/v1/blogs/flag', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: settings })
    t.equal(written.statusCode, 200, written.body)
    const setting = settings.post_url_template ?? settings.website_url as string
    const stored = settings.post_url_template === null ? written.json().data.website_url : written.json().data.post_url_template
    t.ok(URI.test(stored.replace(/\{[a-z]+\}/g, 'x')), `${JSON.stringify(setting)} kept as ${stored}`)

    const url: string = (await app.inject({ url: `/v1/posts/${post.id}` })).json().data.url
    t.ok(URI.test(url) && !PERCENT_ESCAPES.test(url), `post url ${url}`)
    t.equal(new URL(url).href, url, 'as a URL parser serializes it')

    const sitemap = (await app.inject({ url: '/v1/blogs/flag/sitemap.xml?month=2014-10' })).body
    t.same(urisOf(sitemap, /<loc>([^<]*)<\/loc>/g), [url], 'the sitemap lists it')
    const doc = XmlDocument.fromString(sitemap)
    t.doesNotThrow(() => sitemapSchema.validate(doc), 'the sitemap is valid against sitemap.xsd')
    doc.dispose()
    const rss = (await app.inject({ url: '/v1/blogs/flag/feed?format=rss' })).body
    t.ok(urisOf(rss, /<item>[\s\S]*?<link>([^<]*)<\/link>/g).includes(url), 'the RSS item links to it')
  }
})

t.test('a website or template that could give an address over 2,048 characters is a 400 naming the field', async (t) => {
  const { app } = await buildTestApp(t)
  const writer = await newApiKey(app.db, ['content:write'])
  await newBlog(app.db, { slug: 'flag' })
  const patch = (payload: object) => app.inject({ method: 'PATCH', url: '/v1/blogs/flag', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload })
  const base = 'https://news.example.com/'
  // website/{slug}: the slug up to 100 characters, after a slash.
  t.equal((await patch({ website_url: base + 'a'.repeat(2048 - 101 - base.length) })).statusCode, 200, 'the longest that fits')
  const cases: Array<[string, object]> = [
    ['website_url', { website_url: base + 'a'.repeat(2048 - 100 - base.length) }],
    // 350 characters written, but each letter is six once percent-encoded: 1,975.
    ['website_url', { website_url: base + 'ж'.repeat(325) }],
    ['post_url_template', { post_url_template: base + '{slug}/'.repeat(21) }],
    ['post_url_template', { post_url_template: base + 'ü'.repeat(330) + '/{slug}' }]
  ]
  for (const [field, payload] of cases) {
    const res = await patch(payload)
    t.equal(res.statusCode, 400, `${field}: ${res.body.slice(0, 200)}`)
    t.match(res.json(), { errors: [{ path: `body.${field}`, message: /post addresses of up to \d+ characters, more than the 2048/ }] })
  }
})

t.test('the network\'s WEBSITE_URL and POST_URL_TEMPLATE are normalized and bounded the same way', async (t) => {
  t.same(loadConfig({ WEBSITE_URL: 'https://News.Example.com/a b/', POST_URL_TEMPLATE: 'https://пример.рф/{blog}/{slug}' }).site,
    { website: 'https://news.example.com/a%20b', postUrlTemplate: 'https://xn--e1afmkfd.xn--p1ai/{blog}/{slug}' })
  t.throws(() => loadConfig({ WEBSITE_URL: 'https://news.example.com/' + 'a'.repeat(1900) }), /WEBSITE_URL: gives post addresses of up to 2127 characters/)
  t.throws(() => loadConfig({ POST_URL_TEMPLATE: 'https://news.example.com/' + '{blog}'.repeat(21) + '{slug}' }), /POST_URL_TEMPLATE: gives post addresses/)
  t.throws(() => loadConfig({ WEBSITE_URL: 'not a url' }), /WEBSITE_URL: must be an absolute http\(s\) URL/)
  t.equal(normalizedPostUrlTemplate('https://{blog}.example.com/{yyyy}/{mm}/{dd}/{id}/{slug}'), 'https://{blog}.example.com/{yyyy}/{mm}/{dd}/{id}/{slug}', 'a template in ASCII stays as it is')
  t.equal(normalizedPostUrlTemplate('https://zzplaceholder0zz.example.com/{slug}'), 'https://zzplaceholder0zz.example.com/{slug}', 'text like the markers stays text')
})

t.test('the migration normalizes the settings of blogs written before it, as a change of each blog', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const undone = await migrateDownThrough(db, '2026-12-03T06-00-00_normalized_post_addresses')
  const raw = await newBlog(db, { slug: 'raw' })
  const clean = await newBlog(db, { slug: 'clean' })
  await db.updateTable('blogs').set({ website_url: 'https://ПРИМЕР.рф/a b', post_url_template: 'https://news.example.com/"{slug}"' }).where('id', '=', raw.id).execute()
  await db.updateTable('blogs').set({ website_url: 'https://news.example.com/clean' }).where('id', '=', clean.id).execute()
  const before = await db.selectFrom('blogs').select(['id', 'version']).execute()
  const lastSeq = (await db.selectFrom('changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst())?.seq ?? '0'
  t.same(await migrateToLatest(db), [...undone].reverse())
  const after = await db.selectFrom('blogs').select(['id', 'website_url', 'post_url_template', 'version']).orderBy('slug').execute()
  t.match(after, [
    { id: clean.id, website_url: 'https://news.example.com/clean', post_url_template: null, version: before.find((b) => b.id === clean.id)?.version },
    { id: raw.id, website_url: 'https://xn--e1afmkfd.xn--p1ai/a%20b', post_url_template: 'https://news.example.com/%22{slug}%22', version: (before.find((b) => b.id === raw.id)?.version ?? 0) + 1 }
  ])
  const changes = await db.selectFrom('changes').select(['entity_type', 'entity_id', 'op', 'event']).where('seq', '>', lastSeq as string).execute()
  t.same(changes, [{ entity_type: 'blog', entity_id: raw.id, op: 'upsert', event: 'blog.updated' }], 'one change, for the blog that changed')
})
