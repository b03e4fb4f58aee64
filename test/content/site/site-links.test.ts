import t, { type Test } from 'tap'
import { newApiKey, newBlog, newPost } from '../../helpers/factories.ts'
import { rawRequester } from '../../helpers/raw-http.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Where links point: a post's `url` is its page on the website (never the API's JSON unless no
// website is known), `api_url` is always the API's; feeds link readers to the website; and
// with PUBLIC_BASE_URL unset, links follow the host the client called, without letting a forged
// Host reach anyone else's response.

const at = new Date(Date.UTC(2024, 4, 7, 9))

async function site (t: Test, env: Record<string, string> = {}) {
  const testApp = await buildTestApp(t, env)
  const { app } = testApp
  const flag = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag' })
  await newPost(app.db, { blogId: flag.id, slug: 'one', title: 'One', publishedAt: at })
  const writer = await newApiKey(app.db, ['content:write'])
  const patchBlog = (body: Record<string, unknown>) => app.inject({
    method: 'PATCH', url: '/v1/blogs/flag', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: body
  })
  const post = async () => (await app.inject({ url: '/v1/blogs/flag/posts/one' })).json().data as { url: string, api_url: string }
  return { ...testApp, patchBlog, post }
}

t.test('url follows the most specific setting: blog template, blog website, network template, network website, API', async (t) => {
  const apiUrl = 'http://api.test/v1/blogs/flag/posts/one'
  const bare = await site(t)
  t.same(await bare.post(), { ...(await bare.post()), url: apiUrl, api_url: apiUrl }, 'nothing set: the API URL, for both')

  const network = await site(t, { WEBSITE_URL: 'https://news.example.com/' })
  t.equal((await network.post()).url, 'https://news.example.com/flag/one', 'network website: /{blog}/{slug}')
  t.equal((await network.post()).api_url, apiUrl)

  const templated = await site(t, { WEBSITE_URL: 'https://news.example.com', POST_URL_TEMPLATE: 'https://news.example.com/{blog}/{yyyy}/{mm}/{dd}/{slug}' })
  t.equal((await templated.post()).url, 'https://news.example.com/flag/2024/05/07/one', 'network template wins over network website')

  const own = await templated.patchBlog({ website_url: 'https://flag.example.org/' })
  t.equal(own.statusCode, 200, own.body)
  t.equal(own.json().data.website_url, 'https://flag.example.org', 'stored without the trailing slash')
  t.equal((await templated.post()).url, 'https://flag.example.org/one', 'the blog\'s own website wins over network settings')

  t.equal((await templated.patchBlog({ post_url_template: 'https://flag.example.org/{yyyy}/{id}' })).statusCode, 200)
  const post = await templated.post()
  t.match(post.url, /^https:\/\/flag\.example\.org\/2024\/[0-9a-f-]{36}$/, 'the blog\'s template wins over everything')

  const cleared = await templated.patchBlog({ website_url: null, post_url_template: null })
  t.same([cleared.json().data.website_url, cleared.json().data.post_url_template], ['https://news.example.com', null], 'null clears; the network website shows through')
  t.equal((await templated.post()).url, 'https://news.example.com/flag/2024/05/07/one')
})

t.test('website and template writes are validated: 400 naming the field, nothing written', async (t) => {
  const { patchBlog, post } = await site(t)
  const before = await post()
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ website_url: 'javascript:alert(1)' }, 'body.website_url'],
    [{ website_url: '/relative' }, 'body.website_url'],
    [{ website_url: 'ftp://files.example.com' }, 'body.website_url'],
    [{ website_url: 42 }, 'body.website_url'],
    [{ website_url: `https://example.com/${'a'.repeat(2100)}` }, 'body.website_url'],
    [{ post_url_template: 'https://news.example.com/{blog}' }, 'body.post_url_template'],
    [{ post_url_template: 'https://news.example.com/{slug}/{nope}' }, 'body.post_url_template'],
    [{ post_url_template: '/{slug}' }, 'body.post_url_template'],
    [{ post_url_template: 'javascript:{slug}' }, 'body.post_url_template'],
    [{ post_url_template: `https://example.com/{slug}/${'a'.repeat(600)}` }, 'body.post_url_template']
  ]
  for (const [body, path] of bad) {
    const res = await patchBlog(body)
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 80))
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `names ${path}`)
  }
  t.same(await post(), before, 'nothing changed')
})

t.test('feeds send readers to the website: channel link, Atom alternate, JSON Feed home_page_url, item links', async (t) => {
  const { app, patchBlog } = await site(t, { WEBSITE_URL: 'https://news.example.com' })
  await patchBlog({ website_url: 'https://flag.example.org' })
  const rss = (await app.inject({ url: '/v1/blogs/flag/feed?format=rss' })).body
  t.match(rss, /<channel>\s*<title>Under The Black Flag<\/title>\s*<link>https:\/\/flag\.example\.org<\/link>/)
  t.match(rss, /<item>[\s\S]*<link>https:\/\/flag\.example\.org\/one<\/link>/)
  const atom = (await app.inject({ url: '/v1/blogs/flag/feed?format=atom' })).body
  t.match(atom, /<link rel="alternate" href="https:\/\/flag\.example\.org"/)
  const jsonFeed = JSON.parse((await app.inject({ url: '/v1/blogs/flag/feed?format=jsonfeed' })).body)
  t.equal(jsonFeed.home_page_url, 'https://flag.example.org')
  t.equal(jsonFeed.items[0].url, 'https://flag.example.org/one')
  const latest = (await app.inject({ url: '/v1/feeds/latest?format=rss' })).body
  t.match(latest, /<channel>\s*<title>Latest Posts<\/title>\s*<link>https:\/\/news\.example\.com<\/link>/, 'network feeds link to the network website')
})

t.test('without PUBLIC_BASE_URL, links follow the host the client called; a forged Host reaches only itself', async (t) => {
  const { app } = await site(t, { PUBLIC_BASE_URL: '', RESPONSE_CACHE_MAX_MB: '8' })
  const get = (host: string, url = '/v1/posts?limit=1') => app.inject({ url, headers: { host } })
  const lan = await get('192.168.1.20:3000')
  t.match(lan.json().links.next ?? lan.json().links.self, /^http:\/\/192\.168\.1\.20:3000\/v1\/posts/)
  t.equal(lan.json().data[0].api_url, 'http://192.168.1.20:3000/v1/blogs/flag/posts/one')

  // The same URL asked through another host, after the first answer was cached: its own links.
  const forged = await get('evil.example')
  t.match(forged.json().links.self, /^http:\/\/evil\.example\/v1\/posts/)
  const hits = async () => app.metrics.responseCacheLookups.hit
  const hitsBefore = await hits()
  const again = await get('192.168.1.20:3000')
  t.equal(await hits(), hitsBefore + 1, 'the LAN answer came from the cache')
  t.equal(again.body, lan.body, 'and the forged host did not replace it')

  // A Host that is not a plain host name or address gets the configured default, never itself;
  // nor does one that looks like one but that no URL can hold (a port past 65535, an IPv4
  // address out of range, an IPv6 address of nine groups): those were a 500 on every list, feed
  // and sitemap, whose links the URL parser then refused.
  const unusable = ['evil.example/path?', 'a b', 'x"y', '<script>', 'ex ample.com:80', 'a..b',
    'evil.example:99999', 'evil.example:65536', '999.999.999.999', '1.2.3.4.5', '256.0.0.1:80', '[1:2:3:4:5:6:7:8:9]', '[:::]', '[::1]:65536']
  for (const host of unusable) {
    for (const url of ['/v1/posts?limit=1', '/v1/blogs?limit=1', '/v1/feeds/latest?format=atom', '/v1/sitemap.xml', '/v1/blogs/flag/posts/one']) {
      const res = await get(host, url)
      t.equal(res.statusCode, 200, `Host ${JSON.stringify(host)}, ${url}: ${res.statusCode} ${res.statusCode === 200 ? '' : res.body.slice(0, 120)}`)
      t.notOk(res.body.includes(host.replace(/:\d+$/, '')) && !host.startsWith('['), `Host ${JSON.stringify(host)}, ${url}: not in the answer`)
    }
    t.match((await get(host)).json().links.self, /^http:\/\/localhost:3000\/v1\/posts/, `Host ${JSON.stringify(host)} falls back`)
  }
  // A host the URL parser writes another way: links carry its form (the default port dropped).
  t.match((await get('News.Example:80')).json().links.self, /^http:\/\/news\.example\/v1\/posts/, 'the parser\'s form of a host')
  const feed = (await get('[::1]:3000', '/v1/feeds/latest?format=atom')).body
  t.match(feed, /href="http:\/\/\[::1\]:3000\/v1\/feeds\/latest\?format=atom"/, 'feeds too, IPv6 included')
})

t.test('a whole URL as the request target: its host is the Host, checked like one, and links never carry it otherwise', async (t) => {
  const { app } = await site(t, { PUBLIC_BASE_URL: '' })
  const flag = await app.db.selectFrom('blogs').select('id').where('slug', '=', 'flag').executeTakeFirstOrThrow()
  await app.db.insertInto('slug_redirects').values({ entity_type: 'blog', scope_id: null, old_slug: 'old-flag', target_id: flag.id }).execute()
  const raw = await rawRequester(app, { halfClose: false })
  const send = (target: string) => raw(`GET ${target} HTTP/1.1\r\nHost: news.test\r\nConnection: close\r\n\r\n`)
  const status = (response: string) => Number(response.slice(9, 12))
  const self = (response: string) => /"self":"([^"]+)"/.exec(response)?.[1]

  // RFC 9112 3.2.2: an origin server takes the request target's host, not Host's.
  const absolute = await send('http://evil.example/v1/posts?limit=1')
  t.equal(status(absolute), 200)
  t.equal(self(absolute), 'http://evil.example/v1/posts?limit=1', 'the target\'s host, as a Host would be')
  t.equal(self(await send('HTTP://Evil.Example:80/v1/posts?limit=1')), 'http://evil.example/v1/posts?limit=1', 'scheme and host in any case')
  // Hosts a Host could not be: the configured default, as for such a Host.
  for (const target of ['http://user:pw@evil.example/v1/posts?limit=1', 'http://evil.example:99999/v1/posts?limit=1', 'http://999.999.999.999/v1/posts?limit=1', 'http:///v1/posts?limit=1']) {
    const response = await send(target)
    t.equal(status(response), 200, `${target}: ${response.split('\r\n', 1)[0]}`)
    t.equal(self(response), 'http://localhost:3000/v1/posts?limit=1', `${target}: links on the default`)
    t.notOk(response.includes('evil.example') || response.includes('999.999'), `${target}: its host is nowhere in the answer`)
  }
  // A renamed slug's 308 stays on the API's own paths.
  const moved = await send('http://user@evil.example/v1/blogs/old-flag')
  t.equal(status(moved), 308)
  t.match(moved, /\r\nlocation: \/v1\/blogs\/flag\r\n/i, 'Location is the path alone')
  const feed = await send('http://evil.example/v1/feeds/latest?format=atom')
  t.match(feed, /href="http:\/\/evil\.example\/v1\/feeds\/latest\?format=atom"/, 'a feed\'s self link too')
  t.equal(status(await send('http://evil.example')), 404, 'no path: the root, which no route takes')
})

t.test('with PUBLIC_BASE_URL set, the Host header changes nothing', async (t) => {
  const { app } = await site(t, { PUBLIC_BASE_URL: 'https://api.example.com' })
  const res = await app.inject({ url: '/v1/posts?limit=1', headers: { host: 'evil.example' } })
  t.match(res.json().links.self, /^https:\/\/api\.example\.com\/v1\/posts/)
  t.equal(res.json().data[0].api_url, 'https://api.example.com/v1/blogs/flag/posts/one')
})

// Behind a proxy the API believes, links follow X-Forwarded-Host and X-Forwarded-Proto, which a
// shared cache in front does not key on: every response names them in Vary, so one client's
// forged header cannot be stored for the next reader (with real Varnish: test/scale-out).
t.test('links that follow forwarded headers: every response varies on them; otherwise nothing changes', async (t) => {
  const varies = (res: { headers: Record<string, unknown> }) => String(res.headers.vary ?? '').split(',').map((v) => v.trim().toLowerCase())
  const forged = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }

  const behindProxy = await site(t, { PUBLIC_BASE_URL: '', TRUST_PROXY: '127.0.0.1', RESPONSE_CACHE_MAX_MB: '8' })
  const get = (url: string, headers: Record<string, string> = {}) => behindProxy.app.inject({ url, headers: { host: 'news.test', ...headers } })
  const own = await get('/v1/posts?limit=1', forged)
  t.match(own.json().links.self, /^https:\/\/evil\.example\/v1\/posts/, 'the sender\'s links follow its forwarded headers')
  const reader = await get('/v1/posts?limit=1')
  t.match(reader.json().links.self, /^http:\/\/news\.test\/v1\/posts/, 'the in-process cache keys on them')
  const etag = String(reader.headers.etag)
  const post = await get('/v1/blogs/flag/posts/one')
  const responses = {
    list: own,
    'cached list': reader,
    post,
    'RSS feed': await get('/v1/feeds/latest?format=rss'),
    sitemap: await get('/v1/sitemap.xml'),
    304: await get('/v1/posts?limit=1', { 'if-none-match': etag }),
    404: await get('/v1/blogs/flag/posts/nowhere'),
    'post by id in a path for slugs (308)': await get(`/v1/blogs/flag/posts/${String(post.json().data.id)}`)
  }
  for (const [what, res] of Object.entries(responses)) {
    t.ok(res.statusCode < 500, `${what}: ${res.statusCode}`)
    t.ok(varies(res).includes('x-forwarded-host') && varies(res).includes('x-forwarded-proto'), `${what} varies on X-Forwarded-Host and -Proto (${String(res.headers.vary)})`)
  }
  t.equal(responses[304].statusCode, 304)
  t.equal(responses['post by id in a path for slugs (308)'].statusCode, 308)

  const unbelieved: Array<Record<string, string>> = [{ PUBLIC_BASE_URL: 'https://api.example.com', TRUST_PROXY: '127.0.0.1' }, { PUBLIC_BASE_URL: '' }, { PUBLIC_BASE_URL: '', TRUST_PROXY: '0' }]
  for (const env of unbelieved) {
    const { app } = await site(t, env)
    const res = await app.inject({ url: '/v1/posts?limit=1', headers: { host: 'news.test', ...forged } })
    t.notMatch(res.json().links.self, /evil\.example/, `${JSON.stringify(env)}: forwarded headers are not believed`)
    t.notOk(varies(res).includes('x-forwarded-host') || varies(res).includes('x-forwarded-proto'), `${JSON.stringify(env)}: and not named in Vary (${String(res.headers.vary)})`)
  }
})
