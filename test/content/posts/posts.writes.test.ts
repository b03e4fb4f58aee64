import t from 'tap'
import { setUpWriter, tableCounts } from '../../helpers/post-writes.ts'

t.test('a post goes from draft to published to deleted, visible to the public only while published', async (t) => {
  const { app, send } = await setUpWriter(t)
  const created = await send('POST', '/v1/posts', {
    blog: 'desk', title: "Kerry & Lavrov: What's Next?", body_markdown: 'First *paragraph*.\n\nSecond one.', authors: ['ann'], tags: ['world'],
    lead_image: { url: 'https://img.example/a.jpg', alt: 'Two men', caption: 'In Paris', width: 800, height: 450 }
  })
  t.equal(created.statusCode, 201)
  const post = created.json().data
  t.equal(created.headers.location, `/v1/posts/${post.id}`)
  t.equal(created.headers.etag, '"v1"')
  t.match(post, {
    slug: 'kerry-lavrov-whats-next', status: 'draft', published_at: null, word_count: 4,
    body_html: '<p>First <em>paragraph</em>.</p>\n<p>Second one.</p>',
    lead_image: { url: 'https://img.example/a.jpg', alt: 'Two men', caption: 'In Paris', credit: null, width: 800, height: 450 },
    authors: [{ slug: 'ann' }], tags: [{ slug: 'world' }]
  })
  t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 404, 'a draft is not public')

  const published = await send('POST', `/v1/posts/${post.id}/publish`, undefined, { 'if-match': '"v1"' })
  t.equal(published.statusCode, 200)
  t.equal(published.json().data.status, 'published')
  t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 200)
  t.same((await app.inject({ url: '/v1/tags/world/posts' })).json().data.map((p: { id: string }) => p.id), [post.id])

  const deleted = await send('DELETE', `/v1/posts/${post.id}`)
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  for (const url of [`/v1/posts/${post.id}`, `/v1/blogs/desk/posts/${post.slug}`]) t.equal((await app.inject({ url })).statusCode, 404, url)
  for (const url of ['/v1/posts', '/v1/blogs/desk/posts', '/v1/authors/ann/posts', '/v1/tags/world/posts', '/v1/posts?q=paragraph']) {
    t.same((await app.inject({ url })).json().data, [], `${url} no longer lists it`)
  }
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'Back?' })).statusCode, 404, 'a deleted post cannot be edited')
  const row = await app.db.selectFrom('posts').select(['deleted_at']).where('id', '=', post.id).executeTakeFirstOrThrow()
  t.ok(row.deleted_at, 'the row stays as a tombstone')

  const log = await app.db.selectFrom('changes').select(['op', 'public_op']).where('entity_id', '=', post.id).orderBy('seq').execute()
  t.same(log, [{ op: 'upsert', public_op: null }, { op: 'upsert', public_op: 'upsert' }, { op: 'delete', public_op: 'delete' }])
})

t.test('scheduling: a post published for later appears by itself at its time', async (t) => {
  const { app, send } = await setUpWriter(t)
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Later' })).json().data
  const soon = new Date(Date.now() + 1500).toISOString()
  const scheduled = await send('POST', `/v1/posts/${post.id}/publish`, { at: soon })
  t.equal(scheduled.json().data.status, 'scheduled')
  t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 404, 'not yet')
  await new Promise((resolve) => setTimeout(resolve, 1700))
  const now = await app.inject({ url: `/v1/posts/${post.id}` })
  t.equal(now.statusCode, 200, 'there, with no job having run')
  t.equal(now.json().data.status, 'published')
  const unpublished = await send('POST', `/v1/posts/${post.id}/unpublish`)
  t.equal(unpublished.json().data.status, 'draft')
  t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 404)
  const direct = await send('POST', '/v1/posts', { blog: 'desk', title: 'Straight out', status: 'published', published_at: '2020-02-02T02:02:02Z' })
  t.match(direct.json().data, { status: 'published', published_at: '2020-02-02T02:02:02.000Z' })
})

t.test('unknown authors or tags: 422 naming each, and nothing written at all', async (t) => {
  const { app, send } = await setUpWriter(t)
  const before = await tableCounts(app)
  const res = await send('POST', '/v1/posts', { blog: 'desk', title: 'Orphan', authors: ['ann', 'ghost'], tags: ['world', 'nope', '01900000-0000-7000-8000-000000000000'] })
  t.equal(res.statusCode, 422)
  t.same(res.json().errors.map((e: { path: string }) => e.path), ['body.authors.1', 'body.tags.1', 'body.tags.2'])
  t.same(await tableCounts(app), before, 'no post, no bylines, no tags, no change row')
  const badBlog = await send('POST', '/v1/posts', { blog: 'nowhere', title: 'Orphan' })
  t.equal(badBlog.statusCode, 422)
  t.same(badBlog.json().errors, [{ path: 'body.blog', message: 'no blog "nowhere"' }])

  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Real', authors: ['ann'] })).json().data
  const mid = await tableCounts(app)
  const edit = await send('PATCH', `/v1/posts/${post.id}`, { title: 'Renamed', slug: 'renamed', authors: ['ghost'] })
  t.equal(edit.statusCode, 422)
  t.same(await tableCounts(app), mid, 'a failed edit changes nothing either')
  const still = (await send('GET', `/v1/posts/${post.id}`)).json().data
  t.match(still, { title: 'Real', slug: 'real', authors: [{ slug: 'ann' }] })
})

t.test('bodies are strict and bounded', async (t) => {
  const { send, app, writer } = await setUpWriter(t)
  const before = await tableCounts(app)
  const cases: Array<[unknown, string]> = [
    [{ blog: 'desk', title: 'x', surprise: 1 }, 'body.surprise'],
    [{ blog: 'desk' }, 'body.title'],
    [{ blog: 'desk', title: '' }, 'body.title'],
    [{ blog: 'desk', title: 'x'.repeat(301) }, 'body.title'],
    [{ blog: 'desk', title: 'x', slug: 'Not A Slug' }, 'body.slug'],
    [{ blog: 'desk', title: 'x', body_html: '<p>a</p>', body_markdown: 'a' }, 'body.body_markdown'],
    [{ blog: 'desk', title: 'x', lead_image: { url: 'javascript:alert(1)' } }, 'body.lead_image.url'],
    [{ blog: 'desk', title: 'x', lead_image: { url: 'https://a.b/c.jpg', width: -1 } }, 'body.lead_image.width'],
    [{ blog: 'desk', title: 'x', is_breaking: 'yes' }, 'body.is_breaking'],
    [{ blog: 'desk', title: 'x', authors: 'ann' }, 'body.authors'],
    [{ blog: 'desk', title: 'x', status: 'archived' }, 'body.status'],
    [{ blog: 'desk', title: 'x', published_at: 'tomorrow' }, 'body.published_at'],
    [{ blog: 'desk', title: 'x', language: 'English' }, 'body.language']
  ]
  for (const [payload, path] of cases) {
    const res = await send('POST', '/v1/posts', payload)
    t.equal(res.statusCode, 400, path)
    t.ok(res.json().errors?.some((e: { path: string }) => e.path === path || e.path.startsWith(`${path}.`)), `${path}: ${res.body.slice(0, 250)}`)
  }
  const notJson = await send('POST', '/v1/posts', undefined, { 'content-type': 'application/json' })
  t.equal(notJson.statusCode, 400)
  const proto = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: '{"blog":"desk","title":"x","__proto__":{"polluted":true}}' })
  t.equal(proto.statusCode, 400, '__proto__ keys are refused by the JSON parser')
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  const raw = await send('POST', '/v1/posts', undefined, { 'content-type': 'application/json' })
  const broken = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: '{"blog": "desk", "title": ' })
  t.equal(broken.statusCode, 400, 'broken JSON')
  t.equal(raw.statusCode, 400, 'broken JSON')
  t.equal(raw.headers['content-type'], 'application/problem+json')
  const text = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415)
  t.equal((await send('PATCH', '/v1/blogs/desk', {})).statusCode, 400, 'an empty PATCH says so')
  t.same(await tableCounts(app), before)
})

t.test('If-Match: a stale version is a 412; of two concurrent edits with the same version exactly one wins', async (t) => {
  const { send } = await setUpWriter(t)
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Contested' })).json().data
  const results = await Promise.all(['A', 'B', 'C', 'D'].map((who) =>
    send('PATCH', `/v1/posts/${post.id}`, { title: `Edited by ${who}` }, { 'if-match': '"v1"' })))
  const statuses = results.map((r) => r.statusCode).sort()
  t.same(statuses, [200, 412, 412, 412], 'one winner')
  const winner = results.find((r) => r.statusCode === 200)!
  t.equal(winner.headers.etag, '"v2"')
  const current = (await send('GET', `/v1/posts/${post.id}`)).json().data
  t.equal(current.title, winner.json().data.title)
  const loser = results.find((r) => r.statusCode === 412)!
  t.match(loser.json(), { code: 'precondition_failed', detail: /version 2/ })

  // The ETag of a GET works as If-Match too, and a malformed one is a 400.
  const fetched = await send('GET', `/v1/posts/${post.id}`)
  t.match(fetched.headers.etag, /^"v2-/)
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'With GET etag' }, { 'if-match': fetched.headers.etag as string })).statusCode, 200)
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'Stale' }, { 'if-match': fetched.headers.etag as string })).statusCode, 412)
  t.equal((await send('PATCH', `/v1/posts/${post.id}`, { title: 'Bad' }, { 'if-match': 'garbage' })).statusCode, 400)
  t.equal((await send('DELETE', `/v1/posts/${post.id}`, undefined, { 'if-match': '"v1"' })).statusCode, 412)
  t.equal((await send('PATCH', '/v1/blogs/desk', { title: 'Desk' }, { 'if-match': '"v9"' })).statusCode, 412)
})

t.test('Idempotency-Key: a retry gets the first response and writes nothing; another body is a 422', async (t) => {
  const { app, send } = await setUpWriter(t)
  const body = { blog: 'desk', title: 'Once only' }
  const first = await send('POST', '/v1/posts', body, { 'idempotency-key': 'order-42' })
  t.equal(first.statusCode, 201)
  const afterFirst = await tableCounts(app)
  const retries = await Promise.all([1, 2, 3].map(() => send('POST', '/v1/posts', body, { 'idempotency-key': 'order-42' })))
  for (const retry of retries) {
    t.equal(retry.statusCode, 201)
    t.same(retry.json(), first.json())
    t.equal(retry.headers.location, first.headers.location)
    t.equal(retry.headers['idempotent-replayed'], 'true')
  }
  t.same(await tableCounts(app), afterFirst, 'nothing new written')
  const other = await send('POST', '/v1/posts', { ...body, title: 'Something else' }, { 'idempotency-key': 'order-42' })
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'idempotency_key_reused')
  // A failed request stores nothing: the same key can be used again once it is fixed.
  t.equal((await send('POST', '/v1/posts', { blog: 'ghost-blog', title: 'x' }, { 'idempotency-key': 'fix-me' })).statusCode, 422)
  t.equal((await send('POST', '/v1/posts', { blog: 'desk', title: 'Fixed' }, { 'idempotency-key': 'fix-me' })).statusCode, 201)
  t.equal((await send('POST', '/v1/posts', body, { 'idempotency-key': 'x'.repeat(300) })).statusCode, 400)
  // Concurrent concurrent first attempts with one key: one post.
  const racing = await Promise.all([1, 2, 3, 4].map(() => send('POST', '/v1/blogs', { title: 'Raced' }, { 'idempotency-key': 'race' })))
  t.same(new Set(racing.map((r) => r.json().data.id)).size, 1)
  t.equal((await app.db.selectFrom('blogs').select('id').where('title', '=', 'Raced').execute()).length, 1)
})

t.test('slugs: derived and kept unique, a rename keeps the old URL working', async (t) => {
  const { app, send } = await setUpWriter(t)
  const a = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Same Title', status: 'published' })).json().data
  const b = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Same Title', status: 'published' })).json().data
  t.same([a.slug, b.slug], ['same-title', 'same-title-2'])
  t.equal((await send('POST', '/v1/posts', { blog: 'desk', title: 'x', slug: 'same-title' })).statusCode, 409)
  t.equal((await send('PATCH', `/v1/posts/${b.id}`, { slug: 'same-title' })).statusCode, 409)
  const renamed = await send('PATCH', `/v1/posts/${a.id}`, { slug: 'better-title' })
  t.equal(renamed.json().data.slug, 'better-title')
  const old = await app.inject({ url: '/v1/blogs/desk/posts/same-title' })
  t.equal(old.statusCode, 308)
  t.equal(old.headers.location, '/v1/blogs/desk/posts/better-title')
  // Renaming back removes the redirect that would now shadow the live post.
  await send('PATCH', `/v1/posts/${a.id}`, { slug: 'same-title' })
  t.equal((await app.inject({ url: '/v1/blogs/desk/posts/same-title' })).statusCode, 200)
  t.equal((await app.inject({ url: '/v1/blogs/desk/posts/better-title' })).headers.location, '/v1/blogs/desk/posts/same-title')

  // Moved to another blog: the old address leads to the new blog's URL.
  const elsewhere = (await send('POST', '/v1/blogs', { title: 'Elsewhere' })).json().data
  t.equal((await send('PATCH', `/v1/posts/${b.id}`, { blog: elsewhere.slug })).statusCode, 200)
  const moved = await app.inject({ url: '/v1/blogs/desk/posts/same-title-2?include=authors' })
  t.equal(moved.statusCode, 308)
  t.equal(moved.headers.location, '/v1/blogs/elsewhere/posts/same-title-2?include=authors')
  t.equal((await app.inject({ url: moved.headers.location as string })).statusCode, 200)

  const blog = await send('PATCH', '/v1/blogs/desk', { slug: 'the-desk', title: 'The Desk' })
  t.equal(blog.statusCode, 200)
  t.equal((await app.inject({ url: '/v1/blogs/desk' })).headers.location, '/v1/blogs/the-desk')
})

t.test('blogs, authors and tags: create, edit, and delete only when their posts are taken care of', async (t) => {
  const { app, send } = await setUpWriter(t)
  const other = (await send('POST', '/v1/blogs', { title: 'Other Desk', description: 'About', language: 'en-GB' })).json().data
  t.match(other, { slug: 'other-desk', description: 'About', language: 'en-GB' })
  const bob = (await send('POST', '/v1/authors', { name: 'Bob B.', links: [{ label: 'Site', url: 'https://bob.example' }] })).json().data
  t.match(bob, { slug: 'bob-b', links: [{ label: 'Site', url: 'https://bob.example' }], avatar_url: null })
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Shared', authors: ['ann', 'bob-b'], tags: ['world'], status: 'published' })).json().data

  const blocked = await send('DELETE', '/v1/blogs/desk')
  t.equal(blocked.statusCode, 409)
  t.match(blocked.json().detail, /1 post/)
  t.equal((await send('DELETE', '/v1/blogs/desk?move_posts_to=nowhere')).statusCode, 422)
  t.equal((await send('DELETE', `/v1/blogs/desk?move_posts_to=${other.id}`)).statusCode, 204)
  t.equal((await app.inject({ url: '/v1/blogs/other-desk/posts/shared' })).statusCode, 200, 'the post moved')
  t.equal((await app.inject({ url: '/v1/blogs/desk' })).statusCode, 404)

  t.equal((await send('DELETE', '/v1/authors/ann')).statusCode, 409)
  t.equal((await send('DELETE', '/v1/authors/ann?reassign_posts_to=bob-b')).statusCode, 204)
  t.same((await app.inject({ url: `/v1/posts/${post.id}` })).json().data.authors.map((a: { slug: string }) => a.slug), ['bob-b'])
  t.equal((await send('DELETE', '/v1/authors/bob-b?remove_from_posts=true')).statusCode, 204)
  t.same((await app.inject({ url: `/v1/posts/${post.id}` })).json().data.authors, [])

  t.equal((await send('DELETE', '/v1/tags/world')).statusCode, 204, 'a tag goes, its posts stay')
  t.same((await app.inject({ url: `/v1/posts/${post.id}` })).json().data.tags, [])
  t.equal((await send('DELETE', '/v1/blogs/other-desk?delete_posts=true')).statusCode, 204)
  t.equal((await app.inject({ url: `/v1/posts/${post.id}` })).statusCode, 404)
  const log = await app.db.selectFrom('changes').select(['entity_type', 'op', 'public_op']).where('entity_id', '=', post.id).orderBy('seq').execute()
  t.same(log.at(-1), { entity_type: 'post', op: 'delete', public_op: 'delete' })
})

// Payloads from the OWASP XSS filter evasion cheat sheet and friends. After sanitizing, none
// may leave a script, an event handler, a javascript: URL, a style or an unknown embed.
t.test('If-Match follows RFC 9110: any tag of a list may match, * matches what exists, comparison is strong, and only a malformed header is a 400', async (t) => {
  const { send } = await setUpWriter(t)
  const post = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Conditional' })).json().data as { id: string }
  const patch = (ifMatch: string, title: string) => send('PATCH', `/v1/posts/${post.id}`, { title }, { 'if-match': ifMatch })
  t.equal((await patch('"v9", "v1"', 'list')).statusCode, 200, 'a list matches when any of its tags does (now at v2)')
  t.equal((await patch('W/"v2"', 'weak')).statusCode, 412, 'a weak tag never matches: strong comparison')
  t.equal((await patch('W/"v2", W/"v3"', 'weak list')).statusCode, 412)
  t.equal((await patch('"abc"', 'foreign')).statusCode, 412, 'a well-formed tag this API never issued matches nothing')
  t.equal((await patch('"v1"', 'stale')).statusCode, 412, 'a stale version')
  t.equal((await patch('*', 'star')).statusCode, 200, '* matches the existing post (now at v3)')
  t.equal((await patch('"a,b", "v3-anything"', 'comma inside a tag')).statusCode, 200, 'commas inside a quoted tag do not split it')
  for (const bad of ['garbage', 'v4', '"v4', '"v4" "v5"', 'W/v4', '""x', ',']) {
    const res = await patch(bad, 'malformed')
    t.equal(res.statusCode, 400, `malformed: ${bad}`)
    t.match(res.json(), { code: 'invalid_if_match', errors: [{ path: 'headers.if-match' }] })
  }
  t.equal((await send('DELETE', `/v1/blogs/desk`, undefined, { 'if-match': 'W/"v1"' })).statusCode, 412, 'blogs, authors and tags follow the same rule')
  t.equal((await send('PATCH', `/v1/blogs/desk`, { title: 'Desk' }, { 'if-match': '"v7", "v1"' })).statusCode, 200)
})
