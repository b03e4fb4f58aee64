import { sql } from 'kysely'
import t from 'tap'
import { PUBLIC_STATUSES } from '../../../src/content/posts/post-status.ts'
import { publiclyVisible, publiclyVisibleLink } from '../../../src/content/posts/posts.repository.ts'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { appWithAdmin, seededRandom } from '../../helpers/random-writes.ts'
import type { buildTestApp } from '../../helpers/test-app.ts'
import { postsWithDriftedRuns } from '../../helpers/post-json-runs.ts'

// Each post keeps its authors' and tags' summaries on its row (triggers, the
// post_byline_summaries migration), so reads skip two subqueries per post. They must never
// drift from the join tables and the authors and tags themselves, whatever changes them: a
// random sequence of every kind of write through the API (and a few straight in SQL) is run,
// and after each step every post's stored summaries are compared with ones computed afresh.
// The join tables' copies of each post's publish time and public state (the
// byline_public_state migration), which author and tag counts read alone, are held the same way,
// and so are the runs of each post's JSON kept on its row (the post_json_on_the_row migration),
// which embed the summaries and the post's own fields.

type App = Awaited<ReturnType<typeof buildTestApp>>['app']

/**
 * Posts whose stored summaries differ from what the join tables say now, as the API would send
 * them (JSON.stringify of { id, slug, name } in byline order): they are embedded in responses
 * as they are stored (the byline_summaries_as_sent migration), so the text itself must match.
 */
async function drifted (app: App, stored: 'json' | 'jsonb' = 'json'): Promise<Array<{ id: string }>> {
  // Before the byline_summaries_as_sent migration: jsonb, compared as values.
  const text = stored === 'json' ? sql`::text` : sql`::jsonb::json`
  const { rows } = await sql<{ id: string, authors: string | Summary[], tags: string | Summary[], expected_authors: Summary[], expected_tags: Summary[] }>`
    SELECT p.id, p.author_summaries${text} AS authors, p.tag_summaries${text} AS tags,
      coalesce((SELECT json_agg(json_build_object('id', a.id, 'slug', a.slug, 'name', a.name) ORDER BY pa.position)
        FROM post_authors pa JOIN authors a ON a.id = pa.author_id WHERE pa.post_id = p.id), '[]') AS expected_authors,
      coalesce((SELECT json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name) ORDER BY pt.position)
        FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id), '[]') AS expected_tags
    FROM posts p`.execute(app.db)
  const asSent = (list: Summary[]) => JSON.stringify(list.map(({ id, slug, name }) => ({ id, slug, name })))
  const same = (found: string | Summary[], expected: Summary[]) => typeof found === 'string' ? found === asSent(expected) : asSent(found) === asSent(expected)
  return rows.filter((row) => !same(row.authors, row.expected_authors) || !same(row.tags, row.expected_tags)).map(({ id }) => ({ id }))
}

interface Summary { id: string, slug: string, name: string }

/**
 * Join-table rows whose copies of their post's publish time or public state differ from the
 * post's, or whose visibility, read from the copies, differs from the post's own.
 */
async function linksDrifted (app: App): Promise<Array<{ post_id: string, via: string }>> {
  const publicState = sql<boolean>`(p.status IN (${sql.join(PUBLIC_STATUSES.map((status) => sql.lit(status)))}) AND p.deleted_at IS NULL)`
  const { rows } = await sql<{ post_id: string, via: string }>`
    SELECT j.post_id, j.via FROM (
      SELECT post_id, published_at, is_public, 'post_authors' AS via FROM post_authors
      UNION ALL SELECT post_id, published_at, is_public, 'post_tags' FROM post_tags) AS j
    JOIN posts p ON p.id = j.post_id
    WHERE j.published_at IS DISTINCT FROM p.published_at OR j.is_public <> ${publicState}
      OR (${publiclyVisibleLink()}) IS DISTINCT FROM (${publiclyVisible()})`.execute(app.db)
  return rows
}

t.test('stored author and tag summaries never drift, whatever the writes', async (t) => {
  const { app, call } = await appWithAdmin(t, { RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_READ: '1000000' })
  await call('POST', '/v1/blogs', { slug: 'desk', title: 'Desk' })
  await call('POST', '/v1/blogs', { slug: 'wire', title: 'Wire' })
  const authors: string[] = []
  const tags: string[] = []
  let made = 0
  const newAuthor = async () => {
    const slug = `author-${made++}`
    if ((await call('POST', '/v1/authors', { slug, name: `Author ${slug}` })).statusCode === 201) authors.push(slug)
  }
  const newTag = async () => {
    const slug = `tag-${made++}`
    if ((await call('POST', '/v1/tags', { slug, name: `Tag ${slug}` })).statusCode === 201) tags.push(slug)
  }
  for (let i = 0; i < 4; i++) { await newAuthor(); await newTag() }
  const posts: string[] = []
  const rand = seededRandom(20261201)
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)] as T
  const some = <T>(list: T[], max: number): T[] => [...new Set(Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(list)))]

  const steps: Array<[string, () => Promise<unknown>]> = [
    ['create a post', async () => {
      const res = await call('POST', '/v1/posts', { blog: pick(['desk', 'wire']), title: `Story ${made++}`, body_markdown: 'Text.', status: pick(['draft', 'published']), authors: some(authors, 3), tags: some(tags, 4) })
      if (res.statusCode === 201) posts.push(res.json().data.id)
    }],
    ['change a byline (reorder, add, drop)', async () => posts.length > 0 && call('PATCH', `/v1/posts/${pick(posts)}`, { authors: some(authors, 3) })],
    ['change tags', async () => posts.length > 0 && call('PATCH', `/v1/posts/${pick(posts)}`, { tags: some(tags, 4) })],
    ['edit a post\'s text, image, flags and SEO', async () => posts.length > 0 && call('PATCH', `/v1/posts/${pick(posts)}`, {
      title: `Edited "${made++}" \\ ${pick(['تحت الراية', '新闻', '😀', 'plain'])}`,
      subtitle: pick([null, 'A subtitle\twith a tab']),
      excerpt: pick([null, '', 'An excerpt\nover two lines']),
      lead_image: pick([null, { url: 'https://img.example.com/a.jpg', alt: 'Alt', width: 1600 }]),
      is_breaking: rand() < 0.5,
      seo: { meta_title: pick([null, 'Meta']), og_description: pick([null, 'OG']), canonical_url: pick([null, 'https://elsewhere.example.com/x']), noindex: rand() < 0.5 }
    })],
    ['rename an author', async () => authors.length > 0 && call('PATCH', `/v1/authors/${pick(authors)}`, { name: `Renamed ${made++}` })],
    ['change an author\'s slug', async () => {
      const slug = pick(authors)
      const next = `author-${made++}`
      if ((await call('PATCH', `/v1/authors/${slug}`, { slug: next })).statusCode === 200) authors.splice(authors.indexOf(slug), 1, next)
    }],
    ['rename a tag and its slug', async () => {
      const slug = pick(tags)
      const next = `tag-${made++}`
      if ((await call('PATCH', `/v1/tags/${slug}`, { slug: next, name: `Tag ${next}` })).statusCode === 200) tags.splice(tags.indexOf(slug), 1, next)
    }],
    ['delete an author, reassigning their posts', async () => {
      if (authors.length < 3) return newAuthor()
      const [gone, heir] = [pick(authors), pick(authors)]
      if (gone === heir) return
      if ((await call('DELETE', `/v1/authors/${gone}?reassign_posts_to=${heir}`)).statusCode === 204) authors.splice(authors.indexOf(gone), 1)
    }],
    ['delete an author, taking the byline off', async () => {
      if (authors.length < 3) return newAuthor()
      const gone = pick(authors)
      if ((await call('DELETE', `/v1/authors/${gone}?remove_from_posts=true`)).statusCode === 204) authors.splice(authors.indexOf(gone), 1)
    }],
    ['delete a tag from its posts', async () => {
      if (tags.length < 3) return newTag()
      const gone = pick(tags)
      if ((await call('DELETE', `/v1/tags/${gone}?remove_from_posts=true`)).statusCode === 204) tags.splice(tags.indexOf(gone), 1)
    }],
    ['publish or unpublish (published_at copied into the join tables)', async () => posts.length > 0 && call('POST', `/v1/posts/${pick(posts)}/${pick(['publish', 'unpublish'])}`)],
    ['schedule a post, or publish it back-dated', async () => posts.length > 0 &&
      call('POST', `/v1/posts/${pick(posts)}/publish`, { at: new Date(Date.now() + (rand() < 0.5 ? 1 : -1) * 86_400_000 * (1 + Math.floor(rand() * 30))).toISOString() })],
    ['SQL: scheduled posts come due', async () => sql`UPDATE posts SET published_at = now() - interval '1 minute' WHERE status = 'scheduled'`.execute(app.db)],
    ['SQL: archive a post, restore a deleted one', async () => sql`UPDATE posts SET status = CASE WHEN deleted_at IS NULL THEN 'archived' ELSE status END, deleted_at = NULL
      WHERE id = (SELECT id FROM posts ORDER BY md5(id::text || ${String(made++)}) LIMIT 1)`.execute(app.db)],
    ['delete a post', async () => {
      if (posts.length < 3) return
      const id = pick(posts)
      if ((await call('DELETE', `/v1/posts/${id}`)).statusCode === 204) posts.splice(posts.indexOf(id), 1)
    }],
    ['new author and tag', async () => { await newAuthor(); await newTag() }],
    ['SQL: swap the first two bylines of every post', async () => sql`UPDATE post_authors SET position = CASE position WHEN 0 THEN 1 WHEN 1 THEN 0 END
      WHERE position IN (0, 1) AND post_id IN (SELECT post_id FROM post_authors WHERE position = 1)`.execute(app.db).catch(() => undefined)],
    ['SQL: rename every tag at once', async () => sql`UPDATE tags SET name = name || '.'`.execute(app.db)]
  ]

  const counts = new Map<string, number>()
  let publicCompared = 0
  let hiddenCompared = 0
  for (let step = 0; step < 160; step++) {
    const [name, run] = step < 12 ? steps[0]! : pick(steps)
    await run()
    counts.set(name, (counts.get(name) ?? 0) + 1)
    const bad = await drifted(app)
    const badLinks = await linksDrifted(app)
    const badRuns = await postsWithDriftedRuns(app.db)
    if (bad.length > 0 || badLinks.length > 0 || badRuns.length > 0) {
      t.fail(`after step ${step} (${name}), ${bad.length} post(s) drifted, ${badLinks.length} join-table row(s) differ from their posts, ${badRuns.length} JSON run(s) differ from their rows`)
      return
    }
    const { rows: [kinds] } = await sql<{ public: number, hidden: number }>`
      SELECT count(*) FILTER (WHERE is_public)::int AS public, count(*) FILTER (WHERE NOT is_public)::int AS hidden FROM post_authors`.execute(app.db)
    publicCompared += kinds!.public
    hiddenCompared += kinds!.hidden
  }
  t.pass(`no drift over 160 random writes: ${[...counts].map(([name, n]) => `${name} ×${n}`).join(', ')}`)
  // Over the whole run, not at its end: where the random writes leave the bylines last (all
  // hidden, say, after the posts were unpublished) says nothing of what was compared on the way.
  t.ok(publicCompared > 0 && hiddenCompared > 0, `both public and hidden bylines were compared (${publicCompared}, ${hiddenCompared} over the steps)`)
  t.ok([...counts.keys()].length >= steps.length - 1, 'nearly every kind of write was exercised')

  // And what readers get is the stored summary, in byline order.
  const postId = posts[0]!
  const stored = (await sql<{ authors: Array<{ id: string, slug: string, name: string }> }>`SELECT author_summaries AS authors FROM posts WHERE id = ${postId}`.execute(app.db)).rows[0]!.authors
  const read = (await call('GET', `/v1/posts/${postId}`)).json().data as { authors: Array<{ id: string, slug: string, name: string }> }
  t.same(read.authors, stored)
  t.same(Object.keys(read.authors[0] ?? { id: 1, slug: 1, name: 1 }), ['id', 'slug', 'name'], 'keys in the schema\'s order')
})

t.test('the migration fills in the summaries of posts that existed before it', async (t) => {
  const { app, call } = await appWithAdmin(t)
  await call('POST', '/v1/blogs', { slug: 'desk', title: 'Desk' })
  for (const slug of ['ana', 'ben']) await call('POST', '/v1/authors', { slug, name: slug.toUpperCase() })
  await call('POST', '/v1/tags', { slug: 'world', name: 'World' })
  for (let i = 0; i < 3; i++) await call('POST', '/v1/posts', { blog: 'desk', title: `Story ${i}`, body_markdown: 'Text.', authors: i === 0 ? [] : ['ben', 'ana'], tags: ['world'] })
  const stored = async () => (await sql<{ id: string, a: string, t: string }>`SELECT id, author_summaries::text AS a, tag_summaries::text AS t FROM posts ORDER BY id`.execute(app.db)).rows
  const expected = await stored()

  // Back to before the summaries were stored as sent (jsonb again), then before they were
  // stored at all, then up again: each backfill must rebuild every summary.
  const asJsonb = await migrateDownThrough(app.db, '2026-12-02T01-00-00_byline_summaries_as_sent')
  t.match(asJsonb.at(-1), /byline_summaries_as_sent$/, 'undid the json text')
  t.same(await drifted(app, 'jsonb'), [], 'back as jsonb, none drifted')
  const undone = await migrateDownThrough(app.db, '2026-12-01T06-00-00_post_byline_summaries')
  t.same(undone, ['2026-12-01T06-00-00_post_byline_summaries'], 'undid the stored summaries')
  t.same(await migrateToLatest(app.db), [...asJsonb, ...undone].reverse(), 'up again, oldest first')
  t.same(await stored(), expected, 'the same text as before')
  t.same(await drifted(app), [])
  t.same((JSON.parse(expected[1]?.a ?? '[]') as Array<{ slug: string }>).map((a) => a.slug), ['ben', 'ana'], 'in byline order')
})

t.test('the migration copies the public state of posts that existed before it', async (t) => {
  const { app, call } = await appWithAdmin(t)
  await call('POST', '/v1/blogs', { slug: 'desk', title: 'Desk' })
  await call('POST', '/v1/authors', { slug: 'ana', name: 'Ana' })
  await call('POST', '/v1/tags', { slug: 'world', name: 'World' })
  const ids: string[] = []
  for (const status of ['published', 'published', 'draft', 'published']) {
    const res = await call('POST', '/v1/posts', { blog: 'desk', title: `A ${status} story`, body_markdown: 'Text.', status, authors: ['ana'], tags: ['world'] })
    ids.push(res.json().data.id)
  }
  t.equal((await call('DELETE', `/v1/posts/${ids[3]}`)).statusCode, 204)
  const publicLinks = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM post_authors WHERE is_public`.execute(app.db)).rows[0]!.n

  const undone = await migrateDownThrough(app.db, '2026-12-02T04-00-00_byline_public_state')
  t.equal(undone.at(-1), '2026-12-02T04-00-00_byline_public_state', 'undid the copies')
  t.same(await migrateToLatest(app.db), [...undone].reverse(), 'up again, oldest first')
  t.same(await linksDrifted(app), [], 'every copy matches its post')
  t.equal(await publicLinks(), 2, 'the two published posts, not the draft nor the deleted one')
  const ana = (await call('GET', '/v1/authors/ana?include=count.posts')).json() as { data: { post_count?: number, count?: { posts: number } } }
  t.match(ana.data, { count: { posts: 2 } }, 'and the author\'s count reads them')
})
