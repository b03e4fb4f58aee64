import t from 'tap'
import { NewsArticleSchema } from '../../../src/content/posts/news-article.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// NewsArticle JSON-LD checked against Google's article structured-data guidelines
// (developers.google.com/search/docs/appearance/structured-data/article): the properties Google
// reads, headline length, absolute image URLs of at least 50,000 pixels where the size is known,
// ISO 8601 dates with a time zone, authors as Person with name and url, the publisher's logo.

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

t.test('a post as NewsArticle, by Google\'s rules', async (t) => {
  const { app } = await buildTestApp(t, { WEBSITE_URL: 'https://news.example.com' })
  const blog = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag', language: 'en' })
  const ann = await newAuthor(app.db, { slug: 'ann', name: 'Ann Writer' })
  const tag = await newTag(app.db, { slug: 'syria', name: 'Syria' })
  const long = 'A headline that goes on and on, far past what search results show, about Moscow, the coalition and what was said in Paris on Tuesday'
  const post = await newPost(app.db, { blogId: blog.id, slug: 'long', title: long, authorIds: [ann.id], tagIds: [tag.id], leadImageUrl: 'https://img.example/lead.jpg' })
  await app.db.updateTable('posts').set({ lead_image_width: 1200, lead_image_height: 800, og_image_url: 'https://img.example/social.jpg' }).where('id', '=', post.id).execute()
  await app.db.updateTable('blogs').set({ logo_url: 'https://img.example/logo.png' }).where('id', '=', blog.id).execute()

  const res = await app.inject({ url: `/v1/posts/${post.id}/news-article` })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.headers['content-type'], /^application\/ld\+json/)
  const doc = JSON.parse(res.body)
  t.ok(NewsArticleSchema.safeParse(doc).success, 'the documented shape')
  t.equal(doc['@context'], 'https://schema.org')
  t.equal(doc['@type'], 'NewsArticle')
  t.ok(doc.headline.length <= 110, `headline of ${doc.headline.length} characters (at most 110)`)
  t.ok(doc.headline.endsWith('…') && long.startsWith(doc.headline.slice(0, -1)), 'cut, and says so')

  // A headline whose cut falls inside an emoji: the emoji goes whole, no lone surrogate (which
  // JSON carries as an escape and a search engine shows as a replacement character).
  const emoji = await newPost(app.db, { blogId: blog.id, slug: 'emoji', title: `${'Crowned '.repeat(13)}abcd👑 and on past the limit`, authorIds: [ann.id] })
  const cut = await app.inject({ url: `/v1/posts/${emoji.id}/news-article` })
  t.notMatch(cut.body, /\\ud[89ab]/i, 'no escaped surrogate in the JSON')
  t.equal(JSON.parse(cut.body).headline, `${'Crowned '.repeat(13)}abcd…`)
  for (const field of ['datePublished', 'dateModified']) t.match(doc[field], ISO_WITH_ZONE, `${field} is ISO 8601 with a time zone`)
  t.ok(doc.image.length >= 1 && doc.image.every((image: { url: string }) => /^https:\/\//.test(image.url)), 'absolute image URLs')
  t.ok(doc.image.every((image: { width?: number, height?: number }) => image.width === undefined || image.height === undefined || image.width * image.height >= 50_000), 'known sizes of at least 50,000 pixels')
  t.same(doc.author, [{ '@type': 'Person', name: 'Ann Writer', url: 'https://news.example.com/author/ann/' }], 'authors as Person with name and url')
  t.same(doc.publisher, { '@type': 'Organization', name: 'Under The Black Flag', url: 'https://news.example.com', logo: { '@type': 'ImageObject', url: 'https://img.example/logo.png' } })
  t.same(doc.mainEntityOfPage, { '@type': 'WebPage', '@id': 'https://news.example.com/flag/long' })
  t.equal(doc.isAccessibleForFree, true)
  t.equal(doc.inLanguage, 'en')
  t.same(doc.keywords, ['Syria'])

  // An image known to be too small is left out; a noindex post says so in the header.
  const writer = await newApiKey(app.db, ['content:write'])
  const patched = await app.inject({
    method: 'PATCH', url: `/v1/posts/${post.id}`, headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
    payload: { lead_image: { url: 'https://img.example/lead.jpg', width: 100, height: 100 }, seo: { noindex: true } }
  })
  t.equal(patched.statusCode, 200, patched.body)
  const small = await app.inject({ url: `/v1/posts/${post.id}/news-article` })
  t.same(JSON.parse(small.body).image.map((image: { url: string }) => image.url), ['https://img.example/social.jpg'], '100x100 is too small for article results')
  t.equal(small.headers['x-robots-tag'], 'noindex')

  const draft = await newPost(app.db, { blogId: blog.id, status: 'draft' })
  t.equal((await app.inject({ url: `/v1/posts/${draft.id}/news-article` })).statusCode, 404, 'drafts have none')
  const preview = await newApiKey(app.db, ['content:preview'])
  t.equal((await app.inject({ url: `/v1/posts/${draft.id}/news-article`, headers: { authorization: `Bearer ${preview}` } })).statusCode, 404, 'not even for a preview key: it is for published pages')
})
