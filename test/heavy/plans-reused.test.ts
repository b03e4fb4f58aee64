import { sql } from 'kysely'
import pino from 'pino'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { publiclyVisible } from '../../src/content/posts/posts.repository.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { createPlansDatabase, POSTS } from '../helpers/plans-dataset.ts'
import { testServerUrl } from '../helpers/test-database.ts'

// A read's statement is sent named (db/named-statements.ts) so that PostgreSQL plans it once per
// connection: after five plans made for the values it weighs a generic plan, and keeps it when
// it costs no more than those did. A parameter the planner needs the value of (a LIMIT, a flag
// few rows have, the length of an array) makes the generic plan look dearer, and then every
// execution is planned again, for longer than it runs (a single post: 1.1 ms of planning,
// 0.1-0.6 ms of running). Here every public read route runs ten times with changing values on a
// pool of one connection, whose prepared statements then say how each was planned.

const ROUNDS = 10

interface PreparedStatement { statement: string, generic_plans: string, custom_plans: string }

/**
 * Where the value decides the plan, a plan is made for it each time, by design: how far an OFFSET
 * skips (a Ghost client's deeper pages), and a bound on publication time (how many posts are left
 * before it). Every other named statement must keep one plan.
 */
const PLANNED_FOR_ITS_VALUES = [/ offset \$\d+/, /"p"\."published_at" [<>] \$\d+/]

const skip = testServerUrl() === undefined && 'PostgreSQL only: the embedded database keeps no named statements per connection'

t.test(`every named read statement keeps one plan at ${POSTS.toLocaleString('en')} posts`, { skip }, async (t) => {
  const testDb = await createPlansDatabase()
  t.teardown(() => testDb.destroy())
  // One connection: pg_prepared_statements shows the statements of its own session only.
  const database = openPostgres({ url: testDb.url as string, poolSize: 1 })
  t.teardown(() => database.close())
  const config = loadConfig({ PUBLIC_BASE_URL: 'http://api.test', RESPONSE_CACHE_MAX_MB: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_ANONYMOUS: '100000' })
  const app = await buildApp({ config, database, logger: pino({ level: 'silent' }), backgroundJobs: false })
  t.teardown(() => app.close())
  const { key: ghostKey } = await createApiKey(app.db, 'plans', ['content:read'], 'ghost')

  const { rows: posts } = await sql<{ id: string, slug: string, blog: string }>`
    SELECT p.id, p.slug, b.slug AS blog FROM posts p JOIN blogs b ON b.id = p.blog_id WHERE ${publiclyVisible()}
    ORDER BY hashtext(p.slug) LIMIT ${ROUNDS}`.execute(database.db)
  t.equal(posts.length, ROUNDS)

  const urls = (i: number): string[] => {
    const post = posts[i]!
    const blog = `blog-${i + 1}`
    const author = `author-${i + 1}`
    const tag = `tag-${i + 1}`
    const ghost = (path: string) => `${path}${path.includes('?') ? '&' : '?'}key=${ghostKey}`
    return [
      `/v1/blogs/${post.blog}/posts/${post.slug}`,
      `/v1/posts/${post.id}`,
      `/v1/posts/${post.id}/news-article`,
      '/v1/posts?limit=20',
      `/v1/posts?blog=${blog}`,
      `/v1/posts?author=${author}`,
      `/v1/posts?tag=${tag}`,
      '/v1/posts?language=fr',
      '/v1/posts?is_breaking=true',
      '/v1/posts?is_featured=false',
      `/v1/posts?published_before=${new Date(Date.now() - (i + 1) * 86_400_000).toISOString()}`,
      '/v1/posts?sort=published_at',
      `/v1/blogs/${blog}/posts`,
      `/v1/authors/${author}/posts`,
      `/v1/tags/${tag}/posts`,
      '/v1/feeds/latest',
      '/v1/feeds/latest?format=rss',
      '/v1/feeds/breaking',
      `/v1/blogs/${blog}/feed`,
      `/v1/authors/${author}/feed?format=atom`,
      `/v1/tags/${tag}/feed?format=jsonfeed`,
      '/v1/blogs',
      `/v1/blogs/${blog}`,
      '/v1/authors',
      `/v1/authors/${author}`,
      '/v1/tags',
      `/v1/tags/${tag}`,
      '/v1/sitemap.xml',
      '/v1/news-sitemap.xml',
      `/v1/blogs/${blog}/sitemap.xml`,
      `/v1/blogs/${blog}/news-sitemap.xml`,
      '/v1/changes',
      ghost('/ghost/api/content/posts/'),
      ghost(`/ghost/api/content/posts/?page=${i + 2}`),
      ghost(`/ghost/api/content/posts/${post.id}/`),
      ghost(`/ghost/api/content/posts/slug/${post.slug}/`),
      ghost('/ghost/api/content/authors/'),
      ghost(`/ghost/api/content/authors/slug/${author}/`),
      ghost('/ghost/api/content/tags/'),
      ghost(`/ghost/api/content/tags/slug/${tag}/`),
      ghost('/ghost/api/content/settings/')
    ]
  }
  const failed: string[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (const url of urls(i)) {
      const res = await app.inject({ url })
      if (res.statusCode !== 200) failed.push(`${url}: ${res.statusCode}`)
    }
  }
  t.same(failed, [], 'every read answered 200')

  const { rows } = await sql<PreparedStatement>`
    SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE NOT from_sql`.execute(database.db)
  const executed = rows.map((row) => ({ ...row, generic: Number(row.generic_plans), custom: Number(row.custom_plans) }))
  // Statements the routes ran ten times or more (a page's walk runs more than one each).
  const repeated = executed.filter((row) => row.generic + row.custom >= ROUNDS)
  t.ok(repeated.length >= 30, `${repeated.length} named statements ran ${ROUNDS} times or more (of ${executed.length})`)
  for (const row of repeated) {
    const statement = row.statement.replace(/\s+/g, ' ')
    const excerpt = statement.replace(/^select .*? from /, 'select ... from ').slice(0, 240)
    if (PLANNED_FOR_ITS_VALUES.some((pattern) => pattern.test(statement))) {
      t.comment(`planned for its values (${row.custom} plans): ${excerpt}`)
      continue
    }
    // Five plans for the values come first, by PostgreSQL's rule; every later one is the generic plan.
    t.ok(row.custom <= 5, `planned once, then reused (${row.generic} generic plans, ${row.custom} made for the values): ${excerpt}`, { statement })
  }
})
