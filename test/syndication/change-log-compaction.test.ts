import { sql } from 'kysely'
import t from 'tap'
import { compactChangeLog } from '../../src/syndication/change-log-compaction.ts'
import { fanOut } from '../../src/syndication/webhooks/dispatcher.ts'
import { newApiKey } from '../helpers/factories.ts'
import { appWithAdmin, seededRandom } from '../helpers/random-writes.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Log compaction deletes change-log rows that a newer row of the same resource makes redundant.
// Its promise: a reader replaying from any position ends in the same state as without it. Checked
// here for every position of a log of random writes (publishes, unpublishes, edits, moves between
// blogs, byline corrections, deletes, author and blog edits), for public readers, preview readers and readers of one
// blog, against the log as it was before compaction.

type App = Awaited<ReturnType<typeof appWithAdmin>>['app']
interface Row { seq: number, type: string, id: string, op: string, event: string | null, data?: unknown }

const LIMITS = { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000' }

/** The log after `since` (its start by default), every page of it, and the cursor to go on from. */
async function readLog (app: App, query: string, key?: string, since?: string): Promise<{ rows: Row[], cursor: string | undefined }> {
  const rows: Row[] = []
  let cursor = since
  for (;;) {
    const res = await app.inject({ url: `/v1/changes?limit=1000${query}${cursor === undefined ? '' : `&since=${cursor}`}`, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
    if (res.statusCode !== 200) throw new Error(`${query}: ${res.statusCode} ${res.body}`)
    const page = res.json() as { data: Row[], meta: { next_cursor: string } }
    if (page.data.length === 0) return { rows, cursor }
    rows.push(...page.data)
    cursor = page.meta.next_cursor
  }
}

/** What a sync client holds after applying `rows` to `state`, as a comparable string. */
function apply (state: string, rows: readonly Row[]): string {
  const next = new Map(JSON.parse(state) as Array<[string, unknown]>)
  for (const row of rows) {
    if (row.op === 'upsert') next.set(`${row.type}:${row.id}`, row.data)
    else next.delete(`${row.type}:${row.id}`)
  }
  return JSON.stringify([...next].sort(([a], [b]) => a.localeCompare(b)))
}

const changeRows = async (app: App) => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM changes`.execute(app.db)).rows[0]!.n)

t.test('after compaction, a client that synced at any point of the history ends where it would have without it', async (t) => {
  const { app, call } = await appWithAdmin(t, LIMITS)
  const preview = await newApiKey(app.db, ['content:preview'])
  const views = [
    { name: 'public', query: '' },
    { name: 'public, blog alpha', query: '&blog=alpha' },
    { name: 'public, blog beta', query: '&blog=beta' },
    { name: 'preview', query: '&visibility=all', key: preview },
    { name: 'preview, blog beta', query: '&visibility=all&blog=beta', key: preview }
  ]
  // Clients that sync after every write, each view's: where each one was and what it held then.
  const clients = views.map(() => ({ cursor: undefined as string | undefined, position: 0, state: '[]', saved: [] as Array<{ position: number, state: string }> }))
  const sync = async () => {
    for (const [v, view] of views.entries()) {
      const client = clients[v]!
      const { rows, cursor } = await readLog(app, view.query, view.key, client.cursor)
      client.cursor = cursor
      client.position = rows.at(-1)?.seq ?? client.position
      client.state = apply(client.state, rows)
      client.saved.push({ position: client.position, state: client.state })
    }
  }

  const random = seededRandom(Number(process.env.COMPACTION_SEED ?? 20261206))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const blogs = ['alpha', 'beta']
  for (const slug of blogs) await call('POST', '/v1/blogs', { title: slug, slug })
  const authors = ['ann', 'bob']
  for (const slug of authors) await call('POST', '/v1/authors', { name: slug, slug })
  await sync()
  const posts: string[] = []
  for (let step = 0; step < 150; step++) {
    const roll = random()
    const id = posts.length === 0 ? undefined : pick(posts)
    if (roll < 0.25 || id === undefined) {
      posts.push((await call('POST', '/v1/posts', { blog: pick(blogs), title: `Post ${step}`, authors: [pick(authors)], status: random() < 0.5 ? 'published' : 'draft' })).json().data.id)
    } else if (roll < 0.5) {
      await call('PATCH', `/v1/posts/${id}`, { title: `Edited ${step}` })
    } else if (roll < 0.62) {
      await call('POST', `/v1/posts/${id}/publish`)
    } else if (roll < 0.72) {
      await call('POST', `/v1/posts/${id}/unpublish`)
    } else if (roll < 0.82) {
      await call('PATCH', `/v1/posts/${id}`, { blog: pick(blogs) })
    } else if (roll < 0.86) {
      // A byline corrected: the row names the author the post left, and compaction keeps it.
      await call('PATCH', `/v1/posts/${id}`, { authors: [pick(authors)] })
    } else if (roll < 0.91) {
      await call('DELETE', `/v1/posts/${id}`)
    } else if (roll < 0.95) {
      await call('PATCH', `/v1/authors/${pick(authors)}`, { bio: `bio ${step}` })
    } else {
      await call('PATCH', `/v1/blogs/${pick(blogs)}`, { description: `about ${step}` })
    }
    await sync()
  }
  const before = await Promise.all(views.map(async (view) => (await readLog(app, view.query, view.key)).rows))
  const rowsBefore = await changeRows(app)

  t.equal(await compactChangeLog(app.db, 0), 0, 'nothing before webhook fan-out has passed the rows')
  await fanOut(app.db, app.config, 100_000)
  const deleted = await compactChangeLog(app.db, 0)
  t.ok(deleted > rowsBefore / 3, `${deleted} of ${rowsBefore} rows deleted`)
  t.equal(await changeRows(app), rowsBefore - deleted)
  t.equal(await compactChangeLog(app.db, 0), 0, 'a second pass finds nothing more')

  for (const [v, view] of views.entries()) {
    const old = before[v]!
    const now = (await readLog(app, view.query, view.key)).rows
    t.ok(now.length < old.length, `${view.name}: ${old.length} changes, now ${now.length}`)
    const oldBySeq = new Map(old.map((row) => [row.seq, row]))
    t.same(now.filter((row) => JSON.stringify(oldBySeq.get(row.seq)) !== JSON.stringify(row)), [], `${view.name}: what is left is as it was`)
    // Each client as it was after each write comes back: the same state from both logs.
    const after = (rows: Row[], position: number) => rows.filter((row) => row.seq > position)
    const differ = clients[v]!.saved.filter(({ position, state }) => apply(state, after(old, position)) !== apply(state, after(now, position)))
    t.same(differ.map(({ position }) => position), [], `${view.name}: each of ${clients[v]!.saved.length} clients, back from where it was, ends the same`)
  }
  const posted = (await readLog(app, '&visibility=all&types=post', preview)).rows
  t.equal(new Set(posted.map((row) => row.id)).size, posts.length, 'every post keeps its latest change')
})

t.test('compaction waits for rows to be old enough and for webhook fan-out, and keeps deliveries\' records', async (t) => {
  // The deliveries are made, never sent (no dispatcher runs here): the target need not listen.
  const { app, call } = await appWithAdmin(t, { ...LIMITS, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' })
  await call('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  const created = await call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/in', event_types: ['post.*'] })
  t.equal(created.statusCode, 201, created.body)
  const hook = created.json().data as { id: string }
  const post = (await call('POST', '/v1/posts', { blog: 'desk', title: 'Story', status: 'published' })).json().data as { id: string }
  for (const title of ['Story, updated', 'Story, updated again', 'Story, final']) await call('PATCH', `/v1/posts/${post.id}`, { title })
  const postRows = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM changes WHERE entity_id = ${post.id}`.execute(app.db)).rows[0]!.n)
  t.equal(await postRows(), 4)

  t.equal(await compactChangeLog(app.db, 0), 0, 'not before fan-out')
  t.equal(await fanOut(app.db, app.config), 4, 'four deliveries')
  t.equal(await compactChangeLog(app.db, 86_400_000), 0, 'not before the rows are a day old')
  t.equal(await postRows(), 4)
  t.equal(await compactChangeLog(app.db, 0), 3, 'then the three rows the last one makes redundant')
  t.equal(await postRows(), 1)
  const deliveries = (await call('GET', `/v1/webhooks/${hook.id}/deliveries`)).json().data as Array<{ event: string, change_seq: number }>
  t.same(deliveries.map((d) => d.event).sort(), ['post.published', 'post.updated', 'post.updated', 'post.updated'], 'the deliveries\' records stay')
  t.equal(new Set(deliveries.map((d) => d.change_seq)).size, 4, 'each with the position it was made from')

  // Two processes at once: one compacts, the other finds the cursor taken and leaves it.
  for (const title of ['Again', 'And again']) await call('PATCH', `/v1/posts/${post.id}`, { title })
  await fanOut(app.db, app.config)
  const both = await Promise.all([compactChangeLog(app.db, 0), compactChangeLog(app.db, 0)])
  t.equal(both[0] + both[1], 2, `two rows deleted between them (${both.join(' and ')})`)
  t.equal(await postRows(), 1)
})

t.test('every API process compacts by itself, from when it is ready, and counts it', async (t) => {
  const first = await buildTestApp(t, LIMITS)
  const { app } = first
  const admin = await newApiKey(app.db, ['admin'])
  const call = (method: string, url: string, payload?: unknown) =>
    app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${admin}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
  await call('POST', '/v1/blogs', { title: 'Desk', slug: 'desk' })
  const post = (await call('POST', '/v1/posts', { blog: 'desk', title: 'Story', status: 'published' })).json().data as { id: string }
  for (let i = 0; i < 5; i++) await call('PATCH', `/v1/posts/${post.id}`, { title: `Story ${i}` })
  const rows = await changeRows(app)
  await fanOut(app.db, app.config)
  // A second process with its background loops: its first pass comes as it is ready.
  const second = await buildTestApp(t, { ...LIMITS, CHANGE_LOG_COMPACT_AFTER_DAYS: '0' }, { backgroundJobs: true, sameDatabaseAs: first })
  await second.app.ready()
  // The counter moves when the run ends, a pass after the one whose delete the rows show: wait for it.
  const compacted = async () => (await second.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${admin}` } })).body.match(/^change_log_compacted_rows_total (\d+)$/m)?.[1]
  const deadline = Date.now() + 30_000
  while (await compacted() !== '5' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await compacted(), '5', 'counted')
  t.equal(await changeRows(app), rows - 5, 'the post\'s five older rows are gone')
})
