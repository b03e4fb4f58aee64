import t from 'tap'
import { sql } from 'kysely'
import { buildTestApp } from '../../helpers/test-app.ts'
import { newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { EXACT_COUNT_LIMIT, EXACT_SEARCH_COUNT_LIMIT } from '../../../src/content/posts/posts.schemas.ts'
import { nextSecond } from '../../helpers/clock.ts'

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000)

/** Follows links.next from `url` to the end; returns every item and the number of pages. */
async function walk (app: Awaited<ReturnType<typeof buildTestApp>>['app'], url: string, between?: () => Promise<void>) {
  const items: any[] = []
  let next: string | null = url
  let pages = 0
  while (next !== null) {
    const res: { statusCode: number, body: string, json (): any } = await app.inject({ url: next })
    if (res.statusCode !== 200) throw new Error(`${next} answered ${res.statusCode}: ${res.body}`)
    const body: { data: any[], links: { next: string | null } } = res.json()
    items.push(...body.data)
    next = body.links.next === null ? null : body.links.next.replace('http://api.test', '')
    pages++
    if (between !== undefined) await between()
  }
  return { items, pages }
}

const slugs = (items: Array<{ slug: string }>) => items.map((item) => item.slug)

t.test('drafts, future, archived and deleted posts never appear anywhere public', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'b' })
  const author = await newAuthor(app.db, { slug: 'writer' })
  const tag = await newTag(app.db, { slug: 'topic' })
  const common = { blogId: blog.id, authorIds: [author.id], tagIds: [tag.id] }
  await newPost(app.db, { ...common, slug: 'visible' })
  await newPost(app.db, { ...common, slug: 'scheduled-and-due', status: 'scheduled', publishedAt: minutesAgo(1) })
  const hidden = [
    await newPost(app.db, { ...common, slug: 'draft', status: 'draft' }),
    await newPost(app.db, { ...common, slug: 'future', status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000) }),
    await newPost(app.db, { ...common, slug: 'future-published', status: 'published', publishedAt: new Date(Date.now() + 3_600_000) }),
    await newPost(app.db, { ...common, slug: 'archived', status: 'archived', publishedAt: minutesAgo(5) }),
    await newPost(app.db, { ...common, slug: 'deleted', deletedAt: new Date() })
  ]
  for (const url of ['/v1/posts', '/v1/blogs/b/posts', '/v1/authors/writer/posts', '/v1/tags/topic/posts', '/v1/posts?q=body', '/v1/posts?sort=relevance&q=body']) {
    const res = await app.inject({ url })
    t.same(slugs(res.json().data).sort(), ['scheduled-and-due', 'visible'], url)
  }
  for (const post of hidden) {
    t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 404, `${post.slug} by id`)
    t.equal((await app.inject({ url: `/v1/blogs/b/posts/${post.slug}` })).statusCode, 404, `${post.slug} by slug`)
    t.same((await app.inject({ url: `/v1/posts?ids=${post.id}` })).json().data, [], `${post.slug} by ids filter`)
  }
  const writer = (await app.inject({ url: '/v1/authors/writer' })).json().data
  t.ok(Date.parse(writer.latest_post_at) < Date.now(), 'latest_post_at ignores the future post')
})

t.test('every filter alone and combined', async (t) => {
  const { app } = await buildTestApp(t)
  const [news, sport] = [await newBlog(app.db, { slug: 'news' }), await newBlog(app.db, { slug: 'sport' })]
  const [ann, bob, cy] = [await newAuthor(app.db, { slug: 'ann' }), await newAuthor(app.db, { slug: 'bob' }), await newAuthor(app.db, { slug: 'cy' })]
  const [war, oil, art] = [await newTag(app.db, { slug: 'war' }), await newTag(app.db, { slug: 'oil' }), await newTag(app.db, { slug: 'art' })]
  const at = (day: number) => new Date(Date.UTC(2024, 0, day, 12))
  await newPost(app.db, { blogId: news.id, slug: 'p1', publishedAt: at(1), authorIds: [ann.id], tagIds: [war.id], bodyText: 'Kerry met Lavrov in Paris' })
  await newPost(app.db, { blogId: news.id, slug: 'p2', publishedAt: at(2), authorIds: [bob.id, ann.id], tagIds: [oil.id], isBreaking: true, bodyText: 'Pipeline talks stall' })
  await newPost(app.db, { blogId: sport.id, slug: 'p3', publishedAt: at(3), authorIds: [cy.id], tagIds: [war.id, oil.id], language: 'de', bodyText: 'Lavrov watches football' })
  await newPost(app.db, { blogId: sport.id, slug: 'p4', publishedAt: at(4), authorIds: [bob.id], tagIds: [art.id], isFeatured: true, bodyText: 'Paris art fair opens' })
  const p5 = await newPost(app.db, { blogId: news.id, slug: 'p5', publishedAt: at(5), authorIds: [cy.id, bob.id], tagIds: [], isBreaking: true, isFeatured: true, language: 'en-GB', bodyText: 'Kerry in Paris again' })

  const cases: Array<[string, string[]]> = [
    ['', ['p5', 'p4', 'p3', 'p2', 'p1']],
    ['blog=news', ['p5', 'p2', 'p1']],
    [`blog=${sport.id}`, ['p4', 'p3']],
    ['blog=news,sport', ['p5', 'p4', 'p3', 'p2', 'p1']],
    ['blog=news&blog=no-such-blog', ['p5', 'p2', 'p1']],
    ['blog=no-such-blog', []],
    ['author=ann', ['p2', 'p1']],
    ['author=bob', ['p5', 'p4', 'p2'], ],
    ['author=ann,cy', ['p5', 'p3', 'p2', 'p1']],
    [`author=${cy.id}`, ['p5', 'p3']],
    ['tag=war', ['p3', 'p1']],
    ['tag=war,art', ['p4', 'p3', 'p1']],
    ['tag=war&tag=oil', ['p3', 'p2', 'p1']],
    ['language=de', ['p3']],
    ['language=en-GB', ['p5']],
    ['is_breaking=true', ['p5', 'p2']],
    ['is_breaking=false', ['p4', 'p3', 'p1']],
    ['is_featured=true', ['p5', 'p4']],
    ['published_after=2024-01-03T12:00:00Z', ['p5', 'p4']],
    ['published_before=2024-01-03', ['p2', 'p1']],
    ['published_after=2024-01-01T12:00:00Z&published_before=2024-01-04T12:00:00Z', ['p3', 'p2']],
    ['q=Lavrov', ['p3', 'p1']],
    ['q="Kerry met"', ['p1']],
    ['q=Paris -Kerry', ['p4']],
    ['q=pipeline or football', ['p3', 'p2']],
    [`ids=${p5.id}`, ['p5']],
    // Combined: every filter given must hold.
    ['blog=news&author=bob', ['p5', 'p2']],
    ['blog=news&tag=war', ['p1']],
    ['author=bob&tag=oil', ['p2']],
    ['author=bob&is_featured=true&language=en-GB', ['p5']],
    ['tag=war,oil&author=cy&q=Lavrov', ['p3']],
    ['blog=sport&is_breaking=true', []],
    ['q=Paris&published_after=2024-01-02', ['p5', 'p4']]
  ]
  for (const [query, expected] of cases) {
    const res = await app.inject({ url: `/v1/posts?${query}` })
    t.equal(res.statusCode, 200, query)
    t.same(slugs(res.json().data), expected, query || '(no filter)')
  }
  // The scoped routes take the same filters.
  t.same(slugs((await app.inject({ url: '/v1/blogs/news/posts?author=bob' })).json().data), ['p5', 'p2'])
  t.same(slugs((await app.inject({ url: '/v1/authors/bob/posts?tag=oil' })).json().data), ['p2'])
  t.same(slugs((await app.inject({ url: '/v1/tags/war/posts?blog=sport' })).json().data), ['p3'])
  t.same(slugs((await app.inject({ url: '/v1/authors/ann/posts?author=bob' })).json().data), [], 'author in the path and filter: both must hold')
})

t.test('sorts: newest first, oldest first, relevance with q', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db)
  const at = (day: number) => new Date(Date.UTC(2023, 5, day))
  await newPost(app.db, { blogId: blog.id, slug: 'weak', publishedAt: at(3), title: 'Market report', bodyText: 'A note on the harbour.' })
  await newPost(app.db, { blogId: blog.id, slug: 'strong', publishedAt: at(1), title: 'Harbour fire: harbour closed', bodyText: 'The harbour burned; harbour workers fled the harbour.' })
  await newPost(app.db, { blogId: blog.id, slug: 'none', publishedAt: at(2), title: 'Weather', bodyText: 'Sunny.' })
  t.same(slugs((await app.inject({ url: '/v1/posts' })).json().data), ['weak', 'none', 'strong'])
  t.same(slugs((await app.inject({ url: '/v1/posts?sort=-published_at' })).json().data), ['weak', 'none', 'strong'])
  t.same(slugs((await app.inject({ url: '/v1/posts?sort=published_at' })).json().data), ['strong', 'none', 'weak'])
  t.same(slugs((await app.inject({ url: '/v1/posts?sort=relevance&q=harbour' })).json().data), ['strong', 'weak'])
  t.same(slugs((await app.inject({ url: '/v1/posts?q=harbour' })).json().data), ['weak', 'strong'], 'q alone keeps date order')
})

t.test('paging walks every post exactly once, in order, while new posts are published', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'big' })
  const author = await newAuthor(app.db, { slug: 'prolific' })
  const tag = await newTag(app.db, { slug: 'everything' })
  const base = Date.UTC(2020, 0, 1)
  // 260 posts; every tenth shares its publish time with the one before, so the id breaks ties.
  const expected: string[] = []
  for (let i = 0; i < 260; i++) {
    const publishedAt = new Date(base + (i - (i % 10 === 9 ? 1 : 0)) * 3_600_000)
    const post = await newPost(app.db, {
      blogId: blog.id, slug: `p-${String(i).padStart(3, '0')}`, publishedAt, authorIds: [author.id], tagIds: [tag.id],
      bodyText: `searchable item number ${i}`
    })
    expected.push(post.slug)
  }
  const newestFirst = (slugList: string[]) => [...slugList].reverse()
  let inserted = 0
  const publishMore = async () => {
    await newPost(app.db, { blogId: blog.id, slug: `late-${inserted++}`, publishedAt: new Date(), authorIds: [author.id], tagIds: [tag.id], bodyText: 'searchable late' })
  }

  // Ties in publish time are ordered by id, so compare against the database's own tie order.
  const ids = new Map((await app.db.selectFrom('posts').select(['slug', 'id', 'published_at']).execute()).map((r) => [r.slug, r]))
  const order = (slugList: string[], direction: 1 | -1) => [...slugList].sort((a, b) => {
    const ra = ids.get(a)!
    const rb = ids.get(b)!
    return direction * ((ra.published_at!.getTime() - rb.published_at!.getTime()) || (ra.id < rb.id ? -1 : 1))
  })
  t.same(order(expected, -1).slice(0, 3), newestFirst(expected).slice(0, 3))

  for (const url of ['/v1/posts?limit=25', '/v1/blogs/big/posts?limit=33', '/v1/authors/prolific/posts?limit=40', '/v1/tags/everything/posts?limit=100']) {
    const { items, pages } = await walk(app, url, publishMore)
    const seen = slugs(items).filter((slug) => slug.startsWith('p-'))
    t.same(seen, order(expected, -1), `${url}: all ${expected.length}, each once, newest first`)
    t.equal(new Set(slugs(items)).size, items.length, `${url}: no duplicates`)
    t.ok(pages > 1, `${url}: ${pages} pages`)
  }
  const oldest = await walk(app, '/v1/posts?limit=50&sort=published_at')
  t.same(slugs(oldest.items).filter((slug) => slug.startsWith('p-')), order(expected, 1), 'oldest first walk')
  const relevant = await walk(app, '/v1/posts?limit=30&sort=relevance&q=searchable%20item')
  t.same(slugs(relevant.items).sort(), [...expected].sort(), 'relevance walk: every match exactly once')
})

t.test('fields= and include=', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'fx', title: 'Fx' })
  const [a1, a2] = [await newAuthor(app.db, { slug: 'first', name: 'First' }), await newAuthor(app.db, { slug: 'second', name: 'Second' })]
  const tag = await newTag(app.db, { slug: 'tg', name: 'Tg' })
  await newPost(app.db, { blogId: blog.id, slug: 'one', authorIds: [a2.id, a1.id], tagIds: [tag.id], bodyText: 'full body here' })

  const plain = (await app.inject({ url: '/v1/posts' })).json()
  const item = plain.data[0]
  t.notOk('body_html' in item, 'list items carry no body by default')
  t.same(item.authors.map((a: { slug: string }) => a.slug), ['second', 'first'], 'authors in byline order')
  t.same(item.blog, { id: blog.id, slug: 'fx', title: 'Fx' })
  t.equal(plain.included, undefined)

  const sparse = (await app.inject({ url: '/v1/posts?fields=title,url,body_html' })).json().data[0]
  t.same(Object.keys(sparse).sort(), ['body_html', 'id', 'title', 'url'])
  t.equal(sparse.body_html, '<p>full body here</p>')
  t.equal(sparse.url, 'http://api.test/v1/blogs/fx/posts/one')

  const withAll = (await app.inject({ url: '/v1/posts?include=authors,tags,blog' })).json()
  t.same(withAll.included.authors.map((a: { slug: string }) => a.slug).sort(), ['first', 'second'])
  t.match(withAll.included.authors[0], { bio: String, links: Array, latest_post_at: String })
  t.same(withAll.included.tags.map((x: { slug: string }) => x.slug), ['tg'])
  t.same(withAll.included.blogs.map((x: { slug: string }) => x.slug), ['fx'])
  // The same response is the same bytes (and ETag) whichever related query answers first.
  for (const url of ['/v1/posts?include=tags,authors,blog', '/v1/blogs/fx/posts/one?include=tags,blog,authors']) {
    const bodies = new Set((await Promise.all(Array.from({ length: 8 }, () => app.inject({ url })))).map((res) => res.body))
    t.equal(bodies.size, 1, `${url}: one body over concurrent requests`)
    t.same(Object.keys(JSON.parse([...bodies][0] as string).included), ['blogs', 'authors', 'tags'], 'included in the schema\'s order')
  }

  const single = (await app.inject({ url: '/v1/blogs/fx/posts/one?include=authors' })).json()
  t.equal(single.data.body_html, '<p>full body here</p>', 'a single post carries the full body')
  t.equal(single.data.reading_time_minutes, 1)
  t.equal(single.included.authors.length, 2)

  for (const [query, path, text] of <Array<[string, string, string]>>[
    ['fields=title,nope', 'query.fields', 'nope'],
    ['include=comments', 'query.include', 'comments'],
    ['fields=', 'query.fields', ''],
    ['include=authors,authors,tags,blog', 'query.include', '']
  ]) {
    const res = await app.inject({ url: `/v1/posts?${query}` })
    t.equal(res.statusCode, 400, query)
    t.ok(res.json().errors.some((e: { path: string, message: string }) => e.path === path && e.message.includes(text)), `${query} names ${path}`)
  }
})

t.test('a renamed post or blog answers 308 with the canonical URL', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'current-blog' })
  const post = await newPost(app.db, { blogId: blog.id, slug: 'current-post' })
  await app.db.insertInto('slug_redirects').values([
    { entity_type: 'post', scope_id: blog.id, old_slug: 'old-post', target_id: post.id },
    { entity_type: 'blog', scope_id: null, old_slug: 'old-blog', target_id: blog.id }
  ]).execute()

  const renamedPost = await app.inject({ url: '/v1/blogs/current-blog/posts/old-post?include=authors' })
  t.equal(renamedPost.statusCode, 308)
  t.equal(renamedPost.headers.location, '/v1/blogs/current-blog/posts/current-post?include=authors')
  const renamedBlog = await app.inject({ url: '/v1/blogs/old-blog/posts/current-post' })
  t.equal(renamedBlog.statusCode, 308)
  t.equal(renamedBlog.headers.location, '/v1/blogs/current-blog/posts/current-post')
  t.equal((await app.inject({ url: '/v1/blogs/old-blog' })).headers.location, '/v1/blogs/current-blog')
  t.equal((await app.inject({ url: '/v1/blogs/old-blog/posts?limit=5' })).headers.location, '/v1/blogs/current-blog/posts?limit=5')
  t.equal((await app.inject({ url: '/v1/blogs/current-blog/posts/current-post' })).statusCode, 200)
  const byId = await app.inject({ url: `/v1/blogs/current-blog/posts/${post.id}` })
  t.equal(byId.statusCode, 308, 'a post addressed by id in the blog path goes to its slug URL')
  t.equal(byId.headers.location, '/v1/blogs/current-blog/posts/current-post')
  const otherBlog = await newBlog(app.db, { slug: 'other-blog' })
  t.equal((await app.inject({ url: `/v1/blogs/${otherBlog.slug}/posts/${post.id}` })).statusCode, 404, 'not under another blog')

  // A redirect to a post the public cannot see is a 404, not a leak.
  await app.db.updateTable('posts').set({ status: 'draft', published_at: null }).where('id', '=', post.id).execute()
  t.equal((await app.inject({ url: '/v1/blogs/current-blog/posts/old-post' })).statusCode, 404)
})

t.test('conditional GET: ETag and Last-Modified give 304; a change gives 200 again', async (t) => {
  // The change below is made straight in the table, behind the change log that the response
  // cache follows; this test is about the routes' own validators.
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const blog = await newBlog(app.db, { slug: 'cg' })
  const post = await newPost(app.db, { blogId: blog.id, slug: 'cached' })
  for (const url of ['/v1/posts', '/v1/posts/' + post.id, '/v1/blogs/cg/posts/cached', '/v1/blogs', '/v1/blogs/cg', '/v1/authors', '/v1/tags']) {
    const first = await app.inject({ url })
    t.equal(first.statusCode, 200, url)
    t.match(first.headers.etag, /^"(v[0-9]+-)?[A-Za-z0-9_-]{27}"$/, `${url} has a strong ETag`)
    t.equal(first.headers['cache-control'], 'public, max-age=60, stale-while-revalidate=300')
    t.ok(first.headers['surrogate-key'], `${url} has Surrogate-Key`)
    const again = await app.inject({ url, headers: { 'if-none-match': first.headers.etag as string } })
    t.equal(again.statusCode, 304, `${url} If-None-Match`)
    t.equal(again.body, '')
    t.equal(again.headers.etag, first.headers.etag)
    t.equal((await app.inject({ url, headers: { 'if-none-match': '"other", W/' + first.headers.etag } })).statusCode, 304, 'weak comparison in a list')
    t.equal((await app.inject({ url, headers: { 'if-none-match': '"stale"' } })).statusCode, 200)
  }

  await nextSecond()
  const single = await app.inject({ url: `/v1/posts/${post.id}` })
  const lastModified = single.headers['last-modified'] as string
  t.equal(lastModified, new Date(Math.floor(post.updated_at.getTime() / 1000) * 1000).toUTCString())
  t.match(single.headers['surrogate-key'], `post:${post.id} blog:${blog.id}`)
  t.equal((await app.inject({ url: `/v1/posts/${post.id}`, headers: { 'if-modified-since': lastModified } })).statusCode, 304)
  t.equal((await app.inject({ url: `/v1/posts/${post.id}`, headers: { 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' } })).statusCode, 200)
  t.equal((await app.inject({ url: `/v1/posts/${post.id}`, headers: { 'if-modified-since': 'garbage' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/v1/posts', headers: { 'if-modified-since': new Date().toUTCString() } })).statusCode, 200, 'lists have no Last-Modified to compare')

  await app.db.updateTable('posts').set({ title: 'Changed', updated_at: new Date(Date.now() + 5_000) }).where('id', '=', post.id).execute()
  const changed = await app.inject({ url: `/v1/posts/${post.id}`, headers: { 'if-none-match': single.headers.etag as string } })
  t.equal(changed.statusCode, 200)
  t.equal(changed.json().data.title, 'Changed')
  const error = await app.inject({ url: '/v1/posts/00000000-0000-7000-8000-000000000000' })
  t.equal(error.headers['cache-control'], 'no-store', 'errors are not cached publicly')
  t.equal(error.headers.etag, undefined)
})

t.test('bad input for every parameter is a 400 problem naming it', async (t) => {
  const { app } = await buildTestApp(t)
  await newPost(app.db, { blogId: (await newBlog(app.db)).id })
  const cases: Array<[string, string]> = [
    ['limit=0', 'query.limit'], ['limit=101', 'query.limit'], ['limit=x', 'query.limit'],
    ['cursor=%%%', 'query.cursor'], ['cursor=' + Buffer.from('[1,"blogs","x"]').toString('base64url'), 'query.cursor'],
    ['cursor=' + Buffer.from('[1,"posts","newest","not a date","x",null]').toString('base64url'), 'query.cursor'],
    ['published_after=yesterday', 'query.published_after'], ['published_before=2024-13-45', 'query.published_before'],
    ['published_after=2024-01-01T25:00:00Z', 'query.published_after'],
    ['is_breaking=yes', 'query.is_breaking'], ['is_featured=1', 'query.is_featured'],
    ['language=English', 'query.language'], ['ids=not-a-uuid', 'query.ids'],
    ['ids=' + Array.from({ length: 101 }, () => '01900000-0000-7000-8000-000000000000').join(','), 'query.ids'],
    ['blog=' + Array.from({ length: 21 }, (_, i) => `b${i}`).join(','), 'query.blog'],
    ['q=' + 'x'.repeat(201), 'query.q'], ['q=', 'query.q'], ['q=a%00b', 'query.q'], ['q=%07', 'query.q'],
    ['sort=newest', 'query.sort'], ['sort=relevance', 'query.sort'],
    ['count=exact', 'query.count'], ['fields=secret', 'query.fields'], ['include=everything', 'query.include'],
    ['unknown=1', 'query.unknown'], ['author=' + 'a'.repeat(5000), 'query.author']
  ]
  for (const [query, path] of cases) {
    for (const base of ['/v1/posts', '/v1/tags/nope/posts'.replace('nope', 'x')]) {
      const res = await app.inject({ url: `${base}?${query}` })
      if (base !== '/v1/posts' && res.statusCode === 404) continue // the tag does not exist: 404 first is fine
      t.equal(res.statusCode, 400, `${base}?${query.slice(0, 60)}`)
      t.equal(res.headers['content-type'], 'application/problem+json')
      t.ok(res.json().errors?.some((e: { path: string }) => e.path === path || e.path.startsWith(`${path}.`)), `${query.slice(0, 40)} names ${path}: ${res.body.slice(0, 300)}`)
    }
  }
  // An offset's + written into the URL unencoded arrives as a space: the problem says so.
  for (const query of ['published_after=2024-01-01T00:00:00+05:30', 'published_before=2024-01-01T00:00:00.123+05:30']) {
    const res = await app.inject({ url: `/v1/posts?${query}` })
    t.equal(res.statusCode, 400, query)
    t.match(res.json().errors[0].message, /unencoded \+: send \+ as %2B/, `${query}: ${res.body.slice(0, 300)}`)
    t.equal((await app.inject({ url: `/v1/posts?${query.replace('+', '%2B')}` })).statusCode, 200, `${query}, encoded`)
  }
  t.notMatch((await app.inject({ url: '/v1/posts?published_after=yesterday' })).json().errors[0].message, /%2B/, 'only then')
  // A cursor from one sort order cannot be used with another.
  const page = (await app.inject({ url: '/v1/posts?limit=1&sort=published_at' })).json()
  await newPost(app.db, { blogId: (await newBlog(app.db)).id })
  const twoPages = (await app.inject({ url: '/v1/posts?limit=1' })).json()
  t.type(twoPages.meta.next_cursor, 'string')
  const mixed = await app.inject({ url: `/v1/posts?sort=published_at&cursor=${twoPages.meta.next_cursor}` })
  t.equal(mixed.statusCode, 400)
  t.equal(page.data.length, 1)
  for (const url of ['/v1/posts/not-a-uuid', '/v1/posts/01900000-0000-7000-8000-000000000000', '/v1/blogs/nope/posts/x', '/v1/authors/nope/posts', '/v1/tags/nope/posts']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.headers['content-type'], 'application/problem+json')
  }
})

t.test('count=estimate adds the planner\'s estimate', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db)
  for (let i = 0; i < 5; i++) await newPost(app.db, { blogId: blog.id })
  const body = (await app.inject({ url: '/v1/posts?count=estimate&limit=2' })).json()
  t.type(body.meta.estimated_total, 'number')
  t.ok(body.meta.estimated_total >= 0)
  t.equal((await app.inject({ url: '/v1/posts' })).json().meta.estimated_total, undefined, 'no count unless asked')
})

t.test('count=estimate with q counts up to the search limit, not the list limit: each match counted is a row read and its vector tested', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db)
  const common = EXACT_SEARCH_COUNT_LIMIT + 5
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, body_text, language, status, published_at)
    SELECT gen_random_uuid(), ${blog.id}, 'post-' || i, 'Post ' || i,
           CASE WHEN i <= ${common} THEN 'lighthouse keeper' ELSE 'seldom lighthouse' END,
           'en', 'published', timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => i)
    FROM generate_series(1, ${common + 3}) i`.execute(app.db)
  const meta = async (query: string) => (await app.inject({ url: `/v1/posts?limit=1&count=estimate${query}` })).json().meta
  const all = await meta('')
  t.same([all.total, all.total_exact], [common + 3, true], 'without q: counted, well under the list limit')
  const many = await meta('&q=lighthouse')
  t.equal(many.total_exact, false, `more than ${EXACT_SEARCH_COUNT_LIMIT} matches: not counted to the end`)
  t.ok(many.total > EXACT_SEARCH_COUNT_LIMIT, `total ${many.total} says more than the limit`)
  t.same([(await meta('&q=keeper')).total_exact, (await meta('&q=seldom')).total], [false, 3], 'a rare word is counted exactly')
  t.ok(EXACT_SEARCH_COUNT_LIMIT < EXACT_COUNT_LIMIT)
})
