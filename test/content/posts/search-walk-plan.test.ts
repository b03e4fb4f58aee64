import { sql } from 'kysely'
import t from 'tap'
import { postsQuery, type JsonShape, type PostListRequest } from '../../../src/content/posts/posts.repository.ts'
import { shouldName } from '../../../src/db/named-statements.ts'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// The walk of a full-text list (posts.repository.ts, firstPostsOfList) is a named statement,
// planned once per connection for any words: PostgreSQL then settles on a generic plan, made
// without the values. Such a plan must still compute the any-language query once, not parse
// q again for every post it tests, and answer what the plan made for the values answers.
// The steps whose plans do depend on the words (past the window's edge, relevance) stay unnamed.

const SHAPE: JsonShape = { fields: ['slug'], links: { apiBase: 'http://localhost', site: { website: undefined, postUrlTemplate: undefined } } }

t.test('the walk is planned once for any words, and its generic plan parses the query once', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db)
  await sql`
    INSERT INTO posts (id, blog_id, slug, title, body_text, language, status, published_at)
    SELECT gen_random_uuid(), ${blog.id}, 'post-' || i, 'Post ' || i,
           CASE WHEN i % 3 = 0 THEN 'harbour ministries' ELSE 'dispatch' END, CASE WHEN i % 2 = 0 THEN 'en' ELSE 'fr' END,
           'published', timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => i)
    FROM generate_series(1, 300) i`.execute(app.db)

  const base: PostListRequest = { filter: { q: 'harbour ministries' }, sort: 'newest', limit: 20, withBody: false, audience: 'public' }
  for (const [name, request] of [['past the edge', { ...base, after: { publishedAt: '2026-10-31T00:00:00Z', id: '00000000-0000-0000-0000-000000000000' }, sortMatches: true }],
    ['relevance', { ...base, sort: 'relevance' }]] as const) {
    const compiled = postsQuery(app.db, request as PostListRequest, SHAPE).compile()
    t.notOk(shouldName({ text: compiled.sql, values: [...compiled.parameters] }), `${name}: planned for its words each time`)
  }

  // In no particular language, each post is still checked against the query in its own (a
  // parse a post, by design); in one language, nothing is parsed per post.
  for (const [name, filter, perPost] of [['any language', base.filter, /post_search_query_any/], ['English', { q: 'harbour ministries', language: 'en' }, /websearch_to_tsquery|post_search_query_any/]] as const) {
    const walk = postsQuery(app.db, { ...base, filter, walkWindow: true }, SHAPE).compile()
    t.ok(shouldName({ text: walk.sql, values: [...walk.parameters] }), `${name}: the walk is a named statement`)
    const execute = sql`EXECUTE walk(${sql.join(walk.parameters.map((value) => sql.lit(value)))})`
    await sql`PREPARE walk AS ${sql.raw(walk.sql)}`.execute(app.db)
    await sql`SET plan_cache_mode = force_generic_plan`.execute(app.db)
    try {
      const explained = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${execute}`.execute(app.db)
      const plan = explained.rows.map((row) => row['QUERY PLAN']).join('\n')
      t.match(plan, /InitPlan/, `${name}: the generic plan parses the query in an InitPlan`)
      t.notMatch(plan, perPost, `${name}: and not for each post`)
      const generic = await sql<{ json: string }>`${execute}`.execute(app.db)
      await sql`SET plan_cache_mode = force_custom_plan`.execute(app.db)
      const custom = await sql<{ json: string }>`${execute}`.execute(app.db)
      t.ok(generic.rows.length > 0, `${name}: ${generic.rows.length} posts`)
      t.same(generic.rows.map((row) => row.json), custom.rows.map((row) => row.json), `${name}: the same page as a plan made for the words`)
    } finally {
      await sql`RESET plan_cache_mode`.execute(app.db)
      await sql`DEALLOCATE walk`.execute(app.db)
    }
  }
})
