import pino from 'pino'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { newApiKey } from './factories.ts'
import { buildTestApp } from './test-app.ts'

// A cache oracle: after any sequence of writes, every response the response cache gives equals
// the same request computed with no cache at all. Two apps share one database: `cached` (the
// default cache, which takes the writes) and `fresh` (RESPONSE_CACHE_MAX_MB=0). Before each
// write every public URL is read through `cached`, so each has an entry that the write may make
// stale; after it, both apps answer every URL and must agree byte for byte: in each content
// coding (identity, gzip, brotli; entries are kept in the coding they were sent in), with the
// same ETag and Content-Encoding. Each request sends an Accept header drawn from what clients
// send (entries are keyed on the feed format it picks, not on the header), so an entry stored
// for one is served to others: a key that leaves out something the answer depends on fails here.

const CODINGS = ['', 'gzip', 'br'] as const
const ACCEPTS = [
  undefined, 'application/json', '*/*', 'application/json, text/plain, */*', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'application/rss+xml', 'application/atom+xml;q=0.9, */*;q=0.1', 'application/feed+json', 'application/rss+xml;q=0.5, application/atom+xml'
] as const

// Every response stored at its first request (RESPONSE_CACHE_MIN_USES=1): each read before a write leaves an entry it may make stale.
const ENV = { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_AUTH_FAILURES: '1000000', RESPONSE_CACHE_MIN_USES: '1' }

/** mulberry32: a small seeded generator, so a failing sequence can be replayed from its seed. */
function random (seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T }
}

/**
 * Runs the oracle for `steps` random writes drawn from `seed` (CACHE_ORACLE_SEED, when set,
 * replaces it, to replay a failing sequence from the seed its test named).
 */
export function cacheOracle (seedWhenNotReplaying: number, steps: number): void {
  const seed = Number(process.env.CACHE_ORACLE_SEED ?? seedWhenNotReplaying)
  t.test(`cache oracle: cached answers equal uncached ones after every random write (seed ${seed}, ${steps} writes)`, async (t) => {
    const { app: cached } = await buildTestApp(t, ENV)
    const fresh = await buildApp({ config: loadConfig({ ...ENV, PUBLIC_BASE_URL: 'http://api.test', RESPONSE_CACHE_MAX_MB: '0', LOG_LEVEL: 'silent' }), database: cached.database, logger: pino({ level: 'silent' }), backgroundJobs: false })
    t.teardown(() => fresh.close())
    const writer = await newApiKey(cached.db, ['content:write'])
    const rng = random(seed)
    // Its own generator: the writes' sequence for a seed stays what it was.
    const acceptRng = random(seed + 1)
    const withAccept = (headers: Record<string, string>): Record<string, string> => {
      const accept = acceptRng.pick(ACCEPTS)
      return accept === undefined ? headers : { ...headers, accept }
    }
    const write = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
      const res = await cached.inject({ method, url, headers: { authorization: `Bearer ${writer}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
      if (res.statusCode >= 300) throw new Error(`${method} ${url} ${JSON.stringify(payload)}: ${res.statusCode} ${res.body}`)
      return res.statusCode === 204 ? undefined : res.json().data as { id: string, slug: string }
    }

    // A small world: two blogs, three authors, three tags, a handful of posts.
    const blogs = ['north', 'south']
    const authors = ['ann', 'bob', 'cy']
    const tags = ['war', 'oil', 'sport']
    for (const slug of blogs) await write('POST', '/v1/blogs', { slug, title: `Blog ${slug}` })
    for (const slug of authors) await write('POST', '/v1/authors', { slug, name: `Author ${slug}` })
    for (const slug of tags) await write('POST', '/v1/tags', { slug, name: `Tag ${slug}` })
    const posts: Array<{ id: string, slug: string, blog: string }> = []
    // Numbered by how many were ever made, not how many are left: a number used again after a
    // delete could give two blogs one slug, and moving a post between them is then a 409.
    let made = 0
    const newPost = async (status: 'published' | 'draft') => {
      const story = made++
      const blog = rng.pick(blogs)
      const post = await write('POST', '/v1/posts', {
        blog, title: `Story ${story} ${rng.pick(['on', 'about', 'from'])} ${rng.pick(tags)}`, status,
        authors: [rng.pick(authors)], tags: [rng.pick(tags)], is_breaking: rng.next() < 0.3, body_markdown: `Text of story ${story}.`
      })
      if (post !== undefined) posts.push({ id: post.id, slug: post.slug, blog })
    }
    for (let i = 0; i < 4; i++) await newPost('published')

    const urls = () => [
      '/v1/posts', '/v1/posts?limit=3', '/v1/posts?is_breaking=true', '/v1/blogs', '/v1/authors', '/v1/tags', '/v1/changes',
      '/v1/feeds/latest', '/v1/feeds/breaking?format=rss', '/v1/feeds/latest?format=atom', '/v1/feeds/latest?format=jsonfeed', '/v1/sitemap.xml',
      ...blogs.flatMap((b) => [`/v1/blogs/${b}`, `/v1/blogs/${b}/posts`, `/v1/blogs/${b}/feed`, `/v1/blogs/${b}/posts?include=authors,tags`, `/v1/blogs/${b}/news-sitemap.xml`]),
      ...authors.flatMap((a) => [`/v1/authors/${a}`, `/v1/authors/${a}/posts`, `/v1/authors/${a}/feed?format=rss`, `/v1/authors/${a}/posts?include=tags`]),
      ...tags.flatMap((tag) => [`/v1/tags/${tag}`, `/v1/tags/${tag}/posts?fields=title,authors`, `/v1/posts?tag=${tag}`, `/v1/posts?tag=${tag},${tags[0]!}&author=${authors[0]!}`,
        `/v1/feeds/latest?tag=${tag}`, `/v1/feeds/breaking?tag=${tag},${tags[0]!}&format=rss`]),
      ...blogs.map((b) => `/v1/posts?blog=${b}&author=${authors[1]!},${authors[2]!}`),
      `/v1/posts?ids=${posts.slice(0, 3).map((p) => p.id).join(',')}`, `/v1/posts?ids=${posts.slice(-2).map((p) => p.id).join(',')}&include=authors`,
      ...posts.flatMap((p) => [`/v1/posts/${p.id}`, `/v1/blogs/${p.blog}/posts/${p.slug}`, `/v1/posts/${p.id}?include=authors,tags,blog`])
    ]

    const writes: Array<[string, () => Promise<unknown>]> = [
      ['new published post', () => newPost('published')],
      ['new draft', () => newPost('draft')],
      ['publish', async () => { const p = rng.pick(posts); await write('POST', `/v1/posts/${p.id}/publish`) }],
      ['unpublish', async () => { const p = rng.pick(posts); await write('POST', `/v1/posts/${p.id}/unpublish`) }],
      ['retitle', async () => { const p = rng.pick(posts); await write('PATCH', `/v1/posts/${p.id}`, { title: `Retitled ${rng.next().toFixed(4)}` }) }],
      ['rebyline', async () => { const p = rng.pick(posts); await write('PATCH', `/v1/posts/${p.id}`, { authors: [rng.pick(authors), rng.pick(authors)].filter((a, i, all) => all.indexOf(a) === i), tags: [rng.pick(tags)] }) }],
      ['breaking', async () => { const p = rng.pick(posts); await write('PATCH', `/v1/posts/${p.id}`, { is_breaking: rng.next() < 0.5 }) }],
      ['move blog', async () => { const p = rng.pick(posts); const blog = rng.pick(blogs); const moved = await write('PATCH', `/v1/posts/${p.id}`, { blog }); p.blog = blog; p.slug = moved?.slug ?? p.slug }],
      ['delete post', async () => { if (posts.length > 3) { const p = posts.splice(Math.floor(rng.next() * posts.length), 1)[0]!; await write('DELETE', `/v1/posts/${p.id}`) } }],
      ['rename author', async () => { await write('PATCH', `/v1/authors/${rng.pick(authors)}`, { name: `Renamed ${rng.next().toFixed(4)}` }) }],
      ['retitle blog', async () => { await write('PATCH', `/v1/blogs/${rng.pick(blogs)}`, { title: `Blog ${rng.next().toFixed(4)}`, description: 'About' }) }],
      ['rename tag', async () => { await write('PATCH', `/v1/tags/${rng.pick(tags)}`, { name: `Tag ${rng.next().toFixed(4)}` }) }]
    ]

    let compared = 0
    let comparedCompressed = 0
    const history: string[] = []
    for (let step = 0; step < steps; step++) {
      for (const url of urls()) for (const coding of CODINGS) await cached.inject({ url, headers: withAccept({ 'accept-encoding': coding }) })
      const [name, run] = rng.pick(writes)
      await run()
      history.push(name)
      for (const url of urls()) {
        // The same request id, so problem documents (which echo it) compare too.
        const headers = withAccept({ 'x-request-id': `oracle-${step}`, 'accept-encoding': CODINGS[step % CODINGS.length] as string })
        const [a, b] = [await cached.inject({ url, headers }), await fresh.inject({ url, headers })]
        compared++
        if (a.headers['content-encoding'] !== undefined) comparedCompressed++
        // Last-Modified is left out of a response made in the second of its last change (README,
        // Caching), which one of the two may have been: compared when both say it.
        const lastModifiedDiffers = a.headers['last-modified'] !== undefined && b.headers['last-modified'] !== undefined && a.headers['last-modified'] !== b.headers['last-modified']
        if (a.statusCode !== b.statusCode || !a.rawPayload.equals(b.rawPayload) || a.headers.etag !== b.headers.etag || a.headers['content-encoding'] !== b.headers['content-encoding'] || a.headers['content-type'] !== b.headers['content-type'] || lastModifiedDiffers) {
          let at = 0
          while (at < a.body.length && a.body[at] === b.body[at]) at++
          t.fail(`after ${history.join(' -> ')}: ${url} with ${JSON.stringify(headers)} differs (cached ${a.statusCode} ${String(a.headers['content-type'])} ${String(a.headers['last-modified'])}, uncached ${b.statusCode} ${String(b.headers['content-type'])} ${String(b.headers['last-modified'])})`,
            { found: a.body.slice(Math.max(0, at - 150), at + 150), wanted: b.body.slice(Math.max(0, at - 150), at + 150) })
          return
        }
      }
    }
    t.pass(`${compared} cached responses equal their uncached computation across ${steps} writes: ${history.join(', ')}`)
    const hits = cached.metrics.responseCacheLookups.hit
    t.ok(hits > 100, `the cache did answer (${hits} hits), so the comparison tested it`)
    // Counted as they were compared: a list that writes left small goes uncompressed at the end.
    t.ok(comparedCompressed > 100, `and compressed responses were among those compared (${comparedCompressed})`)
  })
}
