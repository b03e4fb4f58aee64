import t from 'tap'
import { sql } from 'kysely'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// A page's cursor names the last post it holds by its sort time and id. PostgreSQL keeps those
// times to the microsecond, and a publish without a time of its own takes the transaction's
// now(): a cursor that kept milliseconds only (a Date's) made the next page skip every post
// later in the same millisecond than the last one seen, and every post sharing its time with a
// smaller id. Each list below holds such posts and is walked two at a time.

const TIMES = [
  '2026-01-01 12:00:00.123456+00', '2026-01-01 12:00:00.123456+00', '2026-01-01 12:00:00.123456+00',
  '2026-01-01 12:00:00.123457+00', '2026-01-01 12:00:00.123999+00', '2026-01-01 12:00:00.124+00',
  '2026-01-01 12:00:00.122999+00', '2026-01-01 12:00:00+00'
]

t.test('walking a list two posts at a time meets every post once, in the order of one long page', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000' })
  const preview = await newApiKey(app.db, ['content:read', 'content:preview'])
  const blog = await newBlog(app.db, { slug: 'desk' })
  const author = await newAuthor(app.db, { slug: 'ann' })
  const tag = await newTag(app.db, { slug: 'war' })
  for (const [i, time] of TIMES.entries()) {
    const post = await newPost(app.db, { blogId: blog.id, authorIds: [author.id], tagIds: [tag.id], bodyText: 'ceasefire talks resume' })
    await sql`UPDATE posts SET published_at = ${time}::timestamptz WHERE id = ${post.id}`.execute(app.db)
    // Drafts sort by when they were created, to the microsecond as well.
    const draft = await newPost(app.db, { blogId: blog.id, status: 'draft', slug: `draft-${i}` })
    await sql`UPDATE posts SET created_at = ${time}::timestamptz WHERE id = ${draft.id}`.execute(app.db)
  }
  const lists: Array<[string, Record<string, string>]> = [
    ['/v1/posts?', {}],
    ['/v1/posts?sort=published_at&', {}],
    ['/v1/posts?author=ann&', {}],
    ['/v1/posts?tag=war&', {}],
    ['/v1/blogs/desk/posts?', {}],
    ['/v1/posts?q=ceasefire&sort=relevance&', {}],
    ['/v1/posts?status=draft&', { authorization: `Bearer ${preview}` }]
  ]
  for (const [list, headers] of lists) {
    const whole = await app.inject({ url: `${list}limit=100`, headers })
    t.equal(whole.statusCode, 200, `${list}limit=100`)
    const expected = (whole.json().data as Array<{ id: string }>).map((post) => post.id)
    t.equal(expected.length, TIMES.length, `${list} lists every post`)
    const walked: string[] = []
    let url: string | undefined = `${list}limit=2`
    for (let pages = 0; url !== undefined && pages < 20; pages++) {
      const res = await app.inject({ url, headers })
      t.equal(res.statusCode, 200, url)
      const body = res.json() as { data: Array<{ id: string }>, meta: { next_cursor: string | null } }
      walked.push(...body.data.map((post) => post.id))
      url = body.meta.next_cursor === null ? undefined : `${list}limit=2&cursor=${body.meta.next_cursor}`
    }
    t.same(walked, expected, `${list} walked two at a time`)
  }
})
