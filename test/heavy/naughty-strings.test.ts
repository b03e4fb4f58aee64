import { DOMParser } from '@xmldom/xmldom'
import { XMLValidator } from 'fast-xml-parser'
import Parser from 'rss-parser'
import t from 'tap'
import { newApiKey } from '../helpers/factories.ts'
import { NAUGHTY } from '../helpers/naughty-strings.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// The Big List of Naughty Strings (test/helpers/naughty-strings.ts) as every text an editor
// writes. It found a tag named "true" that made every Atom feed carrying it unreadable (the XML
// builder wrote `label` as an HTML boolean attribute). Every string is stored and served exactly
// or refused with a 400 naming the field; every feed and sitemap carrying them is well-formed XML
// that two independent readers read back the same. (As names and values in queries:
// naughty-queries.test.ts.)

// Not text XML 1.0 can carry (its Char production): the API refuses these at the door.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/
const CHUNK = 100 // a feed's largest page

/** The longest start of `text` within `max` UTF-16 code units, cut between code points. */
function fit (text: string, max: number): string {
  let out = ''
  for (const char of text) {
    if (out.length + char.length > max) break
    out += char
  }
  return out
}

/** A title or name that is not blank after trimming, as a required text must be. */
const nonBlank = (text: string, i: number) => text.trim() === '' ? `${i}${text}` : text

t.test('every naughty string is stored and served exactly, or refused with a 400 naming the field, and every feed and sitemap carrying them reads back the same', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000' })
  const key = await newApiKey(app.db, ['content:write'])
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload })
    return { status: res.statusCode, body: res.json() }
  }
  const writable = NAUGHTY.filter((text) => !NOT_XML_TEXT.test(text))
  const unwritable = NAUGHTY.filter((text) => NOT_XML_TEXT.test(text))
  t.ok(writable.length > 450 && unwritable.length > 0, `${writable.length} strings XML can carry, ${unwritable.length} it cannot`)

  // Refused whole: a 400 naming every field that holds one, and nothing written.
  const postsBefore = await app.db.selectFrom('posts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  for (const text of unwritable) {
    const res = await post('/v1/posts', { blog: 'nowhere', title: 'ok', excerpt: text, lead_image: { url: 'https://img.example/x.jpg', caption: text } })
    t.equal(res.status, 400, JSON.stringify(text))
    t.equal(res.body.code, 'invalid_characters')
    t.match(res.body.detail, /body\.excerpt, body\.lead_image\.caption/, 'the problem names each field')
  }
  const postsAfter = await app.db.selectFrom('posts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
  t.equal(postsAfter.n, postsBefore.n, 'no post written')

  const rssParser = new Parser()
  const strictDom = (xml: string) => new DOMParser({ onError: (level, message) => { if (level !== 'warning') throw new Error(message) } }).parseFromString(xml, 'text/xml')
  for (let start = 0; start < writable.length; start += CHUNK) {
    const chunk = writable.slice(start, start + CHUNK)
    const blog = `naughty-${start}`
    const created = await post('/v1/blogs', { slug: blog, title: nonBlank(fit(chunk[0]!, 200), 0), description: chunk[1] })
    t.equal(created.status, 201, `blog ${blog}: ${JSON.stringify(created.body).slice(0, 200)}`)
    const sent = new Map<string, { title: string, text: string, author: string, tag: string }>()
    for (const [i, text] of chunk.entries()) {
      const author = await post('/v1/authors', { slug: `${blog}-a${i}`, name: nonBlank(fit(text, 200), i), bio: text })
      const tag = await post('/v1/tags', { slug: `${blog}-t${i}`, name: nonBlank(fit(text, 100), i), description: text })
      const title = nonBlank(fit(text, 300), i)
      const article = await post('/v1/posts', {
        blog, title, subtitle: fit(text, 500), excerpt: text, body_markdown: text, status: 'published',
        published_at: new Date(Date.now() - (i + 1) * 60_000).toISOString(), authors: [`${blog}-a${i}`], tags: [`${blog}-t${i}`],
        lead_image: { url: `https://img.example/${i}.jpg`, caption: text, alt: text, credit: fit(text, 300) }
      })
      if (author.status !== 201 || tag.status !== 201 || article.status !== 201) {
        t.fail(`${JSON.stringify(text)}: author ${author.status}, tag ${tag.status}, post ${article.status} ${JSON.stringify(article.body).slice(0, 300)}`)
        continue
      }
      sent.set(article.body.data.id, { title: title.trim(), text, author: nonBlank(fit(text, 200), i).trim(), tag: nonBlank(fit(text, 100), i).trim() })
    }

    const listed = (await app.inject({ url: `/v1/blogs/${blog}/posts?limit=100` })).json().data as Array<{ id: string, title: string, subtitle: string, excerpt: string, lead_image: { caption: string, alt: string }, authors: Array<{ name: string }>, tags: Array<{ name: string }> }>
    t.equal(listed.length, sent.size, `${blog}: every post listed`)
    const mismatched = listed.filter((item) => {
      const expected = sent.get(item.id)!
      return item.title !== expected.title || item.excerpt !== expected.text || item.subtitle !== fit(expected.text, 500) ||
        item.lead_image.caption !== expected.text || item.lead_image.alt !== expected.text ||
        item.authors[0]?.name !== expected.author || item.tags[0]?.name !== expected.tag
    })
    t.same(mismatched.map((item) => item.title), [], `${blog}: each post's texts, its author's name and its tag's read back exactly as written (names trimmed)`)
    const titles = listed.map((item) => item.title)
    const tagNames = listed.map((item) => item.tags.map((tag) => tag.name))

    for (const format of ['rss', 'atom'] as const) {
      for (const content of ['summary', 'full']) {
        const label = `${blog} ${format} (${content})`
        const body = (await app.inject({ url: `/v1/blogs/${blog}/feed?format=${format}&content=${content}&limit=100` })).body
        t.equal(XMLValidator.validate(body), true, `${label}: well-formed XML`)
        const items = [...strictDom(body).getElementsByTagName(format === 'rss' ? 'item' : 'entry')]
        t.same(items.map((item) => item.getElementsByTagName('title')[0]?.textContent), titles, `${label}: a DOM parser reads exactly the API's titles`)
        const categories = items.map((item) => [...item.getElementsByTagName('category')].map((category) => format === 'rss' ? category.textContent : category.getAttribute('label')))
        t.same(categories, tagNames, `${label}: the categories carry the tag names`)
        t.same((await rssParser.parseString(body)).items.map((item) => item.title), titles, `${label}: rss-parser reads exactly the API's titles`)
      }
    }
    const jsonFeed = (await app.inject({ url: `/v1/blogs/${blog}/feed?format=jsonfeed&limit=100` })).json() as { items: Array<{ title: string, tags?: string[] }> }
    t.same(jsonFeed.items.map((item) => item.title), titles, `${blog} JSON Feed: the API's titles`)
    for (const sitemap of ['sitemap.xml', 'news-sitemap.xml']) {
      const body = (await app.inject({ url: `/v1/blogs/${blog}/${sitemap}` })).body
      t.equal(XMLValidator.validate(body), true, `${blog} ${sitemap}: well-formed XML`)
      if (sitemap === 'news-sitemap.xml') {
        const newsTitles = [...strictDom(body).getElementsByTagName('news:title')].map((node) => node.textContent)
        t.same(newsTitles.sort(), [...titles].sort(), `${blog} ${sitemap}: the news titles`)
      }
    }
  }
})
