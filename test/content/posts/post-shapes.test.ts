import t from 'tap'
import { countPosts } from '../../../src/content/posts/posts.repository.ts'
import {
  PostListItemSchema, PostSchema, PreviewPostSchema, SparsePostSchema
} from '../../../src/content/posts/posts.schemas.ts'
import { newApiKey, newAuthor, newBlog, newPost } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// The shapes a client gets, field by field, for each way of asking: complete list items by
// default, only the fields named with fields= (lists and single posts), bodies with formats=,
// and totals that are exact where they can be. Response validation is strict in tests, so each
// response was also checked against the variant it was sent as.

async function fixture (t: Parameters<typeof buildTestApp>[0]) {
  const testApp = await buildTestApp(t)
  const { app } = testApp
  const blog = await newBlog(app.db, { slug: 'flag' })
  const ann = await newAuthor(app.db, { slug: 'ann' })
  for (let i = 0; i < 27; i++) {
    await newPost(app.db, { blogId: blog.id, slug: `post-${i}`, bodyText: `Plain words of post ${i} & more`, language: i % 3 === 0 ? 'ru' : 'en', authorIds: [ann.id] })
  }
  await newPost(app.db, { blogId: blog.id, slug: 'draft', status: 'draft' })
  return testApp
}

// One database for the file: the checks below read, and the one that writes comes last.
const { app } = await fixture(t)

t.test('list items are complete without fields=, and bodies come only with formats=', async (t) => {
  const page = (await app.inject({ url: '/v1/posts?limit=5' })).json()
  const complete = Object.keys(PostListItemSchema.shape).filter((field) => !field.startsWith('body_'))
  for (const item of page.data) {
    t.same(Object.keys(item).sort(), complete.sort(), 'every field but the bodies')
    t.ok(PostListItemSchema.safeParse(item).success)
    t.type(item.published_at, 'string', 'a public post always has its publish time')
  }
  const html = (await app.inject({ url: '/v1/posts?limit=2&formats=html' })).json().data
  t.ok(html.every((item: { body_html?: string, body_text?: string }) => item.body_html?.startsWith('<p>') && item.body_text === undefined), 'formats=html adds body_html')
  const both = (await app.inject({ url: '/v1/posts?limit=2&formats=html,plaintext' })).json().data
  t.ok(both.every((item: { body_html?: string, body_text?: string }) => item.body_html !== undefined && /^Plain words of post \d+ & more$/.test(item.body_text ?? '')),
    'formats=plaintext adds the plain text, unescaped')
  const bad = await app.inject({ url: '/v1/posts?formats=pdf' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().errors[0].path, 'query.formats.0')
})

t.test('fields= chooses the fields on lists and single posts; the response is a SparsePost', async (t) => {
  const list = (await app.inject({ url: '/v1/posts?limit=3&fields=title,published_at' })).json()
  for (const item of list.data) {
    t.same(Object.keys(item).sort(), ['id', 'published_at', 'title'])
    t.ok(SparsePostSchema.safeParse(item).success)
  }
  const id = list.data[0].id
  const single = await app.inject({ url: `/v1/posts/${id}?fields=title,body_text` })
  t.equal(single.statusCode, 200, single.body)
  t.same(Object.keys(single.json().data).sort(), ['body_text', 'id', 'title'])
  const bySlug = (await app.inject({ url: '/v1/blogs/flag/posts/post-3?fields=url&formats=plaintext' })).json().data
  t.same(Object.keys(bySlug).sort(), ['body_text', 'id', 'url'], 'formats= adds to what fields= names')
  const full = (await app.inject({ url: `/v1/posts/${id}?formats=plaintext` })).json().data
  t.ok(PostSchema.safeParse(full).success, 'without fields=, a single post is a complete Post')
  t.type(full.body_html, 'string')
  t.type(full.body_text, 'string')
  const unknown = await app.inject({ url: `/v1/posts/${id}?fields=title,secret` })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().detail, /Unknown field: secret/)
  // A query wrong wherever it is sent is a 400 before the owner of the list is looked up: it had
  // been a 404 for an unknown tag, where the same query on a known one was a 400.
  for (const owner of ['blogs/flag', 'blogs/no-such-blog', 'authors/no-such-author', 'tags/no-such-tag']) {
    for (const query of ['fields=secret', 'include=comments', 'sort=relevance']) {
      const res = await app.inject({ url: `/v1/${owner}/posts?${query}` })
      t.equal(res.statusCode, 400, `${owner} ${query}: ${res.body}`)
    }
  }
  // So too a single post's fields under a blog, and a sitemap page without its month.
  for (const url of ['/v1/blogs/no-such-blog/posts/post-3?fields=secret', '/v1/blogs/no-such-blog/posts/post-3?include=comments', '/v1/blogs/no-such-blog/sitemap.xml?page=2', '/v1/blogs/flag/sitemap.xml?page=2']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, `${url}: ${res.body}`)
  }
})

t.test('a preview key sees drafts without a publish time, as PreviewPost', async (t) => {
  const preview = await newApiKey(app.db, ['content:preview'])
  const res = await app.inject({ url: '/v1/posts?status=draft', headers: { authorization: `Bearer ${preview}` } })
  t.equal(res.statusCode, 200, res.body)
  const [draft] = res.json().data
  t.equal(draft.published_at, null)
  t.ok(PreviewPostSchema.safeParse(draft).success)
  t.notOk(PostSchema.safeParse({ ...draft, body_html: '' }).success, 'which the public Post shape would refuse')
})

t.test('count=estimate: exact on small and filtered lists, the planner beyond the limit, and the response says which', async (t) => {
  const all = (await app.inject({ url: '/v1/posts?limit=1&count=estimate' })).json().meta
  t.same([all.total, all.total_exact, all.estimated_total], [27, true, 27], '27 public posts, counted (the planner said 1)')
  const ru = (await app.inject({ url: '/v1/posts?limit=1&count=estimate&language=ru' })).json().meta
  t.same([ru.total, ru.total_exact], [9, true], 'filtered: counted too')
  const none = (await app.inject({ url: '/v1/posts?limit=1&count=estimate&language=fa' })).json().meta
  t.same([none.total, none.total_exact], [0, true])
  // Beyond the limit (10,000 in the API; 5 here), the planner's estimate, never below what was counted.
  const beyond = await countPosts(app.db, {}, 'public', 5)
  t.equal(beyond.exact, false)
  t.ok(beyond.total >= 6, `estimated ${beyond.total}, at least the 6 rows counted`)
})

t.test('body HTML keeps quotes and apostrophes in text as they are; only &, < and > are escaped', async (t) => {
  const writer = await newApiKey(app.db, ['content:write'])
  const send = (body: Record<string, unknown>) => app.inject({
    method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: { blog: 'flag', status: 'published', ...body }
  })
  for (const body of [
    { title: 'Markdown', body_markdown: 'Lavrov said "no" -- it\'s \'final\' & <b>firm</b>' },
    { title: 'HTML', body_html: '<p>Lavrov said &quot;no&quot; -- it&#39;s &#x27;final&#x27; &amp; <b>firm</b></p>' }
  ]) {
    const res = await send(body)
    t.equal(res.statusCode, 201, res.body)
    const post = res.json().data
    t.match(post.body_html, /Lavrov said "no" -- it's 'final' &amp; <b>firm<\/b>/, `${body.title}: quotes as themselves`)
    t.notMatch(post.body_html, /&#|&quot;|&apos;/, `${body.title}: no numeric or named quote entities`)
    const text = (await app.inject({ url: `/v1/posts/${post.id}?formats=plaintext&fields=body_text` })).json().data.body_text
    t.equal(text, 'Lavrov said "no" -- it\'s \'final\' & firm', `${body.title}: the plain text is plain`)
  }
})
