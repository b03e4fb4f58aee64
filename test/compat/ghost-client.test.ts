import GhostContentApiModule from '@tryghost/content-api'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { revokeApiKey } from '../../src/access/api-keys/api-keys.repository.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { htmlUrlReferences } from '../helpers/html-url-references.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Ghost's own JavaScript client, @tryghost/content-api, unchanged, against a running server:
// what a Ghost frontend does when its `url` points at one of our blogs (a Ghost site) or at the
// whole network.

type Post = Record<string, any>
/** The client's resources, as loosely as frontends call them (comma lists, limit 'all'). */
interface LooseResource { browse: (options?: Record<string, unknown>) => Promise<any>, read: (data: Record<string, unknown>, options?: Record<string, unknown>) => Promise<any> }
type LooseApi = Record<'posts' | 'authors' | 'tags' | 'pages' | 'settings', LooseResource>
// The package is CommonJS: at run time its default export is the client function itself, which
// its types (written for ES module interop) call `.default`.
const GhostContentAPI = GhostContentApiModule as unknown as typeof GhostContentApiModule.default

async function server (t: Parameters<typeof buildTestApp>[0]) {
  const testApp = await buildTestApp(t, { PUBLIC_BASE_URL: '', RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', WEBSITE_URL: 'https://news.example.com' })
  const { app } = testApp
  await seedDemo(app.db)
  const flag = await app.db.selectFrom('blogs').select('id').where('slug', '=', 'under-the-black-flag').executeTakeFirstOrThrow()
  await newPost(app.db, { blogId: flag.id, slug: 'a-draft', title: 'A draft', status: 'draft' })
  await newPost(app.db, { blogId: flag.id, slug: 'a-future-post', title: 'Not yet', status: 'scheduled', publishedAt: new Date(Date.now() + 86_400_000) })
  const { key, row } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const client = (url: string, version = 'v6.0', clientKey = key) => new GhostContentAPI({ url, key: clientKey, version }) as unknown as LooseApi
  return { ...testApp, base, key, keyId: row.id, client, site: client(`${base}/sites/under-the-black-flag`), network: client(base) }
}

// One server for the file: the checks read, and keys they revoke are their own.
const shared = await server(t)

t.test('a Ghost frontend browses, filters, paginates and reads, with the official client', async (t) => {
  const { app, site, network, base, client } = shared
  const direct = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts?limit=100' })).json().data as Array<{ id: string, slug: string, is_featured: boolean, published_at: string, tags: Array<{ slug: string }>, authors: Array<{ slug: string }> }>

  const first = await site.posts.browse({ limit: 5, include: 'tags,authors' }) as Post[] & { meta: { pagination: Record<string, unknown> } }
  t.equal(first.length, 5)
  t.same(first.meta.pagination, { page: 1, limit: 5, pages: Math.ceil(direct.length / 5), total: direct.length, next: 2, prev: null })
  t.same(first.map((post) => post.id), direct.slice(0, 5).map((post) => post.id), 'newest first, like /v1')
  const flagship = (await site.posts.read({ slug: 'is-moscow-walking-back-is-intel-sharing-reports' }, { include: 'authors,tags', formats: 'html,plaintext' })) as Post
  t.match(flagship, {
    title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    feature_image: /^https:\/\//,
    feature_image_caption: /Kerry/,
    primary_author: { slug: 'joanna-paraszczuk', name: 'Joanna Paraszczuk' },
    visibility: 'public',
    url: /^https:\/\/news\.example\.com\//
  })
  t.ok(flagship.html.startsWith('<p>'), 'html')
  t.match(flagship.plaintext, /^The Russian Foreign Ministry/, 'plaintext')
  t.type(flagship.reading_time, 'number')
  t.same(await site.posts.read({ id: flagship.id }, { include: 'authors,tags', formats: 'html,plaintext' }), flagship, 'by id and by slug: the same post')

  // Paginate to the end: every post once, no draft, no future post.
  const seen: string[] = []
  for (let page = 1; ; page++) {
    const batch = await site.posts.browse({ limit: 7, page, fields: 'id,slug' }) as Post[] & { meta: { pagination: { next: number | null, pages: number } } }
    seen.push(...batch.map((post) => post.slug))
    t.same(Object.keys(batch[0] ?? {}).sort(), ['id', 'slug'], 'fields=')
    if (batch.meta.pagination.next === null) { t.equal(page, batch.meta.pagination.pages); break }
  }
  t.same(seen, direct.map((post) => post.slug), 'every public post once, in order')
  t.notOk(seen.includes('a-draft') || seen.includes('a-future-post'), 'never a draft or a future post')
  await t.rejects(site.posts.read({ slug: 'a-draft' }), { name: 'NotFoundError' }, 'a draft is not found by slug either')

  // NQL filters, checked against what /v1 says.
  const slugsOf = async (filter: string, extra: Record<string, unknown> = {}) => (await site.posts.browse({ filter, limit: 'all', fields: 'slug', ...extra }) as Post[]).map((post) => post.slug)
  const expect = (keep: (post: typeof direct[number]) => boolean) => direct.filter(keep).map((post) => post.slug)
  t.same(await slugsOf('tag:syria'), expect((post) => post.tags.some((tag) => tag.slug === 'syria')), 'tag:')
  t.same(await slugsOf('tags:[syria,russia]+featured:true'), expect((post) => post.is_featured && post.tags.some((tag) => ['syria', 'russia'].includes(tag.slug))), 'tags:[a,b]+featured:')
  t.same(await slugsOf('primary_tag:islamic-state'), expect((post) => post.tags[0]?.slug === 'islamic-state'), 'primary_tag:')
  t.same(await slugsOf('author:joanna-paraszczuk+tag:-syria'), expect((post) => post.authors.some((a) => a.slug === 'joanna-paraszczuk') && !post.tags.some((tag) => tag.slug === 'syria')), 'author:+tag:-')
  const cut = direct[10]?.published_at as string
  t.same(await slugsOf(`published_at:<'${cut}'`), expect((post) => post.published_at < cut), 'published_at:<')
  t.same(await slugsOf(`published_at:>='${cut}'`), expect((post) => post.published_at >= cut), 'published_at:>=')
  t.same(await slugsOf(`(tag:syria,tag:iraq)+slug:-${direct[0]?.slug}`), expect((post) => post.slug !== direct[0]?.slug && post.tags.some((tag) => ['syria', 'iraq'].includes(tag.slug))), 'parentheses, or, negation')
  // Redundant parentheses, as filter builders write them: nql-lang leaves its group mark on all
  // but the outermost (a field named "yg", a 400 until 2026-12).
  const syria = expect((post) => post.tags.some((tag) => tag.slug === 'syria'))
  t.same(await slugsOf('((tag:syria))'), syria, '((a))')
  t.same(await slugsOf(`${'('.repeat(32)}tag:syria${')'.repeat(32)}`), syria, 'a group 32 deep')
  // Deeper is refused before parsing (its time grows faster than the depth: 50 ms at 1,990).
  await t.rejects(slugsOf(`${'('.repeat(33)}tag:syria${')'.repeat(33)}`), { name: 'BadRequestError', message: /nests too deeply/ }, '33 deep: 400')
  await t.rejects(slugsOf('('.repeat(3990)), { name: 'BadRequestError', message: /nests too deeply/ }, 'nothing but parentheses: 400')
  t.same(await slugsOf(`title:-'${'('.repeat(40)}'+((tag:syria))`), syria, 'parentheses in a quoted value do not count')
  t.same(await slugsOf('featured:true+((tag:syria,tag:iraq))'), expect((post) => post.is_featured && post.tags.some((tag) => ['syria', 'iraq'].includes(tag.slug))), 'a+((b,c))')
  t.same(await slugsOf('((tag:-syria+((featured:true))))'), expect((post) => post.is_featured && !post.tags.some((tag) => tag.slug === 'syria')), '((a+((b))))')
  t.same((await site.tags.browse({ filter: '((slug:syria))', limit: 'all' }) as Post[]).map((tag) => tag.slug), ['syria'], 'tags: ((a))')
  // Each tag or author condition is a join PostgreSQL plans in time that grows with their square
  // (455 AND-ed ones fit in a filter, and kept a request going past 240 s): ten at most, lists any length.
  const notTags = (n: number) => Array.from({ length: n }, (_, i) => `tag:-no-such-tag-${i}`)
  t.same(await slugsOf(['tag:syria', ...notTags(9)].join('+')), syria, 'ten tag conditions')
  await t.rejects(slugsOf(['tag:syria', ...notTags(10)].join('+')), { name: 'BadRequestError', message: /11 tag and author conditions; at most 10/ }, 'eleven: 400')
  await t.rejects(slugsOf(['author:joanna-paraszczuk', ...notTags(10)].join(',')), { name: 'BadRequestError' }, 'eleven in an OR: 400')
  t.same(await slugsOf(`tag:syria+tag:-[${Array.from({ length: 300 }, (_, i) => `nope-${i}`).join(',')}]`), syria, 'a list of 300 is one condition')
  t.same(await slugsOf(`id:${direct[2]?.id}`), [direct[2]?.slug], 'id:')
  t.same(await slugsOf(`id:${direct[2]?.id.toUpperCase()}`), [direct[2]?.slug], 'id: in capitals')
  t.same(await slugsOf(`id:[${direct[2]?.id},${direct[5]?.id},not-an-id]`), [direct[2]?.slug, direct[5]?.slug], 'id:[a,b,c]: a value that is no id matches nothing')
  t.same(await slugsOf(`id:-${direct[2]?.id}`), expect((post) => post.id !== direct[2]?.id), 'id:-')
  t.same(await slugsOf(`id:-[${direct[2]?.id},not-an-id]`), expect((post) => post.id !== direct[2]?.id), 'id:-[a,b]')
  t.same(await slugsOf('id:not-an-id'), [], 'id: with a value that is no id: nothing')
  t.same(await slugsOf('id:-not-an-id'), direct.map((post) => post.slug), 'id:- with a value that is no id: everything')
  t.same(await slugsOf('visibility:public'), direct.map((post) => post.slug), 'visibility:public')
  t.same(await slugsOf('featured:true', { order: 'published_at asc' }), expect((post) => post.is_featured).reverse(), 'order=')

  // Authors and tags with counts, site settings, pages.
  const authors = await site.authors.browse({ include: 'count.posts', limit: 'all' }) as Post[]
  const joanna = authors.find((author) => author.slug === 'joanna-paraszczuk')
  t.equal(joanna?.count.posts, direct.filter((post) => post.authors.some((a) => a.slug === 'joanna-paraszczuk')).length, 'count.posts counts this site\'s... and every public post')
  const tag = await site.tags.read({ slug: 'syria' }, { include: 'count.posts' }) as Post
  t.match(tag, { slug: 'syria', name: 'Syria', count: { posts: (await network.posts.browse({ filter: 'tag:syria', limit: 'all' }) as Post[]).length } })
  t.same(await site.tags.read({ id: tag.id }, { include: 'count.posts' }), tag)
  const settings = await site.settings.browse() as Post
  t.match(settings, { title: 'Under The Black Flag', description: /Islamic State/, lang: 'en', url: 'https://news.example.com' })
  t.same(await site.pages.browse() as Post[], [], 'no pages, as on a Ghost site without pages')
  t.same(await site.pages.browse({ filter: 'tag:syria+featured:true' }) as Post[], [], 'a filter posts take: still no pages')
  await t.rejects(site.pages.browse({ filter: 'colour:red' }), { name: 'BadRequestError', message: /Cannot filter on "colour"/ }, 'a field posts do not take: the 400 posts give')

  // The whole network: every blog's posts.
  const all = await network.posts.browse({ limit: 'all' }) as Post[] & { meta: { pagination: { total: number } } }
  t.equal(all.meta.pagination.total, (await app.inject({ url: '/v1/posts?count=estimate&limit=1' })).json().meta.total)
  t.ok(all.length <= 100, 'limit=all is capped at 100')
  const v5 = await (client(`${base}/sites/under-the-black-flag`, 'v5.0')).posts.browse({ limit: 2 }) as Post[]
  t.same(v5.map((post) => post.id), direct.slice(0, 2).map((post) => post.id), 'a Ghost 5 client (Accept-Version: v5.0) too')
})

t.test('bad keys, bad filters and unknown resources give Ghost\'s errors, never a 500', async (t) => {
  const { app, site, client, base } = shared
  const { key, row: { id: keyId } } = await createApiKey(app.db, 'to be revoked', ['content:read'], 'ghost')
  await t.rejects(client(`${base}/sites/under-the-black-flag`, 'v6.0', 'aaaaaaaaaaaaaaaaaaaaaaaaaa').posts.browse(), { name: 'UnauthorizedError', message: 'Unknown Content API Key' })
  await t.rejects(site.posts.browse({ filter: 'tag:[unclosed' }), { name: 'BadRequestError', message: /Error parsing filter/ })
  await t.rejects(site.posts.browse({ filter: 'secret:1' }), { name: 'BadRequestError', message: /Cannot filter on "secret"/ })
  await t.rejects(site.posts.browse({ filter: 'published_at:>\'yesterday\'' }), { name: 'BadRequestError' })
  await t.rejects(site.posts.browse({ order: 'password desc' }), { name: 'BadRequestError' })
  await t.rejects(site.posts.browse({ include: 'secrets' }), { name: 'BadRequestError' })
  await t.rejects(site.posts.read({ id: 'nope' }), { name: 'NotFoundError' })
  await t.rejects(client(`${base}/sites/no-such-blog`).posts.browse(), { name: 'NotFoundError' })

  const raw = await app.inject({ url: '/ghost/api/content/posts/' })
  t.equal(raw.statusCode, 403, 'no key: 403, as Ghost')
  t.match(raw.json(), { errors: [{ type: 'NoPermissionError', message: /Authorization failed/ }] })
  // A bearer key for /v1 is no Ghost key, and a revoked Ghost key stops at once, cached pages included.
  const bearer = await newApiKey(app.db, ['content:read'])
  t.equal((await app.inject({ url: `/ghost/api/content/posts/?key=${bearer}` })).statusCode, 401)
  t.equal((await app.inject({ url: `/ghost/api/content/settings/?key=${key}` })).statusCode, 200)
  t.equal((await app.inject({ url: `/ghost/api/content/settings/?key=${key}` })).statusCode, 200, 'a second time, from the response cache')
  await revokeApiKey(app.db, keyId)
  const revoked = await app.inject({ url: `/ghost/api/content/settings/?key=${key}` })
  t.equal(revoked.statusCode, 401, 'revoked: no cached page')
  t.match(revoked.json(), { errors: [{ type: 'UnauthorizedError' }] })
})

t.test('a Ghost key reads public content only, and is never logged', async (t) => {
  const { app, logs, key } = shared
  await app.inject({ url: `/sites/under-the-black-flag/ghost/api/content/posts/?key=${key}&limit=1` })
  t.notOk(JSON.stringify(logs).includes(key), 'the key is not in any log line')
  const writer = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: { blog: 'under-the-black-flag', title: 'x' } })
  t.equal(writer.statusCode, 401, 'not a bearer key for anything else')
  const blog = await newBlog(app.db, { slug: 'other' })
  void blog
  const bad = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}`, 'content-type': 'application/json' }, payload: { name: 'x', scopes: ['content:write'], format: 'ghost' } })
  t.equal(bad.statusCode, 422, 'a Ghost key with more than content:read is refused')
  const good = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}`, 'content-type': 'application/json' }, payload: { name: 'x', scopes: ['content:read'], format: 'ghost' } })
  t.equal(good.statusCode, 201)
  t.match(good.json().data.key, /^[0-9a-f]{26}$/, 'in the format the official client accepts')
})

t.test('Ghost resources this API does not have answer Ghost\'s 404', async (t) => {
  const { site } = shared
  for (const resource of ['tiers', 'newsletters'] as const) {
    await t.rejects((site as unknown as Record<string, { browse: () => Promise<unknown> }>)[resource]!.browse(), { name: 'NotFoundError' }, resource)
  }
})

t.test('html comes with its links and images absolute, as Ghost sends it', async (t) => {
  const { app, site } = shared
  const flag = await app.db.selectFrom('blogs').select('id').where('slug', '=', 'under-the-black-flag').executeTakeFirstOrThrow()
  await newPost(app.db, { blogId: flag.id, slug: 'with-relative-links', title: 'Relative links', bodyText: 'See <a href="/about">about</a>, <a href="#notes">the notes</a> and <img src="images/map.jpg" alt="A map">.' })
  const post = await site.posts.read({ slug: 'with-relative-links' }, { formats: 'html' }) as Post
  t.match(post.url, /^https:\/\/news\.example\.com\//)
  t.same(htmlUrlReferences(post.html).map((reference) => reference.value), ['/about', '#notes', 'images/map.jpg'].map((ref) => new URL(ref, post.url).href),
    'resolved against the post\'s address (read back with parse5)')
  t.match((await app.inject({ url: '/v1/blogs/under-the-black-flag/posts/with-relative-links' })).json().data.body_html, 'href="/about"', 'the JSON API keeps them as written')
})
