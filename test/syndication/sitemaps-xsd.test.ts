import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { XmlDocument, XsdValidator } from 'libxml2-wasm'
import t, { type Test } from 'tap'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Every sitemap the API serves, validated by libxml2 (the parser behind xmllint, compiled to
// WebAssembly: libxml2-wasm) against sitemaps.org's own schemas (test/fixtures/sitemaps), not
// against our reading of the protocol (sitemaps.test.ts checks the content). The schemas found
// that an index or a page with nothing in it is not a sitemap: those are 404s now.

const schema = (file: string) => {
  const doc = XmlDocument.fromString(readFileSync(new URL(`../fixtures/sitemaps/${file}`, import.meta.url), 'utf8'))
  const validator = XsdValidator.fromDoc(doc)
  doc.dispose()
  return validator
}
const schemas = { urlset: schema('sitemap.xsd'), sitemapindex: schema('siteindex.xsd') }
t.teardown(() => { schemas.urlset.dispose(); schemas.sitemapindex.dispose() })

/** What libxml2 finds wrong with a document of `kind` ('' when it is valid). */
function schemaErrors (kind: keyof typeof schemas, body: string): string {
  const doc = XmlDocument.fromString(body)
  try {
    schemas[kind].validate(doc)
    return ''
  } catch (error) {
    return (error as Error).message
  } finally {
    doc.dispose()
  }
}

const SITEMAP_PAGE_LOC = /<loc>http:\/\/api\.test(\/v1\/blogs\/[^<]+)<\/loc>/g
const path = (loc: string) => loc.replaceAll('&amp;', '&')

/** The network's index and each blog's, and every page they list: all valid; returns the pages. */
async function validateEverySitemap (t: Test, app: FastifyInstance, blogSlugs: string[]): Promise<string[]> {
  const pages = new Set<string>()
  for (const url of ['/v1/sitemap.xml', ...blogSlugs.map((slug) => `/v1/blogs/${slug}/sitemap.xml`)]) {
    const index = await app.inject({ url })
    t.equal(index.statusCode, 200, url)
    t.equal(schemaErrors('sitemapindex', index.body), '', `${url}: valid against siteindex.xsd`)
    for (const [, page] of index.body.matchAll(SITEMAP_PAGE_LOC)) pages.add(path(page as string))
  }
  for (const page of pages) {
    const res = await app.inject({ url: page })
    t.equal(res.statusCode, 200, page)
    t.equal(schemaErrors('urlset', res.body), '', `${page}: valid against sitemap.xsd`)
  }
  return [...pages]
}

async function expectNothingToList (t: Test, app: FastifyInstance, url: string): Promise<void> {
  const res = await app.inject({ url })
  t.equal(res.statusCode, 404, `${url}: nothing to list is a 404`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { status: 404, detail: /no indexable post/ })
}

t.test('the schemas themselves: an empty urlset or index and an overlong loc are invalid, a sitemap of ours is valid', async (t) => {
  // Guards the guard: a validator that accepted anything would pass every test below.
  const ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
  t.match(schemaErrors('urlset', `<urlset ${ns}></urlset>`), /Missing child element/)
  t.match(schemaErrors('sitemapindex', `<sitemapindex ${ns}></sitemapindex>`), /Missing child element/)
  t.match(schemaErrors('urlset', `<urlset ${ns}><url><loc>https://news.example.com/${'a'.repeat(2048)}</loc></url></urlset>`), /maxLength/)
  t.match(schemaErrors('urlset', `<urlset ${ns}><url><loc>https://news.example.com/a</loc><lastmod>yesterday</lastmod></url></urlset>`), /lastmod/)
  t.match(schemaErrors('urlset', `<urlset ${ns}><url><lastmod>2014-10-15</lastmod></url></urlset>`), /loc/)
  t.equal(schemaErrors('urlset', `<urlset ${ns}><url><loc>https://news.example.com/a?b=1&amp;c=2</loc><lastmod>2014-10-15T10:00:00.000Z</lastmod></url></urlset>`), '')
})

t.test('every index and page is valid against sitemaps.org\'s schemas; what has nothing to list is a 404', async (t) => {
  const { app } = await buildTestApp(t, { WEBSITE_URL: 'https://news.example.com' })
  const writer = await newApiKey(app.db, ['content:write'])

  // Before any post: no network index.
  await expectNothingToList(t, app, '/v1/sitemap.xml')

  const flag = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag' })
  const steppe = await newBlog(app.db, { slug: 'steppe', title: 'Steppe & Co', language: 'ru' })
  await newBlog(app.db, { slug: 'quiet', title: 'No posts yet' })
  const hidden = await newBlog(app.db, { slug: 'hidden', title: 'Only drafts and noindex posts' })
  // Addresses with characters XML must escape, and a long one.
  await app.inject({ method: 'PATCH', url: '/v1/blogs/steppe', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: { post_url_template: 'https://steppe.example.org/read?id={id}&s={slug}&lang=ru#top' } })
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000)
  await newPost(app.db, { blogId: flag.id, slug: 'fresh', title: 'Fresh <news> & more', publishedAt: hoursAgo(2) })
  await newPost(app.db, { blogId: flag.id, slug: 'old', publishedAt: new Date('2014-10-15T10:00:00Z') })
  const lonely = await newPost(app.db, { blogId: flag.id, slug: 'lonely', publishedAt: new Date('2015-03-01T00:00:00Z') })
  await newPost(app.db, { blogId: flag.id, slug: 'x'.repeat(100), publishedAt: hoursAgo(50) })
  await newPost(app.db, { blogId: steppe.id, slug: 'ru-fresh', language: 'ru', title: 'Новости', publishedAt: hoursAgo(1) })
  await newPost(app.db, { blogId: steppe.id, slug: 'ru-old', language: 'ru', publishedAt: new Date('2016-01-31T23:59:59Z') })
  await newPost(app.db, { blogId: hidden.id, slug: 'a-draft', status: 'draft' })
  const noindex = await newPost(app.db, { blogId: hidden.id, slug: 'noindex', publishedAt: hoursAgo(4) })
  await app.db.updateTable('posts').set({ noindex: true }).where('id', '=', noindex.id).execute()
  await newPost(app.db, { blogId: flag.id, slug: 'tomorrow', status: 'scheduled', publishedAt: new Date(Date.now() + 86_400_000) })

  const pages = await validateEverySitemap(t, app, ['flag', 'steppe'])
  t.ok(pages.some((page) => page.endsWith('month=2015-03')), 'the lonely post\'s month is listed')

  // Nothing to list: a blog without indexable posts, a month or page without posts.
  await expectNothingToList(t, app, '/v1/blogs/quiet/sitemap.xml')
  await expectNothingToList(t, app, '/v1/blogs/hidden/sitemap.xml')
  await expectNothingToList(t, app, '/v1/blogs/flag/sitemap.xml?month=2031-01')
  await expectNothingToList(t, app, '/v1/blogs/flag/sitemap.xml?month=2014-10&page=2')
  await expectNothingToList(t, app, '/v1/blogs/quiet/sitemap.xml?month=2014-10')

  // A month whose only post is unpublished: gone from the index, and its page a 404 (after a
  // 200 that the response cache held).
  const month = '/v1/blogs/flag/sitemap.xml?month=2015-03'
  t.equal((await app.inject({ url: month })).statusCode, 200)
  const unpublished = await app.inject({ method: 'POST', url: `/v1/posts/${lonely.id}/unpublish`, headers: { authorization: `Bearer ${writer}` } })
  t.equal(unpublished.statusCode, 200, unpublished.body)
  await expectNothingToList(t, app, month)
  t.notOk((await validateEverySitemap(t, app, ['flag', 'steppe'])).includes(month), 'no longer listed')

  // Google News sitemaps may be empty (the last 48 hours): a 200, not a 404.
  const news = await app.inject({ url: '/v1/blogs/quiet/news-sitemap.xml' })
  t.equal(news.statusCode, 200)
  t.match(news.body, /<urlset [^>]*>\n<\/urlset>/)
})
