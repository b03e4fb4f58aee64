import { sql } from 'kysely'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Ghost's posts pages carry the exact total; a process keeps the totals it counted per site and
// filter until the next change it hears of, and one scheduler interval at most (ghost.routes.ts).
// A post inserted straight in SQL is a change no process hears of: it shows when a total was
// counted afresh, and not while one was kept.

interface GhostPage { posts: unknown[], meta: { pagination: { total: number, pages: number } } }

t.test('Ghost page totals are kept until a change, per site and filter, and no longer', async (t) => {
  // A long scheduler interval, so only a change (or its end) can drop a kept total here.
  const { app } = await buildTestApp(t, { SCHEDULER_INTERVAL_MS: '600000', RESPONSE_CACHE_MAX_MB: '0' })
  const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  const blog = await newBlog(app.db, { slug: 'desk' })
  const other = await newBlog(app.db, { slug: 'wire' })
  for (let i = 0; i < 5; i++) await newPost(app.db, { blogId: i < 3 ? blog.id : other.id, slug: `story-${i}`, status: 'published' })
  const total = async (path: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ url: `${path}${path.includes('?') ? '&' : '?'}key=${key}&limit=2`, headers })
    t.equal(res.statusCode, 200, res.body)
    return (res.json() as GhostPage).meta.pagination.total
  }
  t.equal(await total('/ghost/api/content/posts/'), 5)
  t.equal(await total('/sites/desk/ghost/api/content/posts/'), 3)
  t.equal(await total('/ghost/api/content/posts/?filter=featured:false'), 5)

  // Unheard of: the kept totals stand, on any page.
  await sql`INSERT INTO posts (id, blog_id, slug, title, status, published_at) VALUES (gen_random_uuid(), ${blog.id}, 'unheard', 'Unheard', 'published', now())`.execute(app.db)
  t.equal(await total('/ghost/api/content/posts/?page=2'), 5, 'page 2 takes the kept total')
  t.equal(await total('/sites/desk/ghost/api/content/posts/?page=2'), 3, 'so does the site\'s')
  t.equal(await total('/ghost/api/content/posts/?filter=featured:true'), 0, 'another filter counts its own: no featured post')
  t.equal(await total('/ghost/api/content/posts/', { 'content-api-read-after': '0/0' }), 6, 'a read after a write counts afresh')

  // A change this process hears of drops them all: a publish through the API.
  const admin = (await createApiKey(app.db, 'desk', ['admin'])).key
  const published = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${admin}` }, payload: { blog: 'wire', title: 'Heard', body_markdown: 'News.', status: 'published' } })
  t.equal(published.statusCode, 201, published.body)
  await app.changeFollower.catchUp()
  t.equal(await total('/ghost/api/content/posts/?page=3'), 7, 'counted afresh after the change: the unheard post and the new one')
  t.equal(await total('/sites/desk/ghost/api/content/posts/'), 4)
  t.equal(await total('/ghost/api/content/posts/?filter=featured:false'), 7)
})

t.test('a kept total lasts one scheduler interval at most', async (t) => {
  const { app } = await buildTestApp(t, { SCHEDULER_INTERVAL_MS: '200', RESPONSE_CACHE_MAX_MB: '0' })
  const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  const blog = await newBlog(app.db, { slug: 'desk' })
  await newPost(app.db, { blogId: blog.id, slug: 'first', status: 'published' })
  const total = async () => ((await app.inject({ url: `/ghost/api/content/posts/?key=${key}` })).json() as GhostPage).meta.pagination.total
  t.equal(await total(), 1)
  // A scheduled post's time comes without a write; the scheduler (not running here) would say so.
  await sql`INSERT INTO posts (id, blog_id, slug, title, status, published_at) VALUES (gen_random_uuid(), ${blog.id}, 'due', 'Due', 'scheduled', now())`.execute(app.db)
  t.equal(await total(), 1, 'kept within the interval')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await total(), 2, 'counted afresh after it')
})
