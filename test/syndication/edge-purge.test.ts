import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { leaseCursor, releaseCursor } from '../../src/changes/cursor-leases.repository.ts'
import { postListKeys, staleKeysFor } from '../../src/changes/surrogate-keys.ts'
import { listOwners } from '../../src/content/posts/posts.service.ts'
import { publishScheduledPosts } from '../../src/syndication/scheduler.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Edge purges by surrogate key (EDGE_PURGE_URL), against a recording HTTP server standing in for
// the CDN's purge API (the real Varnish is in test/scale-out). What is checked: the request
// shapes (Varnish xkey, Fastly), that a purge names exactly what went stale, and the ordering
// rule: nothing is purged until every live process has applied the change.

interface Recorded { method: string, url: string, headers: IncomingMessage['headers'] }

async function recordingEdge (t: Test, status = 200): Promise<{ url: string, requests: Recorded[], setStatus: (s: number) => void }> {
  const requests: Recorded[] = []
  let answer = status
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    res.statusCode = answer
    res.end('{"status":"ok"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/service/SU1Z0isxPaozGVKXdv0eY/purge`, requests, setStatus: (s) => { answer = s } }
}

async function until (condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
  return condition()
}

const keysOf = (request: Recorded, header: string) => String(request.headers[header]).split(' ').sort()

t.test('Fastly shape: one POST per change with exactly its stale keys, after every process applied it', async (t) => {
  const edge = await recordingEdge(t)
  const { app } = await buildTestApp(t, { EDGE_PURGE_URL: edge.url, EDGE_PURGE_STYLE: 'fastly', EDGE_PURGE_TOKEN: 'fastly-token-123' })
  await app.ready()
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db)
  const [one, other] = [await newPost(app.db, { blogId: blog.id }), await newPost(app.db, { blogId: blog.id })]
  await app.changeFollower.catchUp()

  const edit = await app.inject({
    method: 'PATCH', url: `/v1/posts/${one.id}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { title: 'Edited headline' }
  })
  t.equal(edit.statusCode, 200)
  t.ok(await until(() => edge.requests.length > 0), 'a purge went out')
  const [purge] = edge.requests
  t.equal(purge!.method, 'POST')
  t.match(purge!.url, /\/service\/SU1Z0isxPaozGVKXdv0eY\/purge$/)
  t.equal(purge!.headers['fastly-key'], 'fastly-token-123')
  t.same(keysOf(purge!, 'surrogate-key'), [`post:${one.id}`, 'posts:any', `posts:in:blog:${blog.id}`].sort(), 'the edited post and the lists it is in; not its blog, not the other post')
  t.notOk(String(purge!.headers['surrogate-key']).includes(other.id))

  // A second live process that has not applied the next change holds its purge back.
  await app.db.insertInto('change_followers').values({ process_id: 'other-process', applied_seq: await newestSeq(app) }).execute()
  const before = edge.requests.length
  await app.inject({
    method: 'PATCH', url: `/v1/posts/${other.id}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { title: 'Also edited' }
  })
  await app.changeFollower.catchUp()
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  t.equal(edge.requests.length, before, 'no purge while a live process is behind')
  await app.db.updateTable('change_followers').set({ applied_seq: await newestSeq(app), seen_at: sql<Date>`now()` }).where('process_id', '=', 'other-process').execute()
  t.ok(await until(() => edge.requests.length > before), 'purged once the other process caught up')
  t.same(keysOf(edge.requests[before]!, 'surrogate-key'), [`post:${other.id}`, 'posts:any', `posts:in:blog:${blog.id}`].sort())

  // A process that stopped reporting (crashed) no longer holds purges back.
  await app.db.updateTable('change_followers').set({ applied_seq: '0', seen_at: sql<Date>`now() - interval '1 minute'` }).where('process_id', '=', 'other-process').execute()
  const third = await newPost(app.db, { blogId: blog.id })
  await app.inject({ method: 'DELETE', url: `/v1/posts/${third.id}`, headers: { authorization: `Bearer ${admin}` } })
  t.ok(await until(() => edge.requests.some((r) => String(r.headers['surrogate-key']).includes(third.id))), 'a dead process is left out')
})

t.test('a post change purges the lists of its blog, authors and tags, those it had and has, and no others', async (t) => {
  const edge = await recordingEdge(t)
  const { app } = await buildTestApp(t, { EDGE_PURGE_URL: edge.url })
  await app.ready()
  const admin = await newApiKey(app.db, ['admin'])
  const [desk, wire, elsewhere] = [await newBlog(app.db), await newBlog(app.db), await newBlog(app.db)]
  const [ann, bo, cy] = [await newAuthor(app.db), await newAuthor(app.db), await newAuthor(app.db)]
  const [war, oil, sport] = [await newTag(app.db), await newTag(app.db), await newTag(app.db)]
  const post = await newPost(app.db, { blogId: desk.id, authorIds: [ann.id], tagIds: [war.id] })
  const bystander = await newPost(app.db, { blogId: elsewhere.id, authorIds: [cy.id], tagIds: [sport.id] })
  await app.changeFollower.catchUp()
  /** The keys purged for a write: every purge request until one names the post. */
  const purgedBy = async (write: () => Promise<unknown>, postId = post.id) => {
    const before = edge.requests.length
    await write()
    t.ok(await until(() => edge.requests.slice(before).some((r) => keysOf(r, 'xkey-purge').includes(`post:${postId}`))), 'purged')
    return [...new Set(edge.requests.slice(before).flatMap((r) => keysOf(r, 'xkey-purge')))].sort()
  }
  const patch = (payload: object) => app.inject({ method: 'PATCH', url: `/v1/posts/${post.id}`, headers: { authorization: `Bearer ${admin}` }, payload })
  const lists = (type: 'blog' | 'author' | 'tag', ...owners: Array<{ id: string }>) => owners.map((owner) => `posts:in:${type}:${owner.id}`)

  t.same(await purgedBy(() => patch({ title: 'Retitled' })), [`post:${post.id}`, 'posts:any', ...lists('blog', desk), ...lists('author', ann), ...lists('tag', war)].sort(),
    'an edit: the post, the lists of every post, and its blog\'s, author\'s and tag\'s lists')
  t.same(await purgedBy(() => patch({ blog: wire.slug, authors: [bo.slug], tags: [oil.slug] })),
    [`post:${post.id}`, 'posts:any', ...lists('blog', desk, wire), ...lists('author', ann, bo), ...lists('tag', war, oil)].sort(),
    'moved to another blog with its byline corrected: the lists it left and the lists it joined')
  t.same(await purgedBy(() => app.inject({ method: 'POST', url: `/v1/posts/${post.id}/unpublish`, headers: { authorization: `Bearer ${admin}` } })),
    [`post:${post.id}`, 'posts:any', ...lists('blog', wire), ...lists('author', bo), ...lists('tag', oil)].sort(), 'unpublished: the lists it was in')
  const scheduled = await newPost(app.db, { blogId: desk.id, authorIds: [ann.id, bo.id], tagIds: [oil.id], status: 'scheduled', publishedAt: new Date(Date.now() - 1_000) })
  t.same(await purgedBy(() => publishScheduledPosts(app.db), scheduled.id),
    [`post:${scheduled.id}`, 'posts:any', ...lists('blog', desk), ...lists('author', ann, bo), ...lists('tag', oil)].sort(), 'published on schedule: the lists it joined')
  const all = edge.requests.flatMap((r) => keysOf(r, 'xkey-purge'))
  t.notOk(all.some((key) => [elsewhere.id, cy.id, sport.id, bystander.id].some((id) => key.includes(id))), 'never the lists of another blog, author or tag')
  t.notOk(all.includes('posts:list'), 'nor every list of posts, which only a blog, author or tag change purges')

  // A row written before the change log named a post's bylines: every list of posts, as before.
  t.same(staleKeysFor({ entity_type: 'post', entity_id: post.id, blog_id: desk.id, author_ids: null, tag_ids: null, left_author_ids: null, left_tag_ids: null }).sort(),
    [`post:${post.id}`, 'posts:any', 'posts:list'].sort(), 'a row without bylines purges every list')

  // A list of the network filtered to owners (`/v1/posts?tag=a,b&author=c`) is theirs alone: of the kinds it names, the fewest.
  t.same(listOwners({ tagIds: ['a', 'b'], authorIds: ['c'] }), [{ type: 'author', id: 'c' }], 'one author rather than two tags')
  t.same(listOwners({ blogIds: ['d'], tagIds: ['e'] }), [{ type: 'blog', id: 'd' }])
  t.same(listOwners({ tagIds: ['a', 'b'] }), [{ type: 'tag', id: 'a' }, { type: 'tag', id: 'b' }], 'a list of either tag: both')
  t.same(listOwners({ blogIds: [], tagIds: undefined }), [], 'none named (or none left): every post\'s list')
  t.same(postListKeys(listOwners({})), ['posts:list', 'posts:any'])
})

async function newestSeq (app: Awaited<ReturnType<typeof buildTestApp>>['app']): Promise<string> {
  const row = await app.db.selectFrom('changes').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  return row?.seq ?? '0'
}

t.test('xkey shape, and a failed purge is sent again', async (t) => {
  const edge = await recordingEdge(t, 503)
  const { app, logs } = await buildTestApp(t, { EDGE_PURGE_URL: edge.url, EDGE_PURGE_TOKEN: 'varnish-secret' })
  await app.ready()
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db)
  await app.changeFollower.catchUp()
  const res = await app.inject({
    method: 'PATCH', url: `/v1/blogs/${blog.slug}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { title: 'Renamed desk' }
  })
  t.equal(res.statusCode, 200)
  t.ok(await until(() => edge.requests.length > 0))
  t.equal(edge.requests[0]!.method, 'PURGE')
  t.equal(edge.requests[0]!.headers.authorization, 'Bearer varnish-secret')
  t.same(keysOf(edge.requests[0]!, 'xkey-purge'), [`blog:${blog.id}`, 'blogs:list', 'posts:list'].sort(), 'the blog, blog lists, and post lists that embed it')
  t.ok(await until(() => logs.some((line) => /edge purge failed/.test(String(line.msg)))), 'the failure is logged')
  edge.setStatus(200)
  const failed = edge.requests.length
  t.ok(await until(() => edge.requests.length > failed), 'sent again at the next heartbeat')
  t.same(keysOf(edge.requests[edge.requests.length - 1]!, 'xkey-purge'), [`blog:${blog.id}`, 'blogs:list', 'posts:list'].sort())
  const admin2 = { authorization: `Bearer ${admin}` }
  const metrics = (await app.inject({ url: '/metrics', headers: admin2 })).body
  t.match(metrics, /edge_purge_requests_total\{result="failed"\} [1-9]/)
  t.match(metrics, /edge_purge_requests_total\{result="sent"\} [1-9]/)
})

t.test('one process purges at a time, by a lease; a lease that runs out is taken over, and its holder moves nothing after', async (t) => {
  const edge = await recordingEdge(t)
  const { app } = await buildTestApp(t, { EDGE_PURGE_URL: edge.url })
  await app.ready()
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db)
  const cursor = async () => (await app.db.selectFrom('change_cursors').select(['seq', 'leased_until']).where('name', '=', 'edge-purge').executeTakeFirstOrThrow())
  // The purges of the writes so far are out, and nobody holds the cursor.
  const settled = async () => {
    const end = await newestSeq(app)
    for (const deadline = Date.now() + 10_000; ;) {
      const now = await cursor()
      if (now.seq === end && now.leased_until === null) return
      if (Date.now() > deadline) throw new Error(`the purge cursor stayed at ${now.seq}, the log's end is ${end}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  await app.changeFollower.catchUp()
  await settled()
  const before = edge.requests.length
  // Another process holds the cursor, sending its purge.
  const other = await leaseCursor(app.db, 'edge-purge', 60_000)
  t.type(other?.seq, 'string', 'the other process takes the cursor (this one leases it only when there is something to purge)')
  t.equal(await leaseCursor(app.db, 'edge-purge', 60_000), undefined, 'and nobody else can meanwhile')
  const edit = await app.inject({ method: 'PATCH', url: `/v1/blogs/${blog.slug}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { title: 'Renamed desk' } })
  t.equal(edit.statusCode, 200)
  t.notOk(await until(() => edge.requests.length > before, 1_500), 'this process sends nothing while the other holds it')

  // The other process died: its lease runs out, and this one purges at its next report.
  await app.db.updateTable('change_cursors').set({ leased_until: new Date(Date.now() - 1_000) }).where('name', '=', 'edge-purge').execute()
  t.ok(await until(() => edge.requests.length > before), 'taken over once the lease ran out')
  t.same(keysOf(edge.requests.at(-1)!, 'xkey-purge'), [`blog:${blog.id}`, 'blogs:list', 'posts:list'].sort())
  await settled()
  const moved = await cursor()
  t.ok(BigInt(moved.seq) > BigInt(other!.seq), 'the cursor moved past the change')
  // The dead process's lease, given back late, moves nothing and frees nothing.
  const current = await leaseCursor(app.db, 'edge-purge', 60_000)
  t.not(current, undefined)
  await releaseCursor(app.db, other!, '999999999')
  t.same(await cursor(), { seq: moved.seq, leased_until: current!.until }, 'the late release changed neither the position nor the live lease')
  await releaseCursor(app.db, current!)
  t.equal((await cursor()).leased_until, null, 'the live lease is given back by its holder')
})

t.test('while the edge takes its time over a purge, the database serves everyone else', async (t) => {
  // An edge that holds each purge request until the test lets it answer.
  const waiting: Array<() => void> = []
  const server = createServer((_req, res) => { waiting.push(() => res.end('{"status":"ok"}')) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const answer of waiting) answer(); return new Promise<void>((resolve) => server.close(() => resolve())) })
  const { app } = await buildTestApp(t, { EDGE_PURGE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/purge` })
  await app.ready()
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db)
  await app.changeFollower.catchUp()
  const edit = await app.inject({ method: 'PATCH', url: `/v1/blogs/${blog.slug}`, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { title: 'Renamed desk' } })
  t.equal(edit.statusCode, 200)
  t.ok(await until(() => waiting.length > 0), 'a purge is at the edge, unanswered')

  // On the embedded database (one connection) a purge sent inside a transaction held every
  // query until the edge answered, up to its 5 s timeout a request.
  const stalled = Symbol('stalled')
  const read = app.inject({ url: `/v1/blogs/${blog.slug}/posts` }).then((res) => res.statusCode)
  const write = app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { blog: blog.slug, title: 'Meanwhile' } }).then((res) => res.statusCode)
  const outcome = await Promise.race([Promise.all([read, write]), new Promise((resolve) => setTimeout(() => resolve(stalled), 3_000))])
  t.same(outcome, [200, 201], 'a read and a write answered while the edge still holds the purge')
  for (const answer of waiting.splice(0)) answer()
  await Promise.all([read, write])
})
