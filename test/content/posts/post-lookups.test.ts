import t from 'tap'
import { sql } from 'kysely'
import { nextSecond } from '../../helpers/clock.ts'
import { newApiKey, newBlog, newPost } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Single posts read at the same moment share queries (content/posts/post-lookups.ts): the keys
// that arrive while lookups are in flight go out as one statement. Whatever the batch, every
// response must be the one the request gets alone: the same status, headers and bytes for each
// post, a draft not shown to the public, a deleted post gone, a renamed slug redirected, a post
// under another blog not found, and a preview key's view never mixed with the public's.

const HEADERS = ['etag', 'last-modified', 'location', 'content-type', 'surrogate-key', 'x-robots-tag', 'cache-control'] as const

t.test('posts read together answer as posts read one at a time, in fewer queries', async (t) => {
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const db = app.db
  const desk = await newBlog(db, { slug: 'desk' })
  const other = await newBlog(db, { slug: 'other' })
  const posts = []
  for (let i = 0; i < 12; i++) posts.push(await newPost(db, { blogId: desk.id, slug: `story-${i}`, bodyText: `Story ${i} ${'ليس '.repeat(i)}` }))
  const draft = await newPost(db, { blogId: desk.id, slug: 'draft', status: 'draft' })
  const deleted = await newPost(db, { blogId: desk.id, slug: 'deleted', deletedAt: new Date() })
  await newPost(db, { blogId: desk.id, slug: 'future', status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000) })
  const elsewhere = await newPost(db, { blogId: other.id, slug: 'elsewhere' })
  await sql`UPDATE posts SET noindex = true WHERE id = ${posts[3]!.id}`.execute(db)
  await db.insertInto('slug_redirects').values({ entity_type: 'post', scope_id: desk.id, old_slug: 'old-name', target_id: posts[5]!.id }).execute()
  const preview = await newApiKey(db, ['content:read', 'content:preview'])
  // Past the second of these writes: a response in it has no Last-Modified, one after it has.
  await nextSecond()

  const paths = [
    ...posts.map((post) => `/v1/blogs/desk/posts/${post.slug}`),
    ...posts.slice(0, 4).map((post) => `/v1/posts/${post.id}`),
    '/v1/blogs/desk/posts/old-name', '/v1/blogs/desk/posts/draft', '/v1/blogs/desk/posts/deleted', '/v1/blogs/desk/posts/future',
    '/v1/blogs/desk/posts/elsewhere', `/v1/blogs/desk/posts/${elsewhere.id}`, '/v1/blogs/desk/posts/never-written', `/v1/posts/${draft.id}`,
    `/v1/posts/${deleted.id}`, `/v1/blogs/other/posts/${posts[0]!.slug}`, '/v1/blogs/desk/posts/story-1?fields=title,url', '/v1/blogs/desk/posts/story-2?include=authors'
  ]
  const asks = [...paths.map((url) => ({ url, key: undefined })), ...paths.map((url) => ({ url, key: preview }))]
  const send = async ({ url, key }: { url: string, key: string | undefined }) => {
    const response = await app.inject({ method: 'GET', url, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
    return { url, preview: key !== undefined, status: response.statusCode, headers: Object.fromEntries(HEADERS.map((name) => [name, response.headers[name]])),
      // A problem names its request; nothing else may differ.
      body: response.body.replace(/"request_id":"[^"]+"/, '"request_id":"…"') }
  }

  const alone = []
  for (const ask of asks) alone.push(await send(ask))
  t.same(alone.filter((r) => !r.preview).map((r) => r.status), [...posts.map(() => 200), 200, 200, 200, 200, 308, 404, 404, 404, 404, 404, 404, 404, 404, 404, 200, 200])
  t.same(alone.filter((r) => r.preview).slice(16, 20).map((r) => r.status), [308, 200, 404, 200], 'a preview key sees the draft and the scheduled post')
  const lookups = async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${await newApiKey(db, ['admin'])}` } })).body
    const count = (what: string) => Number(new RegExp(`^post_lookups_total\\{counted="${what}"\\} (\\d+)$`, 'm').exec(text)?.[1])
    return { posts: count('posts'), queries: count('queries') }
  }
  const before = await lookups()
  t.equal(before.queries, before.posts, 'one at a time, each post is a query of its own')

  // Every ask three times over, all at once, in an order that mixes audiences and routes.
  const together = await Promise.all([...asks, ...asks.slice().reverse(), ...asks].map(send))
  for (const [index, response] of together.entries()) {
    const expected = alone.find((r) => r.url === response.url && r.preview === response.preview)
    t.same(response, expected, `${index}: ${response.preview ? 'preview' : 'public'} ${response.url}`)
  }
  const after = await lookups()
  const posted = after.posts - before.posts
  const queries = after.queries - before.queries
  t.ok(posted >= together.length, `every ask looked its post up (${posted} lookups for ${together.length} requests)`)
  t.ok(queries < posted / 4, `in ${queries} queries`)
})
