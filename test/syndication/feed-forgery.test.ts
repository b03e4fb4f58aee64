import { extractFromJson, extractFromXml } from '@extractus/feed-extractor'
import { DOMParser } from '@xmldom/xmldom'
import { XMLValidator } from 'fast-xml-parser'
import Parser from 'rss-parser'
import t from 'tap'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Feeds cannot be forged through text fields. Every text that reaches a feed is escaped for its
// context, and plain text is sent as text: whatever a title, excerpt, name, tag or caption
// holds, each format is well-formed XML (or JSON) with exactly the API's items, carrying exactly
// the API's text. Checked with a strict XML validator and two independent feed parsers.

const HOSTILE = [
  'Closing ]]> then <item><title>Forged item</title></item>',
  ']]>]]>]]> repeated terminators',
  'Split ]]]]><![CDATA[> terminator',
  '<![CDATA[a section of its own]]>',
  '</title></item></channel></rss><rss><channel><item><title>Escape attempt',
  'Entities &amp; &lt;b&gt; &#x41; &#65; &nbsp; &unknown;',
  '<b>bold</b> & <script>alert(1)</script> <img src=x onerror=alert(1)>',
  '\u202Eevil.exe right-to-left override\u202C and \u200F mark',
  'Emoji 😀, astral 𝒳, Persian خبر, Russian Новости',
  'Quotes " and \' and `backticks` and a trailing ]]',
  'Line\nbreak\tand tab'
]

t.test(`every feed format carries a corpus of ${HOSTILE.length} hostile strings as text, with no forged items`, async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_WRITE: '100000', RATE_LIMIT_ANONYMOUS: '100000' })
  const key = await newApiKey(app.db, ['content:write'])
  const write = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload })
    t.equal(res.statusCode, 201, `${url}: ${res.body.slice(0, 200)}`)
    return res.json().data as { id: string, slug: string }
  }
  const blog = await write('/v1/blogs', { slug: 'hostile', title: HOSTILE[0]!, description: HOSTILE[1]! })
  for (const [i, hostile] of HOSTILE.entries()) {
    const author = await write('/v1/authors', { slug: `author-${i}`, name: hostile })
    const tag = await write('/v1/tags', { slug: `tag-${i}`, name: hostile })
    await write('/v1/posts', {
      blog: blog.slug, title: hostile, excerpt: hostile, status: 'published', published_at: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      authors: [author.slug], tags: [tag.slug], body_html: `<p>${i}</p>`,
      lead_image: { url: `https://img.example/${i}.jpg`, caption: hostile, alt: hostile, credit: hostile }
    })
  }
  const api = (await app.inject({ url: '/v1/blogs/hostile/posts?limit=100' })).json().data as Array<{ id: string, title: string, excerpt: string, authors: Array<{ name: string }>, tags: Array<{ name: string }>, lead_image: { caption: string, credit: string } }>
  t.equal(api.length, HOSTILE.length)
  const titles = api.map((p) => p.title)
  const rssParser = new Parser({ customFields: { item: [['dc:creator', 'creators', { keepArray: true }], ['media:content', 'media']] } })

  for (const format of ['rss', 'atom'] as const) {
    for (const content of ['summary', 'full']) {
      const body = (await app.inject({ url: `/v1/blogs/hostile/feed?format=${format}&content=${content}&limit=100` })).body
      t.equal(XMLValidator.validate(body), true, `${format} (${content}) is well-formed XML`)
      const parsed = await rssParser.parseString(body)
      t.equal(parsed.title, HOSTILE[0], `${format}: the feed's title is the blog's, as text`)
      t.same(parsed.items.map((item) => item.title), titles, `${format}: rss-parser reads exactly the API's items and titles`)
      // A second, independent reader: a W3C DOM parser (it throws on anything not well-formed).
      const dom = new DOMParser({ onError: (level, message) => { if (level !== 'warning') throw new Error(message) } }).parseFromString(body, 'text/xml')
      const itemElements = [...dom.getElementsByTagName(format === 'rss' ? 'item' : 'entry')]
      t.same(itemElements.map((item) => item.getElementsByTagName('title')[0]?.textContent), titles, `${format}: the DOM holds exactly the API's items and titles`)
      if (format === 'rss') {
        t.same(itemElements.map((item) => item.getElementsByTagName('media:description')[0]?.textContent), api.map((p) => p.lead_image.caption), 'rss: image captions, as text')
        t.same(itemElements.map((item) => item.getElementsByTagName('media:credit')[0]?.textContent), api.map((p) => p.lead_image.credit), 'rss: image credits, as text')
      }
      // And feed-extractor agrees on the structure (it decodes entities twice, so not on the text).
      t.equal((extractFromXml(body) as { entries?: unknown[] }).entries?.length, HOSTILE.length, `${format}: feed-extractor counts the same items`)
      if (format === 'rss') {
        t.same(parsed.items.map((item) => item.contentSnippet === undefined ? undefined : item.content), api.map((p) => p.excerpt), 'rss: descriptions are the excerpts, as text')
        t.same(parsed.items.map((item) => (item as { creators?: string[] }).creators), api.map((p) => p.authors.map((a) => a.name)), 'rss: one dc:creator per author, as text')
        t.same(parsed.items.map((item) => item.categories), api.map((p) => p.tags.map((tag) => tag.name)), 'rss: categories, as text')
      } else {
        t.match(body, /<title type="text">/, 'atom: titles are declared text')
        t.notMatch(body, /<(title|summary) type="html"/, 'atom: no plain text is declared HTML')
        t.same(parsed.items.map((item) => item.summary), api.map((p) => p.excerpt), 'atom: summaries are the excerpts, as text')
        t.same(parsed.items.map((item) => (item as { author?: string }).author), api.map((p) => p.authors[0]?.name), 'atom: author names, as text')
      }
    }
  }

  const jsonFeed = JSON.parse((await app.inject({ url: '/v1/blogs/hostile/feed?format=jsonfeed&limit=100' })).body) as { items: Array<{ title: string, summary: string, authors: Array<{ name: string }> }> }
  t.same(jsonFeed.items.map((item) => item.title), titles, 'JSON Feed: the same titles')
  t.same(jsonFeed.items.map((item) => item.summary), api.map((p) => p.excerpt), 'JSON Feed: the excerpt is the summary')
  const extracted = extractFromJson(jsonFeed, { normalization: false }) as { items: Array<{ title: string }> }
  t.same(extracted.items.map((item) => item.title), titles, 'JSON Feed: a second reader agrees')
})

t.test('text that XML cannot carry is refused on write, naming every field, and nothing is written', async (t) => {
  const { app } = await buildTestApp(t)
  const key = await newApiKey(app.db, ['content:write'])
  const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${key}` }, payload })
  const blog = await app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${key}` }, payload: { slug: 'ok', title: 'OK' } })
  t.equal(blog.statusCode, 201)
  const bad: Array<[string, string]> = [['NUL', '\u0000'], ['a C0 control', 'a\u0001b'], ['form feed', 'x\u000Cy'], ['vertical tab', '\u000B'],
    ['a lone high surrogate', 'x\uD800y'], ['a lone low surrogate', '\uDC00'], ['U+FFFE', '\uFFFE'], ['U+FFFF', 'end\uFFFF']]
  for (const [what, value] of bad) {
    const res = await post({ blog: 'ok', title: `Title ${value}`, excerpt: 'fine', lead_image: { url: 'https://img.example/a.jpg', caption: `Caption ${value}` } })
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), { code: 'invalid_characters', errors: [{ path: 'body.title' }, { path: 'body.lead_image.caption' }] }, `${what}: both fields named`)
  }
  for (const [url, payload, path] of [
    ['/v1/authors', { name: 'Ann\u0007' }, 'body.name'], ['/v1/tags', { name: 'T', description: '\u001F' }, 'body.description'],
    ['/v1/blogs', { title: 'B', description: 'x\uDFFF' }, 'body.description']
  ] as const) {
    const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload })
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { errors: [{ path }] })
  }
  const fine = await post({ blog: 'ok', title: 'Tabs\tand\nnewlines\r\nare fine, as are 😀 and \u202E' })
  t.equal(fine.statusCode, 201, 'tab, newlines and valid pairs pass')
  t.equal((await app.inject({ url: '/v1/posts?limit=100' })).json().data.length, 0, 'only the draft was written')
})
