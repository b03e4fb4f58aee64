import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { publiclyVisible } from '../../src/content/posts/posts.repository.ts'
import { migrateToLatest } from '../../src/db/migrator.ts'
import { sitemapIndexEntries, sitemapMonths, type SitemapMonth } from '../../src/syndication/sitemaps/sitemaps.repository.ts'
import { migrateDownThrough } from '../helpers/migrations.ts'
import { appWithAdmin, seededRandom } from '../helpers/random-writes.ts'
import type { buildTestApp } from '../helpers/test-app.ts'

// Sitemap indexes read past months from sitemap_months, a count per blog and month kept by
// statement triggers on posts (the sitemap_months migration), and group the current month live.
// The counts must never drift from the posts, whatever writes them: a random sequence of every
// kind of write (through the API, a few straight in SQL, some at once), and after each step the
// table is compared with a grouping of every post, and the index with the grouping it replaced.

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

const INDEXABLE = sql<boolean>`p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND NOT p.noindex AND p.published_at IS NOT NULL`

interface Group { blog_id: string, month: string, posts: number, lastmod: Date }

/** The rows of sitemap_months that differ from a grouping of the posts now (every month, whatever the clock says). */
async function drifted (app: App): Promise<Array<{ blog_id: string, month: string, stored: number | null, counted: number | null, why: string }>> {
  const { rows } = await sql<{ blog_id: string, month: string, stored: number | null, counted: number | null, stored_lastmod: Date | null, newest: Date | null }>`
    WITH counted AS (
      SELECT p.blog_id, date_trunc('month', p.published_at AT TIME ZONE 'UTC')::date AS month, count(*)::int AS posts, max(p.updated_at) AS newest
      FROM posts p WHERE ${INDEXABLE} GROUP BY 1, 2
    )
    SELECT coalesce(s.blog_id, c.blog_id) AS blog_id, to_char(coalesce(s.month, c.month), 'YYYY-MM') AS month,
      s.posts AS stored, c.posts AS counted, s.lastmod AS stored_lastmod, c.newest
    FROM sitemap_months s FULL JOIN counted c ON c.blog_id = s.blog_id AND c.month = s.month`.execute(app.db)
  return rows.flatMap((row) => {
    const stored = row.stored ?? 0
    const counted = row.counted ?? 0
    if (stored !== counted) return [{ ...row, why: 'count' }]
    // lastmod may be later than the newest post (a post left the month since), never earlier.
    if (counted > 0 && (row.stored_lastmod === null || row.newest === null || row.stored_lastmod < row.newest)) return [{ ...row, why: 'lastmod behind the newest post' }]
    return []
  })
}

/** Each indexable post's (blog, month), as sitemap_months keys it. */
async function monthOfEachPost (app: App): Promise<Map<string, string>> {
  const { rows } = await sql<{ id: string, g: string }>`
    SELECT p.id, p.blog_id || ' ' || date_trunc('month', p.published_at AT TIME ZONE 'UTC')::date AS g FROM posts p WHERE ${INDEXABLE}`.execute(app.db)
  return new Map(rows.map((row) => [row.id, row.g]))
}

/** What the sitemap index grouped on every request before the table: every visible post. */
async function groupedLive (app: App): Promise<Group[]> {
  const { rows } = await sql<Group>`
    SELECT p.blog_id, to_char(date_trunc('month', p.published_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, count(*)::int AS posts, max(p.updated_at) AS lastmod
    FROM posts p WHERE ${publiclyVisible()} AND NOT p.noindex GROUP BY 1, 2`.execute(app.db)
  return rows
}

async function indexMatchesLiveGrouping (t: Test, app: App, label: string): Promise<boolean> {
  const [read, live] = await Promise.all([sitemapMonths(app.db, undefined), groupedLive(app)])
  const key = (g: { blog_id: string, month: string }) => `${g.blog_id} ${g.month}`
  const liveByKey = new Map(live.map((g) => [key(g), g]))
  const wrong = read.filter((g) => {
    const expected = liveByKey.get(key(g))
    return expected === undefined || expected.posts !== g.posts || g.lastmod < expected.lastmod
  })
  if (wrong.length > 0 || read.length !== live.length) {
    t.fail(`${label}: the index says ${JSON.stringify(read.map((g) => [g.month, g.posts]))}, the posts ${JSON.stringify(live.map((g) => [g.month, g.posts]))}`)
    return false
  }
  return true
}

/**
 * The index's entries as the route wrote them from sitemapMonths' rows before PostgreSQL wrote
 * them (sitemapIndexEntries): the oracle for its text, pages, order and dates.
 */
function entriesFromRows (months: SitemapMonth[], base: string, perPage: number): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return months.flatMap((month) => Array.from({ length: Math.ceil(month.posts / perPage) }, (_unused, index) =>
    `  <sitemap><loc>${escape(`${base}/v1/blogs/${encodeURIComponent(month.blog_slug)}/sitemap.xml?month=${month.month}${index === 0 ? '' : `&page=${index + 1}`}`)}</loc>` +
    `<lastmod>${month.lastmod.toISOString()}</lastmod></sitemap>`)).join('\n')
}

/** Two posts a page, so that the random months have several. */
async function entriesMatchRows (t: Test, app: App, label: string): Promise<boolean> {
  const base = 'https://api.example.com/a&b'
  const [written, months] = await Promise.all([
    sitemapIndexEntries(app.db, undefined, { before: `${base.replace('&', '&amp;')}/v1/blogs/`, after: '/sitemap.xml?month=' }, 2),
    sitemapMonths(app.db, undefined)
  ])
  const expected = entriesFromRows(months, base, 2)
  if (written !== expected) {
    t.fail(`${label}: PostgreSQL wrote the index's entries\n${written}\nthe rows say\n${expected}`)
    return false
  }
  return true
}

const DAY_MS = 86_400_000

t.test('the per-month counts never drift, whatever the writes', async (t) => {
  const { app, call } = await appWithAdmin(t, { RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_READ: '1000000' })
  for (const slug of ['desk', 'wire', 'steppe']) await call('POST', '/v1/blogs', { slug, title: slug })
  const blogIds = (await sql<{ id: string }>`SELECT id FROM blogs ORDER BY slug`.execute(app.db)).rows.map((row) => row.id)
  const posts: string[] = []
  const rand = seededRandom(20261203)
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)] as T
  // Months from four years back to two ahead, and the current one often: both sides of the line
  // between the table and the live grouping.
  const someTime = () => new Date(Date.now() + (rand() < 0.3 ? -rand() * 5 * DAY_MS : (rand() * 6 - 4) * 365 * DAY_MS)).toISOString()
  let made = 0

  const steps: Array<[string, () => Promise<unknown>]> = [
    ['create a post', async () => {
      const res = await call('POST', '/v1/posts', { blog: pick(['desk', 'wire', 'steppe']), title: `Story ${made++}`, body_markdown: 'Text.', status: pick(['draft', 'published']) })
      if (res.statusCode === 201) posts.push(res.json().data.id)
    }],
    ['publish at some time, past or future', async () => posts.length > 0 && call('POST', `/v1/posts/${pick(posts)}/publish`, { at: someTime() })],
    ['unpublish', async () => posts.length > 0 && call('POST', `/v1/posts/${pick(posts)}/unpublish`)],
    ['set or clear noindex', async () => posts.length > 0 && call('PATCH', `/v1/posts/${pick(posts)}`, { seo: { noindex: rand() < 0.5 } })],
    ['edit a post\'s title', async () => posts.length > 0 && call('PATCH', `/v1/posts/${pick(posts)}`, { title: `Edited ${made++}` })],
    ['delete a post', async () => {
      if (posts.length < 3) return
      const id = pick(posts)
      if ((await call('DELETE', `/v1/posts/${id}`)).statusCode === 204) posts.splice(posts.indexOf(id), 1)
    }],
    ['several posts published at once, into one month', async () => {
      const at = someTime()
      await Promise.all(posts.slice(-6).map((id) => call('POST', `/v1/posts/${id}/publish`, { at })))
    }],
    ['several posts created at once', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/v1/posts', { blog: 'desk', title: `Burst ${made++}`, body_markdown: 'Text.', status: 'published' })))
      for (const res of results) if (res.statusCode === 201) posts.push(res.json().data.id)
    }],
    ['SQL: move every post of a month back by 40 days', async () => sql`UPDATE posts SET published_at = published_at - interval '40 days'
      WHERE date_trunc('month', published_at) = (SELECT date_trunc('month', published_at) FROM posts WHERE published_at IS NOT NULL ORDER BY md5(id::text || ${String(made++)}) LIMIT 1)`.execute(app.db)],
    ['SQL: move a post to another blog', async () => sql`UPDATE posts SET blog_id = ${pick(blogIds)}, slug = slug || '-moved-' || ${String(made++)}
      WHERE id = (SELECT id FROM posts ORDER BY md5(id::text || ${String(made++)}) LIMIT 1)`.execute(app.db)],
    ['SQL: scheduled posts come due', async () => sql`UPDATE posts SET published_at = now() - interval '1 minute' WHERE status = 'scheduled'`.execute(app.db)],
    ['SQL: archive a post, restore a deleted one', async () => sql`UPDATE posts SET status = CASE WHEN deleted_at IS NULL THEN 'archived' ELSE status END, deleted_at = NULL
      WHERE id = (SELECT id FROM posts ORDER BY md5(id::text || ${String(made++)}) LIMIT 1)`.execute(app.db)],
    ['SQL: rewrite every post, updated_at kept (as the byline triggers do)', async () => sql`UPDATE posts SET author_summaries = author_summaries`.execute(app.db)],
    ['SQL: remove a post for good', async () => {
      const { rows } = await sql<{ id: string }>`DELETE FROM posts WHERE id = (SELECT id FROM posts ORDER BY md5(id::text || ${String(made++)}) LIMIT 1) RETURNING id`.execute(app.db)
      for (const { id } of rows) if (posts.includes(id)) posts.splice(posts.indexOf(id), 1)
    }]
  ]

  const counts = new Map<string, number>()
  let pastMonths = 0
  let departures = 0
  for (let step = 0; step < 140; step++) {
    const [name, run] = step < 10 ? steps[0]! : pick(steps)
    const before = await monthOfEachPost(app)
    const { rows: [{ started } = { started: new Date() }] } = await sql<{ started: Date }>`SELECT now() AS started`.execute(app.db)
    await run()
    counts.set(name, (counts.get(name) ?? 0) + 1)
    const bad = await drifted(app)
    if (bad.length > 0) {
      t.fail(`after step ${step} (${name}), ${bad.length} month(s) drifted: ${JSON.stringify(bad)}`)
      return
    }
    // A month a post left (to another month or blog, or out of the sitemap) changed then.
    const after = await monthOfEachPost(app)
    const left = new Set([...before].filter(([id, group]) => after.get(id) !== group).map(([, group]) => group))
    const stale = (await sql<{ g: string, lastmod: Date }>`SELECT blog_id || ' ' || month AS g, lastmod FROM sitemap_months WHERE posts > 0`.execute(app.db)).rows
      .filter((row) => left.has(row.g) && row.lastmod < started)
    if (stale.length > 0) {
      t.fail(`after step ${step} (${name}), a post left ${stale.map((row) => row.g).join(', ')} and its lastmod stayed before the step`)
      return
    }
    departures += left.size
    if (!await indexMatchesLiveGrouping(t, app, `after step ${step} (${name})`)) return
    if (!await entriesMatchRows(t, app, `after step ${step} (${name})`)) return
    const { rows: [past] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sitemap_months WHERE posts > 0 AND month < date_trunc('month', now() AT TIME ZONE 'UTC')`.execute(app.db)
    pastMonths += past!.n
  }
  t.pass(`no drift over 140 random writes: ${[...counts].map(([name, n]) => `${name} ×${n}`).join(', ')}`)
  t.ok(pastMonths > 100, `months read from the table were compared (${pastMonths} over the steps)`)
  t.ok(departures > 20, `months that posts left were checked (${departures})`)
  t.ok(counts.size === steps.length, 'every kind of write was exercised')
  const { rows: [paged] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sitemap_months WHERE posts > 2`.execute(app.db)
  t.ok(paged!.n > 0, `months of several pages were written (${paged!.n} at the end)`)
})

t.test('a month\'s lastmod follows its posts\' edits, and moves on when a post leaves it', async (t) => {
  const { app, call } = await appWithAdmin(t)
  await call('POST', '/v1/blogs', { slug: 'desk', title: 'Desk' })
  const ids: string[] = []
  for (let i = 0; i < 2; i++) {
    const res = await call('POST', '/v1/posts', { blog: 'desk', title: `Story ${i}`, body_markdown: 'Text.' })
    ids.push(res.json().data.id)
    await call('POST', `/v1/posts/${ids[i]}/publish`, { at: '2014-10-15T10:00:00Z' })
  }
  const october = async () => (await sitemapMonths(app.db, undefined)).find((g) => g.month === '2014-10')
  const updatedAt = async (id: string) => (await sql<{ u: Date }>`SELECT updated_at AS u FROM posts WHERE id = ${id}`.execute(app.db)).rows[0]!.u

  t.match(await october(), { posts: 2 }, 'two posts in October 2014')
  t.same((await october())?.lastmod, await updatedAt(ids[1]!), 'lastmod: the newest post\'s updated_at')
  await call('PATCH', `/v1/posts/${ids[0]}`, { title: 'Edited' })
  t.same((await october())?.lastmod, await updatedAt(ids[0]!), 'an edit moves lastmod to the edited post\'s updated_at')

  // A statement that rewrites posts without moving their updated_at (the byline and tag
  // triggers rewrite thousands at once) leaves the months alone: no row of them written or locked.
  const versions = async () => (await sql<{ v: string }>`SELECT xmin::text AS v FROM sitemap_months ORDER BY blog_id, month`.execute(app.db)).rows
  const unchanged = await versions()
  await sql`UPDATE posts SET author_summaries = author_summaries, tag_summaries = tag_summaries`.execute(app.db)
  t.same(await versions(), unchanged, 'rewriting posts with their updated_at kept writes no month')

  const before = (await october())!.lastmod
  const { rows: [removal] } = await sql<{ at: Date }>`WITH gone AS (DELETE FROM posts WHERE id = ${ids[0]!}) SELECT now() AS at`.execute(app.db)
  const after = await october()
  t.match(after, { posts: 1 }, 'one post left')
  t.same(after?.lastmod, removal!.at, 'a post leaving the month moves lastmod to when it left')
  t.ok(after!.lastmod > before, 'forward, not back to the older post that is left')
})

t.test('the migration counts the posts that existed before it', async (t) => {
  const { app, call } = await appWithAdmin(t)
  await call('POST', '/v1/blogs', { slug: 'desk', title: 'Desk' })
  for (const [i, at] of ['2014-10-15T10:00:00Z', '2014-10-20T10:00:00Z', '2019-03-01T00:00:00Z', '2019-02-28T23:59:59Z'].entries()) {
    const res = await call('POST', '/v1/posts', { blog: 'desk', title: `Story ${i}`, body_markdown: 'Text.' })
    await call('POST', `/v1/posts/${res.json().data.id}/publish`, { at })
  }
  await call('POST', '/v1/posts', { blog: 'desk', title: 'A draft', body_markdown: 'Text.', status: 'draft' })
  const undone = await migrateDownThrough(app.db, '2026-12-03T05-00-00_sitemap_months')
  t.same(await migrateToLatest(app.db), [...undone].reverse(), 'up again')
  t.same(await drifted(app), [], 'every month counted')
  t.same((await sitemapMonths(app.db, undefined)).map((g) => [g.month, g.posts]), [['2019-03', 1], ['2019-02', 1], ['2014-10', 2]], 'months in UTC, newest first')
  await sql`TRUNCATE posts CASCADE`.execute(app.db)
  t.same(await sql`SELECT * FROM sitemap_months`.execute(app.db).then((r) => r.rows), [], 'emptying posts empties the counts')
})
