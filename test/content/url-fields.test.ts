import t from 'tap'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Every URL an editor or integrator writes (images, links, canonical addresses, webhook targets)
// goes out as written: in JSON, in feeds (the lead image as RSS enclosure and media:content), in
// JSON-LD, as a webhook's target. Each is kept as the URL parser serializes it, so what goes out
// is a URI: the same hostile family as post addresses (post-addresses.test.ts), field by field.

const HOSTILE = 'https://Static.ПРИМЕР.рф/images/lead image "1" <big>.jpg?w=1200&h=ü'
const NORMALIZED = new URL(HOSTILE).href
const URI = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/

t.test('every URL field of every write is kept as a URI', async (t) => {
  t.ok(URI.test(NORMALIZED), `the expected form is a URI: ${NORMALIZED}`)
  // Webhook targets on this machine, where the test receives nothing (no network here to resolve a name).
  const { app } = await buildTestApp(t, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' })
  const admin = await newApiKey(app.db, ['admin'])
  const send = (method: 'POST' | 'PATCH', url: string, payload: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload })
  await newBlog(app.db, { slug: 'flag' })

  const blog = (await send('PATCH', '/v1/blogs/flag', { logo_url: HOSTILE, icon_url: HOSTILE, cover_image_url: HOSTILE, social_accounts: [{ label: 'X', url: HOSTILE }] })).json().data
  t.match(blog, { logo_url: NORMALIZED, icon_url: NORMALIZED, cover_image_url: NORMALIZED, social_accounts: [{ url: NORMALIZED }] }, 'blog images and accounts')

  const author = await send('POST', '/v1/authors', { name: 'Joanna', avatar_url: HOSTILE, links: [{ label: 'Site', url: HOSTILE }] })
  t.equal(author.statusCode, 201, author.body)
  t.match(author.json().data, { avatar_url: NORMALIZED, links: [{ url: NORMALIZED }] }, 'author avatar and links')

  const created = await send('POST', '/v1/posts', {
    blog: 'flag', status: 'published', title: 'Images', body_markdown: 'Text.', lead_image: { url: HOSTILE, caption: 'A caption' },
    seo: { canonical_url: HOSTILE, og_image: HOSTILE, twitter_image: HOSTILE }
  })
  t.equal(created.statusCode, 201, created.body)
  const post = created.json().data
  t.match(post, { lead_image: { url: NORMALIZED }, seo: { canonical_url: NORMALIZED, og_image: NORMALIZED, twitter_image: NORMALIZED } }, 'lead image and SEO fields')
  const rss = (await app.inject({ url: '/v1/blogs/flag/feed?format=rss' })).body
  const escaped = NORMALIZED.replaceAll('&', '&amp;')
  t.ok(rss.includes(`<enclosure url="${escaped}"`), 'the RSS enclosure')
  t.ok(rss.includes(`<media:content url="${escaped}"`), 'the Media RSS content')
  const article = (await app.inject({ url: `/v1/posts/${post.id}/news-article` })).json()
  t.ok(JSON.stringify(article).includes(NORMALIZED), 'the NewsArticle JSON-LD')

  const webhook = await send('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/In coming?a="b"', event_types: ['post.published'] })
  t.equal(webhook.statusCode, 201, webhook.body)
  t.equal(webhook.json().data.url, 'http://127.0.0.1:9/In%20coming?a=%22b%22', 'a webhook target')

  // Too long once percent-encoded: a 400 that says so, naming the field.
  const long = await send('PATCH', '/v1/blogs/flag', { logo_url: 'https://static.example.com/' + 'ж'.repeat(400) })
  t.equal(long.statusCode, 400)
  t.match(long.json(), { errors: [{ path: 'body.logo_url', message: /at most 2,000 characters, as a URL parser writes it/ }] })
  const stray = await send('PATCH', '/v1/blogs/flag', { logo_url: 'https://static.example.com/100%.png' })
  t.equal(stray.statusCode, 400)
  t.match(stray.json(), { errors: [{ path: 'body.logo_url', message: /% that starts no percent-escape/ }] })
})
