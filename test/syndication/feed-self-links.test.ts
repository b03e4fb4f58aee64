import { DOMParser } from '@xmldom/xmldom'
import t from 'tap'
import { normalize as uriJsNormalize } from 'uri-js'
import { newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A feed's rel="self" is the address it was fetched from, as the client wrote it: the W3C feed
// validator warns "Self reference doesn't match document location" unless the two are the same
// URI by RFC 3986's comparison, where `,` and `%2C` differ and so does the order of the pairs.
// The feed's links were written again by URLSearchParams (`tag=a,b` became `tag=a%2Cb`) with
// the format moved to the end. A list's links keep the client's spelling the same way: `self`
// is the request, `next` the request with its cursor replaced.

const BASE = 'http://api.test'
const ATOM = 'http://www.w3.org/2005/Atom'

function atomIdOf (body: string): string | undefined {
  const document = new DOMParser().parseFromString(body, 'text/xml')
  return Array.from(document.documentElement?.childNodes ?? []).find((node) => node.nodeName === 'id')?.textContent ?? undefined
}

function selfOf (format: string, body: string): string | undefined {
  if (format === 'jsonfeed') return (JSON.parse(body) as { feed_url?: string }).feed_url
  const document = new DOMParser().parseFromString(body, 'text/xml')
  const links = Array.from(document.getElementsByTagNameNS(ATOM, 'link'))
  return links.find((link) => link.getAttribute('rel') === 'self')?.getAttribute('href') ?? undefined
}

t.test('a feed fetched with its format in the query names that very address as its self', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'flag' })
  const syria = await newTag(app.db, { slug: 'syria' })
  const oil = await newTag(app.db, { slug: 'oil' })
  await newPost(app.db, { blogId: blog.id, slug: 'one', title: 'One', tagIds: [syria.id, oil.id] })

  const written = [
    ['rss', 'tag=syria,oil&format=rss'],
    ['atom', 'format=atom&tag=syria%2Coil'],
    ['jsonfeed', 'tag=syria&tag=oil&limit=%35&format=jsonfeed'],
    ['rss', 'tag[]=syria&tag[]=oil&format=rss'],
    ['atom', '%66ormat=atom&tag=syria,oil'],
    ['rss', 'blog=flag&format=rss&language=en']
  ] as const
  for (const [format, query] of written) {
    const url = `/v1/feeds/latest?${query}`
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
    t.equal(selfOf(format, res.body), new URL(url, BASE).toString(), `${url}: self is the document's location`)
  }

  // Chosen by Accept: the self link names the format, after the pairs as written.
  const negotiated = await app.inject({ url: '/v1/feeds/latest?tag=syria,oil', headers: { accept: 'application/atom+xml' } })
  t.equal(selfOf('atom', negotiated.body), `${BASE}/v1/feeds/latest?tag=syria,oil&format=atom`)
  // The API's own JSON: its feed_url is the feed without format.
  const json = await app.inject({ url: '/v1/feeds/latest?format=json&tag=syria,oil' })
  t.equal(json.json().meta.feed_url, `${BASE}/v1/feeds/latest?tag=syria,oil`)
  // A blog's feed by its path, the format given: the same.
  const owned = await app.inject({ url: '/v1/blogs/flag/feed?format=atom&limit=5' })
  t.equal(selfOf('atom', owned.body), `${BASE}/v1/blogs/flag/feed?format=atom&limit=5`)
})

t.test('an Atom feed\'s id is its address in RFC 3986\'s normal form, one for the spellings it counts as one', async (t) => {
  const { app } = await buildTestApp(t)
  await newBlog(app.db, { slug: 'flag' })
  await newTag(app.db, { slug: 'syria' })
  await newTag(app.db, { slug: 'oil' })
  // Each group: one URI written differently (escapes of unreserved characters, lower-case hex,
  // brackets bare or escaped). `,` and `%2C` are two URIs to RFC 3986, though this API reads
  // both as one list: two ids. The id leaves the format out.
  const spellings = [
    ['tag[]=syria&tag[]=oil', 'tag%5B%5D=syria&tag%5b%5d=oil'],
    ['tag=syria%2coil&limit=%35', 'tag=syria%2Coil&limit=5'],
    ['tag=syria,oil&limit=5'],
    ['blog=fl%61g', 'blog=flag']
  ]
  for (const group of spellings) {
    const ids = []
    for (const query of group) {
      const res = await app.inject({ url: `/v1/feeds/latest?${query}&format=atom` })
      t.equal(res.statusCode, 200, `${query}: ${res.body.slice(0, 200)}`)
      const id = atomIdOf(res.body)
      // uri-js: an RFC 3986 implementation of its own, not the one the feed uses.
      t.equal(id, id === undefined ? 'an id' : uriJsNormalize(id), `${query}: the id (${id}) is in normal form`)
      ids.push(id)
    }
    t.equal(new Set(ids).size, 1, `one id for ${group.join(' and ')}: ${ids[0]}`)
  }
})

t.test('a WebSub topic names the topic itself, however its address was written', async (t) => {
  const { app } = await buildTestApp(t, { WEBSUB_HUB_URL: 'https://hub.example.com/' })
  await newBlog(app.db, { slug: 'flag' })
  const topic = `${BASE}/v1/feeds/latest?format=rss`
  const plain = await app.inject({ url: '/v1/feeds/latest?format=rss' })
  t.equal(selfOf('rss', plain.body), topic)
  t.match(plain.headers.link, `<${topic}>; rel="self"`, 'and the hub is named for it')
})

t.test('a list keeps the query as written in its self and next links', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'flag' })
  const syria = await newTag(app.db, { slug: 'syria' })
  const oil = await newTag(app.db, { slug: 'oil' })
  for (const slug of ['one', 'two', 'three']) await newPost(app.db, { blogId: blog.id, slug, title: slug, tagIds: [syria.id, oil.id] })

  type Page = { data: Array<{ slug: string }>, meta: { next_cursor: string | null }, links: { self: string, next: string | null } }
  const first = (await app.inject({ url: '/v1/posts?tag=syria,oil&limit=1&fields=slug' })).json() as Page
  t.equal(first.links.self, `${BASE}/v1/posts?tag=syria,oil&limit=1&fields=slug`)
  t.equal(first.links.next, `${BASE}/v1/posts?tag=syria,oil&limit=1&fields=slug&cursor=${first.meta.next_cursor}`)

  // A cursor anywhere in the query is replaced; the rest stays in its order and spelling.
  const second = (await app.inject({ url: `/v1/posts?cursor=${first.meta.next_cursor}&tag=syria%2Coil&limit=1&fields=slug` })).json() as Page
  t.equal(second.links.next, `${BASE}/v1/posts?tag=syria%2Coil&limit=1&fields=slug&cursor=${second.meta.next_cursor}`)
  const third = (await app.inject({ url: second.links.next!.slice(BASE.length) })).json() as Page
  t.same([first, second, third].map((page) => page.data.map((post) => post.slug)), [['three'], ['two'], ['one']], 'the links walk the list')
  t.equal(third.links.next, null)
})
