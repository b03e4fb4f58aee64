import { DOMParser, type Element } from '@xmldom/xmldom'
import t from 'tap'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Sitemaps and Google News sitemaps, parsed as XML (@xmldom/xmldom) and checked field by field
// against sitemaps.org 0.9 and Google's news sitemap rules: namespaces, at most 50,000 URLs (1,000
// for news), W3C dates, absolute and escaped URLs, and exactly the public, indexable posts.

const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9'
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9'
const W3C_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

function parse (body: string): Element {
  const errors: string[] = []
  const root = new DOMParser({ onError: (level, message) => { if (level !== 'warning') errors.push(message) } }).parseFromString(body, 'text/xml').documentElement
  if (root === null || errors.length > 0) throw new Error(`not XML: ${errors.join('; ')}`)
  return root
}
const children = (parent: Element, name: string, ns: string) => Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1 && (node as Element).localName === name && (node as Element).namespaceURI === ns)
const textOf = (parent: Element, name: string, ns: string) => children(parent, name, ns)[0]?.textContent ?? ''

t.test('sitemaps list exactly the public, indexable posts, by the rules', async (t) => {
  const { app } = await buildTestApp(t, { WEBSITE_URL: 'https://news.example.com' })
  const flag = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag', language: 'en' })
  const steppe = await newBlog(app.db, { slug: 'steppe', title: 'Steppe & Co', language: 'ru' })
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000)
  const published = [
    await newPost(app.db, { blogId: flag.id, slug: 'fresh', title: 'Fresh <news> & more', publishedAt: hoursAgo(2) }),
    await newPost(app.db, { blogId: flag.id, slug: 'yesterday', publishedAt: hoursAgo(30) }),
    await newPost(app.db, { blogId: flag.id, slug: 'old', publishedAt: new Date('2014-10-15T10:00:00Z') }),
    await newPost(app.db, { blogId: steppe.id, slug: 'ru-fresh', language: 'ru', title: 'Новости', publishedAt: hoursAgo(1) })
  ]
  await newPost(app.db, { blogId: flag.id, slug: 'a-draft', status: 'draft' })
  await newPost(app.db, { blogId: flag.id, slug: 'a-future-post', status: 'scheduled', publishedAt: new Date(Date.now() + 86_400_000) })
  await newPost(app.db, { blogId: flag.id, slug: 'deleted', deletedAt: new Date(), publishedAt: hoursAgo(3) })
  const hidden = await newPost(app.db, { blogId: flag.id, slug: 'noindex', publishedAt: hoursAgo(4) })
  await app.db.updateTable('posts').set({ noindex: true }).where('id', '=', hidden.id).execute()
  // A post address with characters XML must escape.
  const writer = await newApiKey(app.db, ['content:write'])
  await app.inject({ method: 'PATCH', url: '/v1/blogs/steppe', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: { post_url_template: 'https://steppe.example.org/read?id={id}&s={slug}' } })

  // The network index lists each blog's month pages, with lastmod.
  const index = await app.inject({ url: '/v1/sitemap.xml' })
  t.equal(index.statusCode, 200, index.body)
  t.match(index.headers['content-type'], /^application\/xml/)
  const indexRoot = parse(index.body)
  t.equal(indexRoot.localName, 'sitemapindex')
  t.equal(indexRoot.namespaceURI, SITEMAP_NS)
  const pages = children(indexRoot, 'sitemap', SITEMAP_NS).map((entry) => ({ loc: textOf(entry, 'loc', SITEMAP_NS), lastmod: textOf(entry, 'lastmod', SITEMAP_NS) }))
  t.ok(pages.length >= 3, `${pages.length} pages`)
  t.ok(pages.every((page) => W3C_DATETIME.test(page.lastmod)), 'lastmod in W3C datetime')
  t.ok(pages.every((page) => page.loc.startsWith('http://api.test/v1/blogs/')), 'absolute page URLs')

  // Every page together: exactly the public, indexable posts, at their website addresses.
  const listed: string[] = []
  for (const page of pages) {
    const res = await app.inject({ url: page.loc.replace('http://api.test', '') })
    t.equal(res.statusCode, 200)
    const root = parse(res.body)
    t.equal(root.localName, 'urlset')
    t.equal(root.namespaceURI, SITEMAP_NS)
    const urls = children(root, 'url', SITEMAP_NS)
    t.ok(urls.length <= 50_000)
    for (const url of urls) {
      const loc = textOf(url, 'loc', SITEMAP_NS)
      t.ok(URL.canParse(loc) && /^https?:\/\//.test(loc), `absolute: ${loc}`)
      t.match(textOf(url, 'lastmod', SITEMAP_NS), W3C_DATETIME)
      listed.push(loc)
    }
    if (page.loc.includes('/steppe/')) t.match(res.body, /<loc>https:\/\/steppe\.example\.org\/read\?id=[0-9a-f-]+&amp;s=ru-fresh<\/loc>/, '& escaped in the XML')
  }
  const expected = published.map((post) => post.slug === 'ru-fresh' ? `https://steppe.example.org/read?id=${post.id}&s=ru-fresh` : `https://news.example.com/flag/${post.slug}`)
  t.same(listed.sort(), expected.sort(), 'no draft, future, deleted or noindex post')

  // Google News: the last 48 hours only, with publication name and language.
  const news = await app.inject({ url: '/v1/news-sitemap.xml' })
  t.equal(news.statusCode, 200)
  const newsRoot = parse(news.body)
  t.equal(newsRoot.namespaceURI, SITEMAP_NS)
  t.equal(newsRoot.lookupNamespaceURI('news'), NEWS_NS, 'the news namespace')
  const items = children(newsRoot, 'url', SITEMAP_NS)
  t.ok(items.length <= 1000)
  const entries = items.map((item) => {
    const block = children(item, 'news', NEWS_NS)[0] as Element
    const publication = children(block, 'publication', NEWS_NS)[0] as Element
    return { loc: textOf(item, 'loc', SITEMAP_NS), name: textOf(publication, 'name', NEWS_NS), language: textOf(publication, 'language', NEWS_NS), date: textOf(block, 'publication_date', NEWS_NS), title: textOf(block, 'title', NEWS_NS) }
  })
  t.same(entries.map((entry) => entry.loc.split('/').pop()?.split('&s=').pop()).sort(), ['fresh', 'ru-fresh', 'yesterday'], 'the last 48 hours, indexable only')
  t.ok(entries.every((entry) => W3C_DATETIME.test(entry.date)), 'publication_date in W3C format')
  t.ok(entries.every((entry) => /^[a-z]{2,3}(-(cn|tw))?$/.test(entry.language)), 'ISO 639 languages')
  t.match(entries.find((entry) => entry.language === 'ru'), { name: 'Steppe & Co', title: 'Новости' }, 'names and titles as text, escaped in the XML')
  t.match(news.body, /Steppe &amp; Co/)
  t.match(entries.find((entry) => entry.title.startsWith('Fresh')), { title: 'Fresh <news> & more', name: 'Under The Black Flag' })

  const blogNews = parse((await app.inject({ url: '/v1/blogs/steppe/news-sitemap.xml' })).body)
  t.equal(children(blogNews, 'url', SITEMAP_NS).length, 1, 'a blog\'s own news sitemap')
  for (const url of ['/v1/blogs/flag/sitemap.xml?month=2014-13', '/v1/blogs/flag/sitemap.xml?page=2', '/v1/sitemap.xml?x=1']) {
    t.equal((await app.inject({ url })).statusCode, 400, url)
  }
  t.equal((await app.inject({ url: '/v1/blogs/nowhere/sitemap.xml' })).statusCode, 404)
})
