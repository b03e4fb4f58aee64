import { sql } from 'kysely'
import t from 'tap'
import { SEARCH_WALK_WINDOW } from '../../../src/content/posts/posts.repository.ts'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'
import { testServerUrl } from '../../helpers/test-database.ts'

// A full-text search whose index candidates are many and whose matches are few (a phrase of
// common words, a word with every post excluded, ...) has SEARCH_TIME_LIMIT_MS of PostgreSQL's
// time past its walk window (posts.repository.ts, listInWindows). Out of time, the page holds
// what the walk found and a cursor from the window's edge; following cursors must still give
// exactly the plain query's list. Counting falls back to the estimate; ranking is a 422.
//
// A limit of 1 ms runs out for certain here: past the window, every post has both words of the
// phrase, so the index offers them all and each is rechecked, tens of milliseconds on any
// machine. The embedded database's engine has no statement timeout (time-budget.ts).

const PAST_EDGE = 12_000
const POSTS = SEARCH_WALK_WINDOW + PAST_EDGE
// Posts (by rank in list order, newest first) where the words stand together.
const PHRASE_AT = [3, 40, SEARCH_WALK_WINDOW + 5, SEARCH_WALK_WINDOW + 2_000, SEARCH_WALK_WINDOW + 9_000, POSTS - 1]

interface Page { data: Array<{ slug: string }>, meta: { next_cursor: string | null, total?: number, total_exact?: boolean } }

t.test('a search out of time pages on from where it stopped, and loses no post', { skip: testServerUrl() === undefined && 'the embedded database cannot stop a statement' }, async (t) => {
  const limited = await buildTestApp(t, { SEARCH_TIME_LIMIT_MS: '1' })
  // The same database without a limit: a second app on it.
  const unlimited = await buildTestApp(t, { SEARCH_TIME_LIMIT_MS: '0' }, { sameDatabaseAs: limited })
  const blog = await newBlog(limited.app.db, { slug: 'archive' })
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, body_text, language, status, published_at)
    SELECT gen_random_uuid(), ${blog.id}, 'post-' || i, 'Post ' || i,
           CASE WHEN i IN (${sql.join(PHRASE_AT)}) THEN 'harbour beacon at dawn'
                WHEN i > ${SEARCH_WALK_WINDOW} THEN 'harbour at dawn, a beacon' ELSE 'dispatch' END,
           'en', 'published', timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => i / 2)
    FROM generate_series(1, ${POSTS}) i`.execute(limited.app.db)
  await sql`ANALYZE posts`.execute(limited.app.db)
  const q = encodeURIComponent('"harbour beacon"')

  const follow = async (app: typeof limited.app, sort: string, limit: number) => {
    const pages: Page[] = []
    let cursor: string | undefined
    do {
      const res = await app.inject({ url: `/v1/posts?q=${q}&sort=${sort}&limit=${limit}&fields=slug${cursor === undefined ? '' : `&cursor=${cursor}`}` })
      t.equal(res.statusCode, 200, res.body)
      const page = res.json() as Page
      pages.push(page)
      cursor = page.meta.next_cursor ?? undefined
    } while (cursor !== undefined && pages.length < 100)
    return pages
  }
  const plain = async (sort: 'ASC' | 'DESC') => (await sql<{ slug: string }>`
    SELECT slug FROM posts WHERE search @@ websearch_to_tsquery('english', '"harbour beacon"')
    ORDER BY published_at ${sql.raw(sort)}, id ${sql.raw(sort)}`.execute(limited.app.db)).rows.map((row) => row.slug)

  const newest = await plain('DESC')
  t.same(newest, PHRASE_AT.map((i) => `post-${i}`), 'the phrase is where the test put it: a check that can fail')

  const whole = await follow(unlimited.app, '-published_at', 10)
  t.same(whole.map((page) => page.data.length), [PHRASE_AT.length], 'without a limit: every match on the first page, and no cursor')

  // The first page: what the walk finds in the window (the newest or the oldest 5,000 posts).
  const firstPages = { '-published_at': ['post-3', 'post-40'], published_at: [`post-${POSTS - 1}`, `post-${SEARCH_WALK_WINDOW + 9_000}`] }
  for (const [sort, expected] of [['-published_at', newest], ['published_at', await plain('ASC')]] as const) {
    const pages = await follow(limited.app, sort, 10)
    t.same(pages.flatMap((page) => page.data.map((post) => post.slug)), expected, `${sort}: the pages together are the plain query's list`)
    const first = pages[0]!
    t.same(first.data.map((post) => post.slug), firstPages[sort], `${sort}: the first page stopped at the window's edge with what the walk found`)
    t.not(first.meta.next_cursor, null, `${sort}: and a cursor from there`)
    // Each page searched at least a window further than the last: a bounded number of requests.
    t.ok(pages.length <= Math.ceil(POSTS / SEARCH_WALK_WINDOW), `${sort}: ${pages.length} requests for ${POSTS} posts`)
    t.equal(pages.at(-1)?.meta.next_cursor, null, `${sort}: the last page says so`)
  }

  // Counting reads every candidate too: out of time, the estimate, said to be one.
  const counted = async (app: typeof limited.app) => (await app.inject({ url: `/v1/posts?q=${q}&count=estimate&fields=slug` })).json() as Page
  t.match((await counted(unlimited.app)).meta, { total: PHRASE_AT.length, total_exact: true }, 'without a limit the count is exact')
  const estimated = (await counted(limited.app)).meta
  t.equal(estimated.total_exact, false, 'out of time, the count is an estimate and says so')
  t.type(estimated.total, 'number')

  // Relevance must rank every match: out of time there is nothing honest to page through.
  const ranked = await limited.app.inject({ url: `/v1/posts?q=${q}&sort=relevance&fields=slug` })
  t.equal(ranked.statusCode, 422)
  t.equal(ranked.headers['content-type'], 'application/problem+json')
  t.equal(ranked.headers['cache-control'], 'no-store')
  t.match(ranked.json(), { code: 'search_too_broad', errors: [{ path: 'query.sort' }] })
  const rankedWhole = await unlimited.app.inject({ url: `/v1/posts?q=${q}&sort=relevance&fields=slug` })
  t.equal((rankedWhole.json() as Page).data.length, PHRASE_AT.length, 'without a limit relevance ranks them all')

  // A search the walk answers never meets the limit.
  const common = (await limited.app.inject({ url: '/v1/posts?q=dispatch&limit=20&fields=slug' })).json() as Page
  t.equal(common.data.length, 20, 'a common word fills its page from the walk')
})
