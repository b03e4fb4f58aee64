import t from 'tap'
import { newApiKey, newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Search and social fields: each as the editor set it, else defaulted from the article; lengths
// search engines show and absolute http(s) URLs enforced; noindex reaches crawlers.

t.test('seo fields default from the article, take what editors set, and clear with null', async (t) => {
  const { app } = await buildTestApp(t, { WEBSITE_URL: 'https://news.example.com' })
  await newBlog(app.db, { slug: 'flag' })
  const writer = await newApiKey(app.db, ['content:write'])
  const send = (method: 'POST' | 'PATCH', url: string, payload: unknown) => app.inject({ method, url, headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: payload as object })
  const created = await send('POST', '/v1/posts', {
    blog: 'flag', title: 'Moscow and the coalition', excerpt: 'Moscow will not join.', status: 'published',
    lead_image: { url: 'https://img.example/lead.jpg' }, body_markdown: 'Text.'
  })
  t.equal(created.statusCode, 201, created.body)
  const post = created.json().data
  t.same(post.seo, {
    meta_title: 'Moscow and the coalition',
    meta_description: 'Moscow will not join.',
    canonical_url: 'https://news.example.com/flag/moscow-and-the-coalition',
    og_title: 'Moscow and the coalition',
    og_description: 'Moscow will not join.',
    og_image: 'https://img.example/lead.jpg',
    twitter_title: 'Moscow and the coalition',
    twitter_description: 'Moscow will not join.',
    twitter_image: 'https://img.example/lead.jpg',
    robots: 'index, follow'
  }, 'everything defaults from the article')

  const edited = await send('PATCH', `/v1/posts/${post.id}`, { seo: { meta_title: 'Moscow says no', og_image: 'https://img.example/social.jpg', canonical_url: 'https://wire.example.org/original', noindex: true } })
  t.equal(edited.statusCode, 200, edited.body)
  t.match(edited.json().data.seo, { meta_title: 'Moscow says no', og_title: 'Moscow says no', og_image: 'https://img.example/social.jpg', twitter_image: 'https://img.example/social.jpg', canonical_url: 'https://wire.example.org/original', robots: 'noindex, follow' })
  const read = await app.inject({ url: `/v1/posts/${post.id}` })
  t.equal(read.headers['x-robots-tag'], 'noindex', 'crawlers are told in the header too')

  const ghostKey = (await app.inject({ method: 'POST', url: '/v1/api-keys', headers: { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}`, 'content-type': 'application/json' }, payload: { name: 'g', scopes: ['content:read'], format: 'ghost' } })).json().data.key
  const ghost = (await app.inject({ url: `/ghost/api/content/posts/${post.id}/?key=${ghostKey}` })).json().posts[0]
  t.match(ghost, { meta_title: 'Moscow says no', og_image: 'https://img.example/social.jpg', canonical_url: 'https://wire.example.org/original', meta_description: null }, 'Ghost\'s names, as set')

  const cleared = await send('PATCH', `/v1/posts/${post.id}`, { seo: { meta_title: null, canonical_url: null, noindex: false } })
  t.match(cleared.json().data.seo, { meta_title: 'Moscow and the coalition', canonical_url: 'https://news.example.com/flag/moscow-and-the-coalition', og_image: 'https://img.example/social.jpg', robots: 'index, follow' }, 'null clears back to the default; the rest stays')
  t.notOk('x-robots-tag' in (await app.inject({ url: `/v1/posts/${post.id}?fields=seo` })).headers)

  for (const [seo, path] of [
    [{ meta_title: 'x'.repeat(71) }, 'body.seo.meta_title'],
    [{ meta_description: 'x'.repeat(161) }, 'body.seo.meta_description'],
    [{ og_image: 'javascript:alert(1)' }, 'body.seo.og_image'],
    [{ canonical_url: '/relative' }, 'body.seo.canonical_url'],
    [{ twitter_title: '' }, 'body.seo.twitter_title'],
    [{ noindex: 'yes' }, 'body.seo.noindex'],
    [{ keywords: 'x' }, 'body.seo.keywords']
  ] as const) {
    const res = await send('PATCH', `/v1/posts/${post.id}`, { seo })
    t.equal(res.statusCode, 400, JSON.stringify(seo).slice(0, 60))
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `names ${path}: ${JSON.stringify(res.json().errors)}`)
  }

  const blog = await send('PATCH', '/v1/blogs/flag', { logo_url: 'https://img.example/logo.png', social_accounts: [{ label: 'X', url: 'https://x.com/flag' }] })
  t.equal(blog.statusCode, 200, blog.body)
  t.match(blog.json().data, { logo_url: 'https://img.example/logo.png', icon_url: null, social_accounts: [{ label: 'X', url: 'https://x.com/flag' }] })
  t.equal((await send('PATCH', '/v1/blogs/flag', { logo_url: 'ftp://x' })).statusCode, 400)
})
