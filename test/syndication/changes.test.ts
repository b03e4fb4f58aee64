import t from 'tap'
import { publishScheduledPosts } from '../../src/syndication/scheduler.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

const LIMITS = { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000' }

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/** Replays the whole public log from the start into a map, as a sync client would. */
async function replay (app: App, query = '') {
  const state = new Map<string, Map<string, unknown>>()
  let since: string | undefined
  for (;;) {
    const url = `/v1/changes?limit=7${query}${since === undefined ? '' : `&since=${since}`}`
    const res = await app.inject({ url })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    const page = res.json() as { data: Array<{ type: string, id: string, op: string, data?: unknown }>, meta: { next_cursor: string } }
    for (const change of page.data) {
      const bucket = state.get(change.type) ?? new Map()
      state.set(change.type, bucket)
      if (change.op === 'upsert') bucket.set(change.id, change.data)
      else bucket.delete(change.id)
    }
    if (page.data.length === 0 && page.meta.next_cursor === since) return state
    since = page.meta.next_cursor
  }
}

async function allPages (app: App, url: string) {
  const items: any[] = []
  let next: string | null = url
  while (next !== null) {
    const body: { data: any[], links: { next: string | null } } = (await app.inject({ url: next })).json()
    items.push(...body.data)
    next = body.links.next?.replace('http://api.test', '') ?? null
  }
  return items
}

t.test('replaying the change log yields exactly what the API lists now, after random writes', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const key = await newApiKey(app.db, ['content:write'])
  const send = async (method: string, url: string, payload?: unknown) => {
    const res = await app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${key}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
    if (res.statusCode >= 500) throw new Error(`${method} ${url}: ${res.body}`)
    return res
  }
  // A seeded random sequence of writes, so a failure can be replayed.
  let seed = Number(process.env.REPLAY_SEED ?? 20261128)
  const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T
  t.comment(`seed ${seed}`)

  const blogs = ['alpha', 'beta']
  for (const slug of blogs) await send('POST', '/v1/blogs', { title: slug, slug })
  const authors = ['ann', 'bob', 'cy']
  for (const slug of authors) await send('POST', '/v1/authors', { name: slug, slug })
  const tags = ['x', 'y']
  for (const slug of tags) await send('POST', '/v1/tags', { name: slug, slug })
  const posts: string[] = []
  const blogOf = new Map<string, string>()
  let moves = 0
  for (let step = 0; step < 120; step++) {
    const roll = random()
    if (roll < 0.3 || posts.length === 0) {
      const blog = pick(blogs)
      const res = await send('POST', '/v1/posts', { blog, title: `Post ${step}`, authors: [pick(authors)], tags: [pick(tags)], status: random() < 0.5 ? 'published' : 'draft' })
      posts.push(res.json().data.id)
      blogOf.set(res.json().data.id, blog)
    } else if (roll < 0.5) {
      await send('PATCH', `/v1/posts/${pick(posts)}`, { title: `Edited ${step}`, tags: [pick(tags)] })
    } else if (roll < 0.65) {
      await send('POST', `/v1/posts/${pick(posts)}/publish`)
    } else if (roll < 0.75) {
      await send('POST', `/v1/posts/${pick(posts)}/unpublish`)
    } else if (roll < 0.82) {
      await send('DELETE', `/v1/posts/${pick(posts)}`)
    } else if (roll < 0.86) {
      // Moved to the other blog: it leaves one blog's log and enters the other's.
      const id = pick(posts)
      const to = blogs.find((blog) => blog !== blogOf.get(id))!
      if ((await send('PATCH', `/v1/posts/${id}`, { blog: to })).statusCode === 200) { blogOf.set(id, to); moves++ }
    } else if (roll < 0.9) {
      await send('PATCH', `/v1/authors/${pick(authors)}`, { bio: `bio ${step}` })
    } else if (roll < 0.95) {
      await send('PATCH', `/v1/blogs/${pick(blogs)}`, { description: `about ${step}` })
    } else {
      // Schedule one for a moment from now; it becomes public by itself, then the scheduler announces it.
      await send('POST', `/v1/posts/${pick(posts)}/publish`, { at: new Date(Date.now() + 50).toISOString() })
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  await publishScheduledPosts(app.db)

  const state = await replay(app)
  const listed = await allPages(app, '/v1/posts?limit=100&fields=' + 'id,blog,slug,url,api_url,seo,title,subtitle,excerpt,body_html,word_count,reading_time_minutes,lead_image,language,is_breaking,is_featured,authors,tags,status,published_at,updated_at')
  t.ok(listed.length > 5, `${listed.length} posts are public`)
  t.same(new Set(state.get('post')?.keys()), new Set(listed.map((p) => p.id)), 'the same posts')
  for (const post of listed) t.same(state.get('post')?.get(post.id), post, `post ${post.id} field for field`)
  t.same(new Set(state.get('blog')?.keys()), new Set((await allPages(app, '/v1/blogs')).map((b) => b.id)))
  t.same(new Set(state.get('author')?.keys()), new Set((await allPages(app, '/v1/authors')).map((a) => a.id)))
  // A client that follows one blog ends with exactly that blog's posts, moves in and out included.
  t.ok(moves >= 5, `${moves} posts moved`)
  for (const blog of blogs) {
    const ofBlog = await replay(app, `&blog=${blog}`)
    const listedInBlog = listed.filter((post) => post.blog.slug === blog)
    t.same(new Set(ofBlog.get('post')?.keys()), new Set(listedInBlog.map((p) => p.id)), `blog ${blog}: the same posts`)
  }
})

t.test('public readers never see drafts; preview keys may ask for everything; filters and bad input', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const writer = await newApiKey(app.db, ['content:write'])
  const preview = await newApiKey(app.db, ['content:preview'])
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth(writer), payload: { title: 'One', slug: 'one' } })
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth(writer), payload: { title: 'Two', slug: 'two' } })
  const draft = (await app.inject({ method: 'POST', url: '/v1/posts', headers: auth(writer), payload: { blog: 'one', title: 'Secret draft' } })).json().data
  await app.inject({ method: 'POST', url: '/v1/posts', headers: auth(writer), payload: { blog: 'two', title: 'Public', status: 'published' } })

  const publicLog = (await app.inject({ url: '/v1/changes' })).json().data
  t.notOk(publicLog.some((c: { id: string }) => c.id === draft.id), 'no draft in the public log')
  t.same(publicLog.map((c: { event: string }) => c.event), ['blog.created', 'blog.created', 'post.published'])
  const everything = await app.inject({ url: '/v1/changes?visibility=all', headers: auth(preview) })
  t.ok(everything.json().data.some((c: { id: string }) => c.id === draft.id))
  t.equal(everything.headers['cache-control'], 'private, no-store')
  t.equal((await app.inject({ url: '/v1/changes?visibility=all' })).statusCode, 401, 'no key: 401')
  t.same((await app.inject({ url: '/v1/changes?types=blog' })).json().data.map((c: { type: string }) => c.type), ['blog', 'blog'])
  t.same((await app.inject({ url: '/v1/changes?blog=two' })).json().data.map((c: { type: string }) => c.type), ['blog', 'post'])
  for (const query of ['since=garbage', 'limit=0', 'limit=1001', 'types=comment', 'wait=31', 'wait=-1', 'visibility=secret', 'x=1']) {
    const res = await app.inject({ url: `/v1/changes?${query}` })
    t.equal(res.statusCode, 400, query)
  }
  t.equal((await app.inject({ url: '/v1/changes?blog=nope' })).statusCode, 404)
  const end = (await app.inject({ url: '/v1/changes' })).json().meta.next_cursor
  const idle = (await app.inject({ url: `/v1/changes?since=${end}` })).json()
  t.same(idle.data, [])
  t.equal(idle.meta.next_cursor, end, 'nothing new: the same cursor again')
})

t.test('a post moved to another blog leaves the first blog\'s log and enters the other\'s; the move is announced once', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const writer = await newApiKey(app.db, ['content:write'])
  const preview = await newApiKey(app.db, ['content:preview'])
  const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${writer}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  for (const slug of ['one', 'two', 'three']) await send('POST', '/v1/blogs', { title: slug, slug })
  const published = (await send('POST', '/v1/posts', { blog: 'one', title: 'Public', status: 'published' })).json().data.id as string
  const draft = (await send('POST', '/v1/posts', { blog: 'one', title: 'Draft' })).json().data.id as string
  const log = async (query: string, key?: string) => ((await app.inject({ url: `/v1/changes?types=post&${query}`, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })).json().data as Array<{ id: string, op: string, event: string | null }>)
    .map((change) => [change.id === published ? 'published' : 'draft', change.op, change.event])
  // Where the log ends now, drafts included (a public cursor stops at the last public change).
  const end = async () => (await app.inject({ url: '/v1/changes?visibility=all', headers: { authorization: `Bearer ${preview}` } })).json().meta.next_cursor as string
  const start = await end()

  t.equal((await send('PATCH', `/v1/posts/${published}`, { blog: 'two' })).statusCode, 200)
  t.equal((await send('PATCH', `/v1/posts/${draft}`, { blog: 'two' })).statusCode, 200)
  t.same(await log(`blog=one&since=${start}`), [['published', 'delete', null]], 'the old blog\'s readers see the public post go, and nothing of the draft')
  t.same(await log(`blog=two&since=${start}`), [['published', 'upsert', 'post.updated']], 'the new blog\'s readers see it arrive')
  t.same(await log(`since=${start}`), [['published', 'delete', null], ['published', 'upsert', 'post.updated']], 'everyone else sees both, in that order, and one event')
  t.same(await log(`blog=one&visibility=all&since=${start}`, preview), [['published', 'delete', null], ['draft', 'delete', null]], 'preview readers see the draft leave too')
  t.same(await log(`blog=two&visibility=all&since=${start}`, preview), [['published', 'upsert', 'post.updated'], ['draft', 'upsert', null]])

  // Deleting a blog and moving its posts elsewhere moves them the same way.
  const before = await end()
  t.equal((await send('DELETE', '/v1/blogs/two?move_posts_to=three')).statusCode, 204)
  t.same(await log(`blog=three&since=${before}`), [['published', 'upsert', 'post.updated']], 'the blog they moved to sees them arrive')
  t.same(await log(`blog=three&visibility=all&since=${before}`, preview), [['published', 'upsert', 'post.updated'], ['draft', 'upsert', null]])
  t.same((await log(`since=${before}`)).filter((change) => change[2] !== null), [['published', 'upsert', 'post.updated']], 'one event for the public post')
})

t.test('a long poll wakes within a second of a change', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const writer = await newApiKey(app.db, ['content:write'])
  const end = (await app.inject({ url: '/v1/changes' })).json().meta.next_cursor
  const started = Date.now()
  const polling = app.inject({ url: `/v1/changes?wait=20&since=${end}` })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const wroteAt = Date.now()
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${writer}` }, payload: { title: 'Wake up' } })
  const res = await polling
  const wokeAfter = Date.now() - wroteAt
  t.equal(res.json().data[0]?.data?.title, 'Wake up')
  t.ok(wokeAfter < 1000, `woke ${wokeAfter} ms after the write`)
  t.ok(Date.now() - started < 5000)
  const quiet = Date.now()
  const empty = await app.inject({ url: `/v1/changes?wait=1&since=${res.json().meta.next_cursor}` })
  t.same(empty.json().data, [])
  t.ok(Date.now() - quiet >= 900, 'an idle poll waits for its time')
})

t.test('a process that starts to close answers its long polls at once, so their clients ask another', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const end = (await app.inject({ url: '/v1/changes' })).json().meta.next_cursor as string
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const polls = [0, 1, 2].map(() => fetch(`${address}/v1/changes?wait=30&since=${end}`))
  await new Promise((resolve) => setTimeout(resolve, 300))
  // Before, close waited for the polls' 30 s (past SHUTDOWN_TIMEOUT_MS: in production the
  // process was killed and the clients lost their connections).
  const closing = Date.now()
  await app.close()
  const closedAfter = Date.now() - closing
  for (const poll of polls) {
    const res = await poll
    t.equal(res.status, 200, 'each poll is answered')
    t.same(await res.json(), { data: [], meta: { next_cursor: end } }, 'with no changes and the cursor it came with')
  }
  t.ok(closedAfter < 15_000, `closed after ${closedAfter} ms, not after the polls' 30 s`)
  const late = await app.changeSignal.wait(30_000)
  t.equal(late, false, 'a wait that starts while closing ends at once')
})

t.test('the scheduler announces a scheduled post once its time has come, once, even when run twice at once', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const writer = await newApiKey(app.db, ['content:write'])
  const auth = { authorization: `Bearer ${writer}` }
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth, payload: { title: 'S', slug: 's' } })
  const post = (await app.inject({ method: 'POST', url: '/v1/posts', headers: auth, payload: { blog: 's', title: 'Soon' } })).json().data
  await app.inject({ method: 'POST', url: `/v1/posts/${post.id}/publish`, headers: auth, payload: { at: new Date(Date.now() + 300).toISOString() } })
  t.same(await Promise.all([publishScheduledPosts(app.db), publishScheduledPosts(app.db)]), [0, 0], 'not yet')
  await new Promise((resolve) => setTimeout(resolve, 400))
  const counts = await Promise.all([publishScheduledPosts(app.db), publishScheduledPosts(app.db)])
  t.equal(counts[0] + counts[1], 1, 'exactly one pass published it')
  const log = (await app.inject({ url: '/v1/changes?types=post' })).json().data
  t.same(log.map((c: { event: string }) => c.event), ['post.published'])
  t.equal(log[0].data.status, 'published')
})

t.test('identical long polls never share a computation: each waits on its own and each hears the change', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const writer = await newApiKey(app.db, ['content:write'])
  const lookups = async () => Object.values(app.metrics.responseCacheLookups).reduce((sum, count) => sum + count, 0)
  const { meta } = (await app.inject({ url: '/v1/changes' })).json() as { meta: { next_cursor: string } }
  const before = await lookups()
  const url = `/v1/changes?since=${meta.next_cursor}&wait=20`
  const order: string[] = []
  const polls = [1, 2, 3].map((n) => app.inject({ url }).then((res) => { order.push(`poll ${n}`); return res }))
  await new Promise((resolve) => setTimeout(resolve, 200))
  const write = await app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${writer}` }, payload: { title: 'Woken' } })
  t.equal(write.statusCode, 201)
  const answers = await Promise.all(polls)
  for (const res of answers) {
    t.equal(res.statusCode, 200)
    t.match(res.json().data, [{ type: 'blog', event: 'blog.created', data: { title: 'Woken' } }], 'every poll got the change')
  }
  t.equal(await lookups(), before, 'the response cache never looked at them: no shared flight, no stored answer')
  t.equal(order.length, 3)
})
