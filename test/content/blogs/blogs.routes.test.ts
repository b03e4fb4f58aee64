import t from 'tap'
import { buildTestApp } from '../../helpers/test-app.ts'
import { newBlog } from '../../helpers/factories.ts'

t.test('GET /v1/blogs pages through every blog exactly once, in slug order', async (t) => {
  const { app } = await buildTestApp(t)
  const slugs = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']
  for (const slug of [...slugs].reverse()) await newBlog(app.db, { slug })

  const seen: string[] = []
  let url: string | null = '/v1/blogs?limit=3'
  let pages = 0
  while (url !== null) {
    const res: { statusCode: number, json (): any } = await app.inject({ url })
    t.equal(res.statusCode, 200)
    const body: { data: Array<{ slug: string }>, meta: { next_cursor: string | null }, links: { next: string | null } } = res.json()
    seen.push(...body.data.map((blog: { slug: string }) => blog.slug))
    t.equal(body.links.next === null, body.meta.next_cursor === null, 'links.next and meta.next_cursor agree')
    url = body.links.next === null ? null : new URL(body.links.next).pathname + new URL(body.links.next).search
    pages++
  }
  t.same(seen, slugs)
  t.equal(pages, 3)
})

t.test('the default page holds 20 blogs and says where the next one starts', async (t) => {
  const { app } = await buildTestApp(t)
  for (let i = 0; i < 21; i++) await newBlog(app.db, { slug: `blog-${String(i).padStart(2, '0')}` })
  const body = (await app.inject({ url: '/v1/blogs' })).json()
  t.equal(body.data.length, 20)
  t.type(body.meta.next_cursor, 'string')
  t.equal(body.links.self, 'http://api.test/v1/blogs')
  t.match(body.links.next, /^http:\/\/api\.test\/v1\/blogs\?cursor=/)
  const last = (await app.inject({ url: `/v1/blogs?cursor=${body.meta.next_cursor}` })).json()
  t.same(last.data.map((b: { slug: string }) => b.slug), ['blog-20'])
  t.equal(last.meta.next_cursor, null)
  t.equal(last.links.next, null)
})

t.test('a blog is found by id and by slug, with every field of the API shape', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'under-the-black-flag', title: 'Under The Black Flag', description: 'About this blog', language: 'en-GB' })
  const expected = {
    id: blog.id,
    slug: 'under-the-black-flag',
    title: 'Under The Black Flag',
    description: 'About this blog',
    language: 'en-GB',
    website_url: null,
    post_url_template: null,
    logo_url: null,
    icon_url: null,
    cover_image_url: null,
    social_accounts: [],
    created_at: blog.created_at.toISOString(),
    updated_at: blog.updated_at.toISOString()
  }
  for (const key of [blog.id, blog.id.toUpperCase(), 'under-the-black-flag']) {
    const res = await app.inject({ url: `/v1/blogs/${key}` })
    t.equal(res.statusCode, 200, key)
    t.same(res.json(), { data: expected })
  }
})

t.test('an unknown blog is a 404 problem, whether the key looks like an id, a slug or neither', async (t) => {
  const { app } = await buildTestApp(t)
  for (const key of ['no-such-blog', '01900000-0000-7000-8000-000000000000', 'Not%20A%20Slug', '%E2%9C%93']) {
    const res = await app.inject({ url: `/v1/blogs/${key}` })
    t.equal(res.statusCode, 404, key)
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.match(res.json(), { status: 404, code: 'not_found', type: '/problems/not-found', title: 'Not Found' })
  }
})

t.test('bad list parameters are 400 problems that name the parameter', async (t) => {
  const { app } = await buildTestApp(t)
  await newBlog(app.db, { slug: 'only' })
  const cases: Array<[string, string]> = [
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['limit=1.5', 'query.limit'],
    ['limit=-1', 'query.limit'],
    ['limit=99999999999999999999', 'query.limit'],
    ['cursor=garbage', 'query.cursor'],
    ['cursor=' + Buffer.from('{"not":"an array"}').toString('base64url'), 'query.cursor'],
    ['cursor=' + Buffer.from('[1,"posts","2020-01-01",1]').toString('base64url'), 'query.cursor'],
    ['cursor=' + Buffer.from('[1,"blogs",42]').toString('base64url'), 'query.cursor'],
    ['cursor=' + 'A'.repeat(600), 'query.cursor'],
    ['cursor=', 'query.cursor'],
    ['sort=title', 'query.sort']
  ]
  for (const [query, path] of cases) {
    const res = await app.inject({ url: `/v1/blogs?${query}` })
    t.equal(res.statusCode, 400, query)
    t.equal(res.headers['content-type'], 'application/problem+json', query)
    const problem = res.json()
    t.equal(problem.status, 400, query)
    t.ok(problem.errors.some((e: { path: string }) => e.path === path), `${query} names ${path}`)
    t.notMatch(res.body, /at .*\.ts:\d+|SELECT|stack/i, 'no internals in the body')
  }
})
