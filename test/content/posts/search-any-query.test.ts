import { sql } from 'kysely'
import t from 'tap'
import { newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// A search in no particular language is first narrowed by post_search_query_any(q): the query
// parsed in every text-search configuration, OR-ed, each distinct branch once (the
// search_query_any_distinct migration). It must match exactly the posts that some
// configuration's query matches, for every kind of query a reader types, while testing each
// post against far fewer branches than the thirty configurations; and it must stay a constant
// in the plan (folded for the given q), or the full-text index could not use it.

const POSTS: Array<[string, string]> = [
  ['en', 'The harbour ministries met officials overnight; O\'Brien\'s report on the harbour'],
  ['en', 'Officials said the ministry would not comment'],
  ['fr', 'Les ministères des affaires étrangères et le port du Havre'],
  ['de', 'Die Straße zum Hafen ist gesperrt, sagte das Ministerium'],
  ['ru', 'Москва и министерства: официальные лица прибыли ночью'],
  ['ar', 'القاهرة تستضيف الوزراء في الميناء'],
  ['es', 'Los ministerios del puerto de Cádiz'],
  ['tr', 'Bakanlıklar limanda toplandı'],
  ['xx', 'harbour ministries in a language with no configuration of its own'],
  ['en', 'a\\b back\\slash and "quoted" words, the end']
]

const QUERIES = [
  'harbour', 'harbor', 'ministries', 'ministères', 'ministerio', 'Москва', 'министерства', 'القاهرة', 'Straße', 'strasse', 'Bakanlıklar',
  '"harbour ministries"', '"officials overnight"', 'harbour -ministries', 'harbour or Москва', 'ministries -"foreign affairs"',
  'the', 'des', 'and the of', '!!!', '', '"', '"unclosed quote', 'o\'brien', 'O\'Brien\'s', 'a\\b', 'back\\slash', '\'\'', '-', 'or', '- -harbour',
  'harbour ministries officials overnight report comment ministry port Hafen puerto limanda'
]

t.test('the any-language query matches what some configuration\'s query matches, with each branch once', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db)
  for (const [index, [language, text]] of POSTS.entries()) {
    await sql`INSERT INTO posts (id, blog_id, slug, title, body_text, language, status, published_at)
      VALUES (gen_random_uuid(), ${blog.id}, ${`post-${index}`}, ${`Post ${index}`}, ${text}, ${language}, 'published', now())`.execute(app.db)
  }

  for (const q of QUERIES) {
    const { rows } = await sql<{ slug: string, narrowed: boolean, somewhere: boolean }>`
      SELECT slug, search @@ post_search_query_any(${q}) AS narrowed,
             EXISTS (SELECT 1 FROM pg_ts_config c WHERE c.cfgnamespace = 'pg_catalog'::regnamespace AND search @@ websearch_to_tsquery(c.oid::regconfig, ${q})) AS somewhere
      FROM posts WHERE blog_id = ${blog.id} ORDER BY slug`.execute(app.db)
    const differ = rows.filter((row) => row.narrowed !== row.somewhere).map((row) => row.slug)
    t.same(differ, [], `${JSON.stringify(q)}: matches ${rows.filter((row) => row.somewhere).length} posts, as some configuration's query does`)
  }
  const matched = await sql<{ n: number }>`SELECT count(*)::int AS n FROM posts WHERE blog_id = ${blog.id} AND search @@ post_search_query_any('harbour')`.execute(app.db)
  t.equal(matched.rows[0]?.n, 2, 'a check that can fail: two posts have the word harbour')

  for (const q of ['harbour', 'liolio -fuel', '"harbour ministries"']) {
    const { rows } = await sql<{ nodes: number, distinct: number, configs: number }>`
      SELECT numnode(post_search_query_any(${q})) AS nodes,
             count(DISTINCT websearch_to_tsquery(c.oid::regconfig, ${q})::text)::int AS distinct,
             count(*)::int AS configs
      FROM pg_ts_config c WHERE c.cfgnamespace = 'pg_catalog'::regnamespace`.execute(app.db)
    const { nodes, distinct, configs } = rows[0] as { nodes: number, distinct: number, configs: number }
    const perBranch = (await sql<{ n: number }>`SELECT numnode(websearch_to_tsquery('simple', ${q})) AS n`.execute(app.db)).rows[0]?.n as number
    t.ok(nodes <= distinct * (perBranch + 1), `${JSON.stringify(q)}: ${nodes} nodes for ${distinct} distinct parses among ${configs} configurations (${perBranch} nodes each)`)
    t.ok(nodes < configs * perBranch, `${JSON.stringify(q)}: fewer nodes than one branch a configuration (${configs * perBranch})`)
  }

  const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT id FROM posts p WHERE p.search @@ post_search_query_any('harbour')`.execute(app.db)
  const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n')
  t.match(text, /'harbour'.*::tsquery/, 'the plan holds the query as a constant')
  t.notMatch(text, /post_search_query_any|websearch_to_tsquery/, 'and calls no parser per post')
})
