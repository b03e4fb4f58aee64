import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { CompiledQuery } from 'kysely'
import t from 'tap'
import { ghostPostsQueries, postOrder } from '../../src/compat/ghost/ghost.repository.ts'
import { openDatabase } from '../../src/db/database.ts'
import { migrateToLatest } from '../../src/db/migrator.ts'
import { plannedRows } from '../../src/db/planner-statistics.ts'
import { newApiKey, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp, type TestApp } from '../helpers/test-app.ts'
import type { TestDatabase } from '../helpers/test-database.ts'

// The embedded database has no autovacuum, so nothing refreshed the planner's statistics: they
// stayed those of the migrations' empty tables, and Ghost's filter on a tag no post has was
// planned as a walk of every post for each post. On the embedded database the API analyzes
// after enough writes itself (syndication/planner-statistics.plugin.ts). Judged by the plan's
// work (rows each node produced, times its loops: EXPLAIN ANALYZE), not by time.

const POSTS = 200 // with fewer the stale plan is not the quadratic one
const MORE = 100
// autovacuum's threshold, which the job keeps too: writes since the last ANALYZE it lets pass.
const threshold = (rows: number) => 50 + 0.1 * rows

/** Rows the plan's nodes produced in all, each node's rows times its loops. */
function rowsWorked (plan: Record<string, unknown>): number {
  const own = Number(plan['Actual Rows'] ?? 0) * Number(plan['Actual Loops'] ?? 1)
  const children = (plan.Plans as Array<Record<string, unknown>> | undefined) ?? []
  return own + children.reduce((sum, child) => sum + rowsWorked(child), 0)
}

t.test('on the embedded database the planner\'s statistics follow the writes, so a tag filter is not planned for empty tables', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'planner-statistics-'))
  const database = await openDatabase({ kind: 'embedded', dataDir: dir })
  await migrateToLatest(database.db)
  t.teardown(async () => {
    await database.close()
    await rm(dir, { recursive: true, force: true })
  })
  const testDb: TestDatabase = { database, url: undefined, simulateOutage: async () => {}, destroy: async () => {} }
  const env = { RATE_LIMIT_WRITE: '1000000' }

  /** Posts through the API, as editors write them: each write is in the change log the job counts. */
  const writePosts = async (app: TestApp['app'], from: number, count: number) => {
    const key = await newApiKey(app.db, ['content:write'])
    for (let i = from; i < from + count; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${key}` }, payload: { blog: 'stats', title: `Post ${i}`, status: 'published', tags: ['some-tag'] } })
      t.equal(res.statusCode, 201, res.body.slice(0, 200))
    }
  }
  const workOfTagFilter = async (app: TestApp['app']) => {
    const compiled = ghostPostsQueries(app.db, {
      blogId: undefined, filter: { tag: 'no-such-tag' }, order: postOrder(undefined), limit: 15, offset: 0, bodies: { html: false, text: false }
    }).page.compile()
    const { rows } = await app.db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
      CompiledQuery.raw(`EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]))
    return rowsWorked(rows[0]!['QUERY PLAN'][0]!.Plan)
  }
  /** The planner's count of posts once it is within `slack` of `rows` (or after 30 s). */
  const untilPlanned = async (app: TestApp['app'], rows: number, slack = 0) => {
    for (let tries = 0; tries < 300 && await plannedRows(app.db, 'posts') < rows - slack; tries++) await new Promise((resolve) => setTimeout(resolve, 100))
    return await plannedRows(app.db, 'posts')
  }

  // Without the job (as before it): the migrations' statistics, and the quadratic plan. The first
  // posts straight into the tables (faster than through the API; the plan is the same).
  const before = await buildTestApp(t, env, { backgroundJobs: false, sameDatabaseAs: { testDb } as TestApp })
  const blog = await newBlog(database.db, { slug: 'stats' })
  const tag = await newTag(database.db, { slug: 'some-tag' })
  for (let i = 0; i < POSTS; i++) await newPost(database.db, { blogId: blog.id, tagIds: [tag.id] })
  t.equal(await plannedRows(before.app.db, 'posts'), 0, 'no statistics of the posts written')
  const stale = await workOfTagFilter(before.app)
  t.ok(stale > POSTS * POSTS / 2, `with those statistics the tag filter works through ${stale} rows for ${POSTS} posts`)
  await before.app.close()

  // The API as it runs: analyzed at start, then after every 50 writes plus a tenth of the posts.
  const { app } = await buildTestApp(t, env, { backgroundJobs: true, sameDatabaseAs: { testDb } as TestApp })
  await app.ready()
  t.equal(await untilPlanned(app, POSTS), POSTS, 'analyzed at start: the planner knows the posts')
  const fresh = await workOfTagFilter(app)
  t.ok(fresh < POSTS * 10, `the tag filter works through ${fresh} rows (${stale} before)`)
  await writePosts(app, POSTS, MORE)
  // Analyzed again as the writes passed the threshold; those after its last pass wait for more.
  const planned = await untilPlanned(app, POSTS + MORE, threshold(POSTS + MORE))
  t.ok(planned > POSTS && POSTS + MORE - planned <= threshold(planned), `analyzed again while the writes went on: the planner counts ${planned} of ${POSTS + MORE} posts`)
})
