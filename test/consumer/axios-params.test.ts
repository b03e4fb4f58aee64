import axios from 'axios'
import t from 'tap'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// axios, the most used HTTP client, writes an array in a query as `tag[]=a&tag[]=b` by default,
// as jQuery, PHP and Rails do; clients generated on it (orval) send the arrays the generated
// types ask for that way. Every list parameter was then a 400, an unknown parameter `tag[]`.

const ids = (body: { data: Array<{ id: string }> }) => body.data.map((item) => item.id)

t.test('lists as axios sends them, against a running server', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000' })
  await seedDemo(app.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const client = axios.create({ baseURL: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`, validateStatus: () => true })

  const tags = ['islamic-state', 'central-asia']
  t.match(client.getUri({ url: '/v1/posts', params: { tag: tags } }), /tag%5B%5D=islamic-state&tag%5B%5D=central-asia/, 'axios writes brackets')
  const viaAxios = await client.get('/v1/posts', { params: { tag: tags, formats: ['plaintext'], limit: 20 } })
  t.equal(viaAxios.status, 200, JSON.stringify(viaAxios.data).slice(0, 300))
  const expected = (await app.inject({ url: '/v1/posts?tag=islamic-state,central-asia&formats=plaintext&limit=20' })).json()
  t.same(ids(viaAxios.data), ids(expected), 'tag[]=a&tag[]=b is tag=a,b')
  t.ok(ids(viaAxios.data).length > 1)
  t.type(viaAxios.data.data[0].body_text, 'string')

  // One item, on another list and a feed, and the change log's kinds.
  const feed = await client.get('/v1/feeds/latest', { params: { tag: ['central-asia'], format: 'json' } })
  t.equal(feed.status, 200)
  t.ok(feed.data.data.length > 0)
  const authors = await client.get('/v1/authors', { params: { slug: ['joanna-paraszczuk'], include: ['count.posts'] } })
  t.equal(authors.status, 200)
  t.same(authors.data.data.map((author: { slug: string }) => author.slug), ['joanna-paraszczuk'])
  t.equal((await client.get('/v1/changes', { params: { types: ['blog'] } })).status, 200)

  // What stays a 400: an item outside the list's schema, too many, or none.
  const bad = await client.get('/v1/posts', { params: { formats: ['pdf'] } })
  t.equal(bad.status, 400)
  t.same(bad.data.errors.map((error: { path: string }) => error.path), ['query.formats.0'])
  t.equal((await client.get('/v1/posts', { params: { formats: ['html', 'plaintext', 'html'] } })).status, 400)
  t.equal((await client.get('/v1/posts', { params: { tag: [''] } })).status, 400)
})

t.test('brackets in a query string, by hand', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000' })
  await seedDemo(app.db)
  const get = async (query: string) => app.inject({ url: `/v1/posts?${query}` })
  const both = ids((await get('tag=islamic-state,central-asia')).json())
  t.same(ids((await get('tag=islamic-state&tag[]=central-asia')).json()), both, 'plain and bracketed values together')
  t.same(ids((await get('tag%5B%5D=islamic-state&tag%5b%5d=central-asia')).json()), both, 'brackets percent-encoded, in either case')
  // Only an empty pair of brackets at the end of a parameter's own name names a list: anything
  // else is an unknown parameter.
  for (const query of ['TAG[]=syria', 'tag[0]=syria', 'tag[x]=syria', '[]=syria', 'tag[][]=syria', '__proto__[]=x', 'constructor[]=x']) {
    const res = await get(query)
    t.equal(res.statusCode, 400, `${query}: ${res.body.slice(0, 200)}`)
    t.equal(res.headers['content-type'], 'application/problem+json')
  }
  t.equal((await get('limit[]=5')).statusCode, 400, 'a parameter that is not a list takes one value, bracketed or not')
})
