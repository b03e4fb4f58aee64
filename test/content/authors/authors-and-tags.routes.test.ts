import t from 'tap'
import { buildTestApp } from '../../helpers/test-app.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { nextSecond } from '../../helpers/clock.ts'

for (const kind of ['authors', 'tags'] as const) {
  const make = kind === 'authors' ? newAuthor : newTag
  const link = (postIds: { authorIds?: string[], tagIds?: string[] }, id: string) =>
    kind === 'authors' ? { ...postIds, authorIds: [id] } : { ...postIds, tagIds: [id] }

  t.test(`${kind}: list pages in slug order; one by id or slug with the time of its latest public post`, async (t) => {
    const { app } = await buildTestApp(t)
    const blog = await newBlog(app.db)
    const names = ['delta', 'alpha', 'charlie', 'bravo', 'echo']
    const made = []
    for (const slug of names) made.push(await make(app.db, { slug }))
    const alpha = made[1]!
    await newPost(app.db, { blogId: blog.id, publishedAt: '2024-03-01T10:00:00Z', ...link({}, alpha.id) })
    await newPost(app.db, { blogId: blog.id, publishedAt: '2024-04-01T10:00:00Z', status: 'draft', ...link({}, alpha.id) })
    await newPost(app.db, { blogId: blog.id, publishedAt: '2024-05-01T10:00:00Z', deletedAt: new Date(), ...link({}, alpha.id) })

    const first = (await app.inject({ url: `/v1/${kind}?limit=2` })).json()
    t.same(first.data.map((x: { slug: string }) => x.slug), ['alpha', 'bravo'])
    const rest = (await app.inject({ url: `/v1/${kind}?limit=10&cursor=${first.meta.next_cursor}` })).json()
    t.same(rest.data.map((x: { slug: string }) => x.slug), ['charlie', 'delta', 'echo'])
    t.equal(rest.meta.next_cursor, null)

    for (const key of [alpha.id, 'alpha']) {
      const res = await app.inject({ url: `/v1/${kind}/${key}` })
      t.equal(res.statusCode, 200)
      const data = res.json().data
      t.equal(data.id, alpha.id)
      t.equal(data.latest_post_at, '2024-03-01T10:00:00.000Z', 'drafts and deleted posts do not count')
      t.match(res.headers['surrogate-key'], `${kind === 'authors' ? 'author' : 'tag'}:${alpha.id}`)
    }
    t.equal((await app.inject({ url: `/v1/${kind}/bravo` })).json().data.latest_post_at, null)

    for (const key of ['nobody', '01900000-0000-7000-8000-000000000000', 'Bad Slug']) {
      const res = await app.inject({ url: `/v1/${kind}/${encodeURIComponent(key)}` })
      t.equal(res.statusCode, 404, key)
      t.equal(res.headers['content-type'], 'application/problem+json')
    }
    for (const query of ['limit=0', 'cursor=xyz', 'extra=1']) {
      t.equal((await app.inject({ url: `/v1/${kind}?${query}` })).statusCode, 400, query)
    }
    // A cursor of the other list is refused.
    const blogsCursor = Buffer.from('[1,"blogs","alpha"]').toString('base64url')
    t.equal((await app.inject({ url: `/v1/${kind}?cursor=${blogsCursor}` })).statusCode, 400)

    await app.db.insertInto('slug_redirects').values({ entity_type: kind === 'authors' ? 'author' : 'tag', scope_id: null, old_slug: 'old-alpha', target_id: alpha.id }).execute()
    const moved = await app.inject({ url: `/v1/${kind}/old-alpha/posts?limit=3` })
    t.equal(moved.statusCode, 308)
    t.equal(moved.headers.location, `/v1/${kind}/alpha/posts?limit=3`)
    t.equal((await app.inject({ url: `/v1/${kind}/old-alpha` })).headers.location, `/v1/${kind}/alpha`)
  })

  t.test(`${kind}: one ${kind.slice(0, -1)} has a Last-Modified that moves when its latest post does, and not with another's`, async (t) => {
    const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
    const blog = await newBlog(app.db)
    const one = await make(app.db, { slug: 'one' })
    const two = await make(app.db, { slug: 'two' })
    const post = await newPost(app.db, { blogId: blog.id, publishedAt: '2024-03-01T10:00:00Z', ...link({}, one.id) })
    await newPost(app.db, { blogId: blog.id, publishedAt: '2024-03-01T09:00:00Z', ...link({}, two.id) })
    await nextSecond()
    const other = (await app.inject({ url: `/v1/${kind}/two` })).headers['last-modified'] as string
    const first = await app.inject({ url: `/v1/${kind}/one` })
    const lastModified = first.headers['last-modified'] as string
    t.ok(lastModified !== undefined && !Number.isNaN(Date.parse(lastModified)), `Last-Modified: ${lastModified}`)
    t.equal((await app.inject({ url: `/v1/${kind}/one`, headers: { 'if-modified-since': lastModified } })).statusCode, 304)

    // HTTP dates have whole seconds: let the clock pass one before the post changes.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const key = await newApiKey(app.db, ['content:write'])
    const unpublished = await app.inject({ method: 'POST', url: `/v1/posts/${post.id}/unpublish`, headers: { authorization: `Bearer ${key}` } })
    t.equal(unpublished.statusCode, 200)
    await nextSecond()
    const after = await app.inject({ url: `/v1/${kind}/one`, headers: { 'if-modified-since': lastModified } })
    t.equal(after.statusCode, 200, 'an unpublish changes latest_post_at, so the old date no longer validates')
    t.equal(after.json().data.latest_post_at, null)
    t.ok(Date.parse(after.headers['last-modified'] as string) > Date.parse(lastModified), 'Last-Modified moved forward')
    // Its responses are purged by changes to its own posts alone (surrogate-keys.ts), so a copy a
    // cache kept through the unpublish must still be what a fresh one says.
    const untouched = await app.inject({ url: `/v1/${kind}/two`, headers: { 'if-modified-since': other } })
    t.equal(untouched.headers['last-modified'], other, `another ${kind.slice(0, -1)}'s Last-Modified did not move`)
    t.equal(untouched.statusCode, 304)
  })
}
