import { sql } from 'kysely'
import t from 'tap'
import { SEARCH_WALK_WINDOW } from '../../../src/content/posts/posts.repository.ts'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// A full-text list walks at most SEARCH_WALK_WINDOW posts in list order, then takes what the
// page still lacks from the posts past that edge through the full-text index, gathered and
// sorted (posts.repository.ts, listInWindows). The two halves must join into exactly the list a
// plain query gives: across the edge, with posts sharing a publish time on both sides of it
// (the edge is a (time, id) position), in both orders, page after page by cursor, in each
// post's own language, with exclusions and phrases.

const POSTS = SEARCH_WALK_WINDOW + 600

t.test('full-text pages across the walk window are the plain query\'s pages', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'archive' })
  // Two posts a minute, so publish times are shared in pairs (and at the edge). Words by position:
  // 'beacon' a handful of times on both sides of the edge, 'harbour' every 250th post (the walk
  // finds too few and the index supplies the rest), 'ministries' (English stem: ministri) in
  // every 40th, and a few French posts where 'des' is a stop word and 'ministères' stems apart.
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, body_text, language, status, published_at)
    SELECT gen_random_uuid(), ${blog.id}, 'post-' || i, 'Post ' || i,
           concat_ws(' ', 'dispatch',
             CASE WHEN i IN (2, 17, ${SEARCH_WALK_WINDOW - 2}, ${SEARCH_WALK_WINDOW - 1}, ${SEARCH_WALK_WINDOW}, ${SEARCH_WALK_WINDOW + 1}, ${SEARCH_WALK_WINDOW + 2}, ${POSTS - 3}) THEN 'beacon' END,
             CASE WHEN i % 250 = 7 THEN 'harbour' END,
             CASE WHEN i % 40 = 1 THEN 'ministries of des' END,
             CASE WHEN i % 500 = 9 THEN 'ministères des harbour' END),
           CASE WHEN i % 500 = 9 THEN 'fr' ELSE 'en' END,
           'published', timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => i / 2)
    FROM generate_series(1, ${POSTS}) i`.execute(app.db)
  await sql`ANALYZE posts`.execute(app.db)

  const pages = async (q: string, sort: 'newest' | 'oldest', limit: number): Promise<string[]> => {
    const slugs: string[] = []
    let cursor: string | undefined
    do {
      const res = await app.inject({ url: `/v1/posts?q=${encodeURIComponent(q)}&sort=${sort === 'oldest' ? 'published_at' : '-published_at'}&limit=${limit}&fields=slug${cursor === undefined ? '' : `&cursor=${cursor}`}` })
      t.equal(res.statusCode, 200, res.body)
      const body = res.json() as { data: Array<{ slug: string }>, meta: { next_cursor: string | null } }
      slugs.push(...body.data.map((post) => post.slug))
      cursor = body.meta.next_cursor ?? undefined
    } while (cursor !== undefined)
    return slugs
  }
  const plain = async (q: string, sort: 'newest' | 'oldest'): Promise<string[]> => {
    const direction = sql.raw(sort === 'oldest' ? 'ASC' : 'DESC')
    const { rows } = await sql<{ slug: string }>`
      SELECT slug FROM posts WHERE search @@ websearch_to_tsquery(post_search_config(language), ${q})
      ORDER BY published_at ${direction}, id ${direction}`.execute(app.db)
    return rows.map((row) => row.slug)
  }

  // Small limits fill a page inside the window; large ones (beacon 10, harbour 25, ministères 15,
  // beacon or harbour 30, ...) leave the walk short of a page with posts past the edge, so the index
  // supplies the rest; 'nowhere' walks the window and finds nothing anywhere.
  const cases = [['beacon', 3], ['beacon', 10], ['harbour', 7], ['harbour', 25], ['ministries', 50], ['ministries', 100], ['ministères', 4], ['ministères', 15],
    ['harbour -ministères', 5], ['harbour -ministères', 30], ['"ministries of"', 100], ['beacon or harbour', 30], ['des', 10], ['nowhere', 10]] as const
  for (const [q, limit] of cases) {
    for (const sort of ['newest', 'oldest'] as const) {
      const expected = await plain(q, sort)
      t.same(await pages(q, sort, limit), expected, `${q}, ${sort}, ${limit} a page: ${expected.length} posts`)
    }
  }
  t.equal((await plain('beacon', 'newest')).length, 8, 'the test posts are there: a check that can fail')
  t.ok((await plain('harbour', 'newest')).length > 20, 'and the index has more than one page to supply past the edge')
})
