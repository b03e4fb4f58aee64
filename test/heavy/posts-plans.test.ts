import { sql, type Compilable, type Kysely } from 'kysely'
import t from 'tap'
import type { DB } from '../../src/db/schema.ts'
import { countQuery, latestPublicPostAt, postsByKeysQuery, publiclyVisible, postsQuery, SEARCH_WALK_WINDOW, type PostBatchRequest, type PostListRequest } from '../../src/content/posts/posts.repository.ts'
import { publicPostCount } from '../../src/content/resources/byline.repository.ts'
import { DEFAULT_POST_FIELDS, EXACT_SEARCH_COUNT_LIMIT } from '../../src/content/posts/posts.schemas.ts'
import { publishDueQuery } from '../../src/content/posts/posts.writes.repository.ts'
import { createPlansDatabase, POSTS } from '../helpers/plans-dataset.ts'
import { ghostPostsQueries, postOrder } from '../../src/compat/ghost/ghost.repository.ts'
import { newsSitemapPosts, sitemapMonths, sitemapMonthsQuery, sitemapPosts } from '../../src/syndication/sitemaps/sitemaps.repository.ts'

// Every list walks an index in its own order at 100,000 posts: no sequential scan of posts, no
// sort of the posts, and page 500 reads about as many rows as page 1. The plans are printed.

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Index Cond'?: string
  'Parent Relationship'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

async function plan (db: Kysely<DB>, request: PostListRequest): Promise<PlanNode> {
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${postsQuery(db, request)}`.execute(db)
  return parsePlan(rows[0]?.['QUERY PLAN'])
}

function parsePlan (raw: unknown): PlanNode {
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>
  return parsed[0]!.Plan
}

function nodes (node: PlanNode, insideSubplan = false): Array<PlanNode & { insideSubplan: boolean }> {
  const here = insideSubplan || node['Parent Relationship'] === 'SubPlan' || node['Parent Relationship'] === 'InitPlan'
  return [{ ...node, insideSubplan: here }, ...(node.Plans ?? []).flatMap((child) => nodes(child, here))]
}

/** Rows of posts a plan's nodes read: those they returned and those their filters removed. */
function postsRowsRead (all: PlanNode[]): number {
  return all.filter((n) => n['Relation Name'] === 'posts')
    .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0)
}

function render (node: PlanNode, depth = 0): string {
  const what = [node['Node Type'], node['Index Name'] ?? node['Relation Name'], node['Actual Rows'] === undefined ? '' : `rows=${node['Actual Rows']}x${node['Actual Loops']}`]
  return ['  '.repeat(depth) + what.filter(Boolean).join(' '), ...(node.Plans ?? []).map((child) => render(child, depth + 1))].join('\n')
}

t.test(`list queries use an index for their order at ${POSTS.toLocaleString('en')} posts`, async (t) => {
  const started = Date.now()
  const testDb = await createPlansDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  t.comment(`${POSTS} posts ready in ${Date.now() - started} ms`)

  const blog = await db.selectFrom('blogs').select('id').where('slug', '=', 'blog-7').executeTakeFirstOrThrow()
  const author = await db.selectFrom('authors').select('id').where('slug', '=', 'author-7').executeTakeFirstOrThrow()
  const tag = await db.selectFrom('tags').select('id').where('slug', '=', 'tag-7').executeTakeFirstOrThrow()
  const otherTag = await db.selectFrom('tags').select('id').where('slug', '=', 'tag-8').executeTakeFirstOrThrow()
  // Where page 500 of the default list starts: after the 9,980th visible post.
  const { rows: [page500] } = await sql<{ published_at: Date, id: string }>`
    SELECT published_at, id FROM posts p
    WHERE p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND p.published_at <= now()
    ORDER BY published_at DESC, id DESC OFFSET 9979 LIMIT 1`.execute(db)

  const base = { sort: 'newest' as const, limit: 21, withBody: false, audience: 'public' as const }
  const lists: Array<[string, PostListRequest]> = [
    ['default list', { ...base, filter: {} }],
    ['per blog', { ...base, filter: { blogIds: [blog.id] } }],
    ['per author', { ...base, filter: { authorIds: [author.id] } }],
    ['per tag', { ...base, filter: { tagIds: [tag.id] } }],
    ['page 500 of the default list', { ...base, filter: {}, after: { publishedAt: page500!.published_at.toISOString(), id: page500!.id } }],
    ['oldest first', { ...base, sort: 'oldest', filter: {} }],
    ['breaking news', { ...base, filter: { isBreaking: true } }],
    // A language few posts are in, and one none is in, both ways: not a walk of every language.
    ['in French', { ...base, filter: { language: 'fr' } }],
    ['in French, oldest first', { ...base, sort: 'oldest', filter: { language: 'fr' } }],
    ['in a language no post is in', { ...base, filter: { language: 'de' } }],
    // A key with content:preview sees drafts too, ordered by publish or creation time.
    ['preview: every post', { ...base, audience: 'preview', filter: {} }],
    ['preview: a blog\'s posts', { ...base, audience: 'preview', filter: { blogIds: [blog.id] } }],
    ['preview: page 500', { ...base, audience: 'preview', filter: {}, after: { publishedAt: page500!.published_at.toISOString(), id: page500!.id } }],
    // Search in each post's own language: with language=, its configuration; without, the
    // any-configuration query narrows through the index before each post's own is checked.
    ['search, any language', { ...base, sort: 'relevance', filter: { q: '4242' } }],
    ['search in English', { ...base, sort: 'relevance', filter: { q: '4242', language: 'en' } }]
  ]
  for (const [name, request] of lists) {
    const root = await plan(db, request)
    t.comment(`${name}:\n${render(root)}`)
    const all = nodes(root)
    t.notOk(all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'posts'), `${name}: no sequential scan of posts`)
    if (request.filter.q !== undefined) {
      t.ok(all.some((n) => n['Index Name'] === 'posts_search_idx'), `${name}: the full-text index`)
      continue // a relevance order is a sort of the matches, by definition
    }
    // Rows a filter removed were read too: a walk that skips most of what it reads is no range.
    const postsRead = postsRowsRead(all.filter((n) => !n.insideSubplan))
    // (A plan for a language no post is in may sort the nothing it read: that costs nothing.)
    t.notOk(postsRead > 0 && all.some((n) => !n.insideSubplan && /Sort/.test(n['Node Type'])), `${name}: no sort outside the per-post subqueries`)
    t.ok(postsRead <= 200, `${name}: read ${postsRead} posts rows for a page of 20`)
    const links = request.filter.authorIds !== undefined ? 'post_authors' : request.filter.tagIds !== undefined ? 'post_tags' : undefined
    if (links !== undefined) {
      // One range of the index of public bylines in list order: drafts and scheduled posts,
      // at the top of that order, are not read (byline_public_order).
      const onLinks = all.filter((n) => n['Relation Name'] === links)
      t.ok(onLinks.length === 1 && onLinks[0]!['Index Name'] === `${links}_public_latest_idx`, `${name}: the index of public ${links} rows (${render(root)})`)
      t.ok(postsRead <= request.limit, `${name}: read ${postsRead} posts rows, no more than the page asks for`)
    }
  }

  // A feed's page carries when the public last saw a post change (its Last-Modified,
  // feeds.routes.ts) from a subquery of the page's own statement: PostgreSQL runs it once per
  // execution (an InitPlan), reading its owners' rows (the network's for an unfiltered feed) by
  // key from a table of one row per blog, author and tag (20,000 here), and the page keeps its plan.
  await sql`INSERT INTO post_list_changes (owner_type, owner_id, changed_at)
    SELECT (ARRAY['blog', 'author', 'tag'])[1 + i % 3], gen_random_uuid(), now() - i * interval '1 minute' FROM generate_series(1, 20000) i`.execute(db)
  await db.insertInto('post_list_changes').values([
    { owner_type: 'tag', owner_id: tag.id, changed_at: new Date() },
    { owner_type: 'tag', owner_id: otherTag.id, changed_at: new Date() },
    { owner_type: 'network', owner_id: '00000000-0000-0000-0000-000000000000', changed_at: new Date() }
  ]).execute()
  await sql`ANALYZE post_list_changes`.execute(db)
  const feeds: Array<[string, PostListRequest, number]> = [
    ['the latest feed', { ...base, limit: 20, filter: {}, withLatestPostChange: [] }, 1],
    ['a tag\'s feed', { ...base, limit: 20, filter: { tagIds: [tag.id] }, withLatestPostChange: [{ type: 'tag', id: tag.id }] }, 1],
    ['a feed filtered to two tags', { ...base, limit: 20, filter: { tagIds: [tag.id, otherTag.id] }, withLatestPostChange: [{ type: 'tag', id: tag.id }, { type: 'tag', id: otherTag.id }] }, 2]
  ]
  for (const [name, request, owners] of feeds) {
    const root = await plan(db, request)
    t.comment(`${name}:\n${render(root)}`)
    const all = nodes(root)
    const onTime = all.filter((n) => n['Relation Name'] === 'changes' || n['Relation Name'] === 'post_list_changes')
    t.ok(onTime.length === 1 && onTime[0]!['Relation Name'] === 'post_list_changes' && onTime[0]!.insideSubplan && onTime[0]!['Actual Loops'] === 1, `${name}: post_list_changes read once, in a subplan`)
    const timeRowsRead = onTime.reduce((sum, n) => sum + (n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0), 0)
    t.ok(onTime[0]?.['Index Name'] === 'post_list_changes_pkey' && timeRowsRead <= owners,
      `${name}: its owners' rows by key (${timeRowsRead} rows read)`)
    // The page's own plan is the list's without the time: a list of one owner's (or every) post
    // walks an index in order; one of two tags' merges their posts and sorts them, as it would anyway.
    const page = all.filter((n) => !n.insideSubplan)
    const steps = (list: typeof all) => list.map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`)
    t.same(steps(page), steps(nodes(await plan(db, { ...request, withLatestPostChange: undefined }))), `${name}: the page's plan is the list's without the time`)
    const postsRead = postsRowsRead(page)
    if (owners === 1) t.ok(postsRead <= 200 && !page.some((n) => /Sort/.test(n['Node Type'])), `${name}: in index order (${postsRead} posts rows, no sort)`)
  }

  // Single posts by address, many in one query (post-lookups.ts): each key finds its post
  // through the primary key or the blog+slug index, for the plan made for the values and for
  // the generic plan a named statement settles on (forced here), which cannot see how many keys
  // the arrays hold.
  const { rows: picked } = await sql<{ id: string, blog_id: string, slug: string }>`
    SELECT id, blog_id, slug FROM posts p WHERE ${publiclyVisible()} ORDER BY hashtext(slug) LIMIT 40`.execute(db)
  const shape = { fields: DEFAULT_POST_FIELDS, links: { apiBase: 'https://api.test', site: { website: undefined, postUrlTemplate: undefined } }, relations: true }
  const batches: Array<[string, PostBatchRequest]> = [
    ['40 posts by blog and slug', { keys: { blogIds: picked.map((p) => p.blog_id), slugs: picked.map((p) => p.slug) }, audience: 'public', asJson: shape }],
    ['40 posts by id, preview', { keys: { ids: picked.map((p) => p.id) }, audience: 'preview', asJson: shape }]
  ]
  for (const [name, request] of batches) {
    const compiled = postsByKeysQuery(db, request).compile()
    const literal = (value: unknown) => value === null || value === undefined ? 'NULL'
      : `'${(Array.isArray(value) ? `{${value.map((item) => `"${String(item)}"`).join(',')}}` : String(value)).replaceAll("'", "''")}'`
    for (const mode of ['custom', 'generic']) {
      const explained = await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL plan_cache_mode = ${sql.lit(mode === 'custom' ? 'force_custom_plan' : 'force_generic_plan')}`.execute(trx)
        await sql`PREPARE batch_plan AS ${sql.raw(compiled.sql)}`.execute(trx)
        const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE batch_plan(${sql.raw(compiled.parameters.map(literal).join(', '))})`.execute(trx)
        await sql`DEALLOCATE batch_plan`.execute(trx)
        return rows
      })
      const root = parsePlan(explained[0]?.['QUERY PLAN'])
      t.comment(`${name}, ${mode} plan:\n${render(root)}`)
      const all = nodes(root)
      t.notOk(all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'posts'), `${name}, ${mode} plan: no sequential scan of posts`)
      const index = 'ids' in request.keys ? 'posts_pkey' : 'posts_blog_slug_unique'
      t.ok(all.some((n) => n['Index Name'] === index), `${name}, ${mode} plan: ${index}`)
      const postsRead = postsRowsRead(all)
      t.ok(postsRead <= picked.length, `${name}, ${mode} plan: read ${postsRead} posts rows for ${picked.length} keys`)
      t.equal(root['Actual Rows'], picked.length, `${name}, ${mode} plan: a row for each key`)
    }
  }

  // A full-text list in list order walks at most SEARCH_WALK_WINDOW posts, then gathers the
  // matches past that edge through the index (listInWindows): a word no post has must neither
  // walk every post (75 s at 1,000,000) nor read them all some other way.
  const { rows: [edge] } = await sql<{ time: string, id: string }>`
    SELECT published_at::text AS time, id FROM posts p
    WHERE p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND p.published_at <= now()
    ORDER BY published_at DESC, id DESC OFFSET ${SEARCH_WALK_WINDOW - 1} LIMIT 1`.execute(db)
  for (const [name, request] of [
    ['search newest first, a word no post has: the walk', { ...base, filter: { q: 'nowhere' }, walkWindow: true }],
    ['search newest first, a word every post has: the walk', { ...base, filter: { q: 'body' }, walkWindow: true }],
    ['search newest first, a word no post has: past the edge', { ...base, filter: { q: 'nowhere' }, after: { publishedAt: edge!.time, id: edge!.id }, sortMatches: true }]
  ] as Array<[string, PostListRequest]>) {
    const root = await plan(db, request)
    t.comment(`${name}:\n${render(root)}`)
    const all = nodes(root)
    t.notOk(all.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'posts'), `${name}: no sequential scan of posts`)
    const postsRead = postsRowsRead(all)
    t.ok(postsRead <= SEARCH_WALK_WINDOW, `${name}: read ${postsRead} posts rows`)
    if (request.sortMatches === true) t.ok(all.some((n) => n['Index Name'] === 'posts_search_idx'), `${name}: the full-text index`)
    // The walk keeps the window's order, so it stops at a full page (a sort would test every post of the window).
    else t.notOk(all.some((n) => !n.insideSubplan && /Sort/.test(n['Node Type'])), `${name}: no sort`)
    if (request.filter.q === 'body') t.ok(postsRead <= 100, `${name}: a common word stops the walk early (${postsRead} rows)`)
  }

  // Counting with q (count=estimate): the full-text index decides which rows are read, never a
  // publish-time range of the public list index beside it (posts.repository.ts, countQuery), and
  // no more rows are read than the count's limit and the few non-public posts between them.
  // (The list index may still stand in for a sequential scan of the public posts, as a partial
  // index read whole: that reads what a scan reads, with no range to combine.)
  // Not bounded by rows, printed here: a query whose words are everywhere but which excludes
  // every post ('post -body') is planned as a scan that reads every post to count none. The
  // route bounds it in time instead (SEARCH_TIME_LIMIT_MS, search-time-limit.test.ts).
  for (const q of ['body', 'nowhere', 'post -body']) {
    // With sequential scans priced out, as at a million posts, where the planner misjudges how
    // many posts a word is in: every index path it has is then in view.
    const explained = await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx)
      return (await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${countQuery(trx, { q }, 'public', EXACT_SEARCH_COUNT_LIMIT).counted}`.execute(trx)).rows
    })
    const root = parsePlan(explained[0]?.['QUERY PLAN'])
    t.comment(`count with q=${q}:\n${render(root)}`)
    const all = nodes(root)
    t.notOk(all.some((n) => /published_at/.test(n['Index Cond'] ?? '')), `count with q=${q}: no publish-time range of an index`)
    const postsRead = postsRowsRead(all)
    if (q === 'post -body') t.comment(`count with q=${q}: read ${postsRead} posts rows`)
    else t.ok(postsRead <= EXACT_SEARCH_COUNT_LIMIT * 1.1, `count with q=${q}: read ${postsRead} posts rows`)
  }

  // The Ghost layer pages by number with exact totals (what its clients expect): page 100 of the
  // network's posts (offset 1,485) and of one tag's, with the count beside them.
  for (const [name, filter] of [['Ghost page 100', undefined], ['Ghost page 100, tag filter', { tag: 'tag-7' }]] as const) {
    const queries = ghostPostsQueries(db, { blogId: undefined, filter, order: postOrder(undefined), limit: 15, offset: 99 * 15, bodies: { html: false, text: true } })
    const timed = async (query: Compilable) => {
      const { rows: explained } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${query}`.execute(db)
      const parsed = (typeof explained[0]?.['QUERY PLAN'] === 'string' ? JSON.parse(explained[0]['QUERY PLAN'] as string) : explained[0]?.['QUERY PLAN']) as Array<{ Plan: PlanNode, 'Execution Time': number }>
      return { root: parsed[0]!.Plan, ms: parsed[0]!['Execution Time'] }
    }
    const page = await timed(queries.page)
    const count = await timed(queries.count)
    t.comment(`${name}: page ${page.ms.toFixed(1)} ms, count ${count.ms.toFixed(1)} ms\n${render(page.root)}\n${render(count.root)}`)
    t.notOk(nodes(page.root).some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'posts'), `${name}: the page walks an index`)
    // The offset is walked in index order over ids; only the page's 15 rows are sorted again.
    // (With a tag filter the tag's posts, a few hundred here, are sorted: the plan above shows it.)
    if (filter === undefined) t.notOk(nodes(page.root).some((n) => !n.insideSubplan && /Sort/.test(n['Node Type']) && (n['Actual Rows'] ?? 0) > 15), `${name}: no sort of more than the page`)
  }

  // Ghost's `id:` filter (a related-posts widget picks or leaves out posts by id) probes the
  // primary key; compared as text it walked the list's index to the post, for the oldest post all
  // of them. A value that is no UUID matches nothing and reads nothing.
  const { rows: [oldest] } = await sql<{ id: string }>`SELECT id FROM posts p WHERE ${publiclyVisible()} ORDER BY published_at, id LIMIT 1`.execute(db)
  const byId = [['id:<the oldest post>', { id: oldest!.id }], ['id:[<the oldest post>,not-a-uuid]', { id: { $in: [oldest!.id, 'not-a-uuid'] } }]] as const
  for (const [name, filter] of byId) {
    const page = ghostPostsQueries(db, { blogId: undefined, filter, order: postOrder(undefined), limit: 15, offset: 0, bodies: { html: false, text: true } }).page
    const { rows: [explained] } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${page}`.execute(db)
    const root = parsePlan(explained?.['QUERY PLAN'])
    t.comment(`Ghost ${name}:\n${render(root)}`)
    t.equal(root['Actual Rows'], 1, `Ghost ${name}: the post`)
    t.ok(postsRowsRead(nodes(root)) <= 2, `Ghost ${name}: read ${postsRowsRead(nodes(root))} posts rows`)
  }

  // Sitemaps: the index of every blog's months reads past months from sitemap_months (kept by
  // triggers) and groups only the current month's posts, from posts_sitemap_idx alone; before
  // the table it grouped every indexable post (657-845 ms at 1,000,000 in the benchmark). A page
  // is one index range. After a vacuum, as autovacuum keeps a live table: index-only scans need
  // the visibility map.
  await sql`VACUUM ANALYZE posts`.execute(db)
  await sql`VACUUM ANALYZE sitemap_months`.execute(db)
  const { rows: [monthIndex] } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${sitemapMonthsQuery(undefined)}`.execute(db)
  const monthPlan = parsePlan(monthIndex?.['QUERY PLAN'])
  const { rows: [thisMonth] } = await sql<{ visible: number, all: number }>`
    SELECT count(*) FILTER (WHERE p.published_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::int AS visible, count(*)::int AS all
    FROM posts p WHERE p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND NOT p.noindex AND p.published_at <= now()`.execute(db)
  t.comment(`sitemap index of the network (${thisMonth!.visible} of ${thisMonth!.all} indexable posts in the current month):\n${render(monthPlan)}`)
  const monthNodes = nodes(monthPlan)
  // EXPLAIN gives each loop's rows as an average, rounded: up to a row more per blog.
  t.ok(postsRowsRead(monthNodes) <= thisMonth!.visible + 50, `sitemap index: reads the current month's posts alone (${postsRowsRead(monthNodes)} rows of posts)`)
  t.ok(monthNodes.filter((n) => n['Relation Name'] === 'posts').every((n) => n['Node Type'] === 'Index Only Scan' && n['Index Name'] === 'posts_sitemap_idx'),
    'sitemap index: the current month from posts_sitemap_idx alone')
  const grouped = (await sql<{ n: number }>`SELECT count(DISTINCT (blog_id, date_trunc('month', published_at AT TIME ZONE 'UTC')))::int AS n
    FROM posts p WHERE p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND NOT p.noindex AND p.published_at <= now()`.execute(db)).rows[0]!.n
  const months = await sitemapMonths(db, undefined)
  t.equal(months.length, grouped, `sitemap index: every blog's every month (${grouped})`)
  t.equal(months.reduce((sum, month) => sum + month.posts, 0), thisMonth!.all, 'sitemap index: every indexable post counted once')
  for (const [name, run] of [
    ['sitemap page of a blog\'s month', async () => sitemapPosts(db, blog.id, new Date().toISOString().slice(0, 7), 0, 50_000)],
    ['news sitemap', () => newsSitemapPosts(db, undefined, 48, 1000)]
  ] as const) {
    const started = performance.now()
    const rows = await run()
    t.comment(`${name}: ${rows.length} rows in ${(performance.now() - started).toFixed(1)} ms`)
  }

  // An author's or tag's public posts counted (count.posts) and their latest publish time, for a
  // page of 100 authors (some 500 posts each here): from the join table's index of public rows
  // alone, never a post read (the byline_public_state migration). Before it, each count joined
  // every row to its post: 0.6 s for 100 authors at 1,000,000 posts.
  await sql`VACUUM ANALYZE post_authors`.execute(db)
  const owners = sql`SELECT a.id, ${publicPostCount('post_authors', 'a.id')} AS n, ${latestPublicPostAt('post_authors', 'a.id')} AS latest
    FROM authors a ORDER BY a.slug LIMIT 100`
  const { rows: [explained] } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (ANALYZE, FORMAT JSON) ${owners}`.execute(db)
  const counted = (typeof explained?.['QUERY PLAN'] === 'string' ? JSON.parse(explained['QUERY PLAN']) : explained?.['QUERY PLAN']) as Array<{ Plan: PlanNode, 'Execution Time': number }>
  const ownerNodes = nodes(counted[0]!.Plan)
  t.comment(`100 authors with their public post counts and latest post: ${counted[0]!['Execution Time'].toFixed(1)} ms\n${render(counted[0]!.Plan)}`)
  t.notOk(ownerNodes.some((n) => n['Relation Name'] === 'posts'), 'author counts: no post read')
  const onLinks = ownerNodes.filter((n) => n['Relation Name'] === 'post_authors')
  t.ok(onLinks.length >= 2 && onLinks.every((n) => n['Node Type'] === 'Index Only Scan' && n['Index Name'] === 'post_authors_public_latest_idx'),
    `author counts: index-only scans of the public rows (${onLinks.map((n) => `${n['Node Type']} ${n['Index Name'] ?? ''}`).join('; ')})`)
  const { rows: [sums] } = await sql<{ counted: number, joined: number }>`
    SELECT (SELECT sum(${publicPostCount('post_authors', 'a.id')})::int FROM authors a) AS counted,
      (SELECT count(*)::int FROM post_authors j JOIN posts p ON p.id = j.post_id WHERE p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND p.published_at <= now()) AS joined`.execute(db)
  t.equal(sums!.counted, sums!.joined, `the counts are what joining every byline to its post gives (${sums!.joined})`)

  // The scheduler's query, run every few seconds: its own small index, never the whole table.
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${publishDueQuery(db, 100)}`.execute(db)
  const due = parsePlan(rows[0]?.['QUERY PLAN'])
  t.comment(`due scheduled posts:\n${render(due)}`)
  t.notOk(nodes(due).some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'posts'), 'due scheduled posts: no sequential scan of posts')
  t.ok(nodes(due).some((n) => n['Index Name'] === 'posts_scheduled_due_idx'), 'due scheduled posts: the partial index')
})
