import { sql, type Compilable, type RawBuilder, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely'
import { latestPostChangeColumn, type PostListOwner } from '../../changes/change-log.repository.ts'
import type { Executor } from '../../db/database.ts'
import { SAME_PLAN_FOR_ANY_VALUES } from '../../db/named-statements.ts'
import { param, preparedQuery, preparedQueryByShape, shapeKey } from '../../db/prepared.ts'
import type { DB, PostsTable } from '../../db/schema.ts'
import { OUT_OF_TIME, withinTimeBudget } from '../../db/time-budget.ts'
import { networkPostUrlTemplate, postApiUrlTemplate, type CompiledTemplate, type Links } from '../common/site.ts'
import { feedItemJson, jsonTemplate, postJson, RUNS, type PostJsonOptions } from './post-json.repository.ts'
import { PUBLIC_STATUSES, type PostStatus } from './post-status.ts'
import type { PostField } from './posts.schemas.ts'

// Posts as the public sees them. Visibility is one predicate (post-status.ts's rule, in SQL),
// that matches the partial indexes of the schema: a public status, its time has come, not
// deleted. A scheduled post therefore appears to readers at its time by itself; the scheduler
// (syndication/scheduler.ts) only flips its status and announces it in the change log.

type PostsAlias = { p: PostsTable }

// Literal SQL, not bound parameters, so the planner can prove that the partial indexes
// (WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL) apply.
const PUBLIC_STATE = sql<boolean>`p.status IN (${sql.join(PUBLIC_STATUSES.map((status) => sql.lit(status)))}) AND p.deleted_at IS NULL`
const PUBLICLY_VISIBLE = sql<boolean>`${PUBLIC_STATE} AND p.published_at <= now()`
// The same rows, with the publish time tested on each row read instead of offered to the
// planner as a range of the public list index (see countQuery).
const PUBLICLY_VISIBLE_TIME_PER_ROW = sql<boolean>`${PUBLIC_STATE} AND p.published_at + interval '0 seconds' <= now()`

/** The visibility predicate on a query whose posts table is aliased `p`. */
export function publiclyVisible () {
  return PUBLICLY_VISIBLE
}

// The same rule on a row of a join table (post_authors, post_tags) aliased `j` (`d` when it
// drives a list), from its copies of the post's public state and publish time (kept by triggers:
// the byline_public_state migration), which a partial index of the public rows holds by owner,
// publish time and post, in list order (byline_public_order).
const publiclyVisibleLinkAs = (alias: 'j' | 'd') => sql<boolean>`${sql.ref(`${alias}.is_public`)} AND ${sql.ref(`${alias}.published_at`)} <= now()`
const PUBLICLY_VISIBLE_LINK = publiclyVisibleLinkAs('j')

/** The visibility predicate on a join-table row aliased `j`, without its post. */
export function publiclyVisibleLink () {
  return PUBLICLY_VISIBLE_LINK
}

/**
 * When the newest public post of an author or tag (the row `owner`, e.g. `a.id`) was published:
 * a scalar subquery on the join table's index of public rows, one probe.
 */
export function latestPublicPostAt (via: 'post_authors' | 'post_tags', owner: string) {
  const ownerColumn = via === 'post_authors' ? 'author_id' : 'tag_id'
  return sql<Date | null>`(SELECT max(j.published_at) FROM ${sql.table(via)} AS j
    WHERE j.${sql.ref(ownerColumn)} = ${sql.ref(owner)} AND ${PUBLICLY_VISIBLE_LINK})`
}

/** public: what anyone may read. preview: every post not deleted, drafts and scheduled ones too. */
export type Audience = 'public' | 'preview'

function visibleTo (audience: Audience) {
  return audience === 'public' ? PUBLICLY_VISIBLE : sql<boolean>`p.deleted_at IS NULL`
}

// Drafts have no publish time; in preview lists they sort by when they were created.
const PREVIEW_SORT_TIME = sql<Date>`coalesce(p.published_at, p.created_at)`

export interface PostFilter {
  blogIds?: string[] | undefined
  authorIds?: string[] | undefined
  tagIds?: string[] | undefined
  ids?: string[] | undefined
  language?: string | undefined
  isBreaking?: boolean | undefined
  isFeatured?: boolean | undefined
  publishedAfter?: Date | undefined
  publishedBefore?: Date | undefined
  q?: string | undefined
  /** Preview only. */
  statuses?: PostStatus[] | undefined
}

export type PostSort = 'newest' | 'oldest' | 'relevance'

export interface PostPosition { publishedAt: string, id: string, rank?: number | undefined }

export interface PostListRequest {
  filter: PostFilter
  sort: PostSort
  after?: PostPosition | undefined
  limit: number
  withBody: boolean
  /** Also the plain-text body (formats=plaintext). */
  withText?: boolean | undefined
  audience: Audience
  /** Test the query on the first SEARCH_WALK_WINDOW posts of the list only (listInWindows). */
  walkWindow?: boolean | undefined
  /** Gather every match and sort them instead of walking an index in order (listInWindows). */
  sortMatches?: boolean | undefined
  /**
   * Each row also says when the public last saw a post change (LatestPostChange; a post of
   * these blogs, authors or tags, when any are given), from the page's own snapshot: what a
   * feed's Last-Modified counts.
   */
  withLatestPostChange?: readonly PostListOwner[] | undefined
}

export interface Summary { id: string, slug: string, name: string }

type PostColumns = Pick<Selectable<PostsTable>,
  'id' | 'blog_id' | 'slug' | 'title' | 'subtitle' | 'excerpt' | 'word_count' | 'lead_image_url' | 'lead_image_alt' |
  'lead_image_caption' | 'lead_image_credit' | 'lead_image_width' | 'lead_image_height' | 'language' | 'is_breaking' |
  'is_featured' | 'version' | 'updated_at' | 'created_at' | 'status' | 'meta_title' | 'meta_description' | 'canonical_url' | 'og_title' |
  'og_description' | 'og_image_url' | 'twitter_title' | 'twitter_description' | 'twitter_image_url' | 'noindex'>

export type PostRow = PostColumns & {
  published_at: Date | null
  /** The time lists sort by: published_at, or for drafts in preview, created_at. */
  sort_time: Date
  body_html: string | null
  body_text: string | null
  blog_slug: string
  blog_title: string
  blog_website_url: string | null
  blog_post_url_template: string | null
  authors: Summary[]
  tags: Summary[]
  rank: number | null
}

// Full-text search in each post's own language (the search_in_post_language migration): a post's
// vector is built with its language's text-search configuration, so a query must be parsed
// with the same one to meet its stems and stop words. With `language=`, that language's
// configuration, and the GIN index answers directly. Without it, every post is matched against
// the query parsed in its own language; the index first narrows to posts that match the query
// in any configuration (a superset), then each candidate is checked exactly.
function searchQuery (q: string, language: string | undefined) {
  return language === undefined
    ? sql`websearch_to_tsquery(post_search_config(p.language), ${q})`
    : sql`websearch_to_tsquery(post_search_config(${language}), ${q})`
}

function searchMatches (q: string, language: string | undefined) {
  return language === undefined
    ? sql<boolean>`(p.search @@ post_search_query_any(${q}) AND p.search @@ ${searchQuery(q, undefined)})`
    : sql<boolean>`p.search @@ ${searchQuery(q, language)}`
}

/**
 * searchMatches for a statement planned once for any q (the walk): what depends on q alone is
 * a subquery, computed once per execution; as a plain expression a plan made without the
 * values would parse q again for every post it tests.
 */
function searchMatchesPlannedOnce (q: string, language: string | undefined) {
  return language === undefined
    ? sql<boolean>`(p.search @@ (SELECT post_search_query_any(${q})) AND p.search @@ ${searchQuery(q, undefined)})`
    : sql<boolean>`p.search @@ (SELECT ${searchQuery(q, language)})`
}

/**
 * One query per page: the posts in keyset order, with their blog, ordered authors and tags
 * as small summaries (correlated subqueries run only for the rows on the page).
 *
 * The order comes from an index: the author or tag join table when the list is about one
 * author or one tag (they carry published_at for this), otherwise the posts indexes.
 */
export async function listPosts (db: Executor, request: PostListRequest): Promise<PostRow[]> {
  const listing = await listInWindows(db, { request }, undefined)
  // No time budget: every search runs to its end, and relevance always answers.
  return (listing as PostListing<PostRow>).rows
}

/** A page of posts; a full-text list may stop short of a full page to keep within its time. */
export interface PostListing<Row> {
  rows: Row[]
  /**
   * Set when the search stopped short of the page to keep within its time: the list position
   * (its order, the query aside) up to which every post was searched. The next page goes on
   * from there, as from the last post of a full page.
   */
  searchedThrough?: PostPosition | undefined
}

/** A post of a page as the API's JSON text, with what its cursor is made of (and, when asked, its relations). */
export interface PostJsonRow extends Partial<PostRelations> {
  id: string
  /** Its place in the list's order: ISO 8601 text to the microsecond (isoMicroseconds), what its cursor holds. */
  sort_time: string
  rank: number | null
  json: string
}

/** Whom a post belongs to: what include= loads and what its surrogate keys name. */
export interface PostRelations { blog_id: string, authors: Summary[], tags: Summary[] }

/** A single post as the API's JSON text, with what its response headers and address checks need. */
export type PostJsonRecord = Omit<PostJsonRow, 'sort_time'> & PostRelations & Pick<PostRow, 'slug' | 'blog_slug' | 'version' | 'updated_at' | 'noindex'>

/**
 * The same page as listPosts, each post as its JSON text with `fields` (post-json.repository.ts):
 * what list routes send, without parsing the rows into objects and serializing them again.
 */
export async function listPostsAsJson (db: Executor, request: PostListRequest, shape: JsonShape, searchTimeMs?: number): Promise<PostListing<PostJsonRow> | typeof OUT_OF_TIME> {
  return listInWindows(db, { request, asJson: shape }, searchTimeMs) as Promise<PostListing<PostJsonRow> | typeof OUT_OF_TIME>
}

/** An item of the compact JSON feed as its JSON text, and when its post was last updated (for the feed's Last-Modified). */
export interface FeedItemJsonRow { json: string, updated_at: Date }

/** The compact JSON feed's items for `request` (public posts, newest first, no full-text query, no article), as PostgreSQL writes them. */
export async function listFeedItemsAsJson (db: Executor, request: PostListRequest, links: Links): Promise<FeedItemJsonRow[]> {
  return await pageOfPosts(db, { request, asJson: { fields: [], links, feedItem: true } }) as FeedItemJsonRow[]
}

/** How many posts (in list order, the query aside) a full-text page looks through by walking. */
export const SEARCH_WALK_WINDOW = 5_000

/**
 * A full-text list in list order, in two bounded steps. Walking an index in order and testing
 * each post until the page is full costs what the walk reads: little for a common word, every
 * post for a word no post has (75 s at 1,000,000 posts; the planner cannot tell a rare word
 * from a common one: it guesses every word outside its sample's most common ones at half
 * the rarest frequency it saw). So the walk looks at the first SEARCH_WALK_WINDOW posts of the
 * list only (first query: a subquery with that LIMIT, so no plan can read more); what the page
 * still lacks comes from the posts past that edge through the full-text index, every match
 * gathered and sorted (second query), which usually costs what the matches are: few, or the walk
 * would have filled the page. Relevance order always gathers and sorts.
 *
 * Gathering reads every candidate the full-text index gives, and the index cannot check word
 * positions or a word's absence: a phrase of two common words gives every post with both,
 * matches or not (10.9 s cold at 1,000,000 posts). So gathering has `searchTimeMs` of
 * PostgreSQL's time; when it runs out, the page holds what the walk found, possibly nothing,
 * and goes on from the window's edge (`searchedThrough`): each request bounded, no post
 * skipped or repeated. Ranking has no such edge to stop at: out of time, it is OUT_OF_TIME.
 */
async function listInWindows (db: Executor, page: PageRequest, searchTimeMs: number | undefined): Promise<PostListing<unknown> | typeof OUT_OF_TIME> {
  const { request } = page
  if (request.filter.q === undefined) return { rows: await pageOfPosts(db, page) }
  if (request.sort === 'relevance') {
    const ranked = await withinTimeBudget(db, searchTimeMs, (db) => pageOfPosts(db, page))
    return ranked === OUT_OF_TIME ? OUT_OF_TIME : { rows: ranked }
  }
  const walked = await pageOfPosts(db, { ...page, request: { ...request, walkWindow: true } })
  if (walked.length >= request.limit) return { rows: walked }
  const edge = await walkWindowEdge(db, request)
  if (edge === undefined) return { rows: walked }
  const pastEdge = { ...request, after: edge, limit: request.limit - walked.length, sortMatches: true }
  const gathered = await withinTimeBudget(db, searchTimeMs, (db) => pageOfPosts(db, { ...page, request: pastEdge }))
  if (gathered === OUT_OF_TIME) return { rows: walked, searchedThrough: edge }
  return { rows: [...walked, ...gathered] }
}

/** The position SEARCH_WALK_WINDOW posts past the cursor in list order (the query aside), or undefined when the list ends before it. */
async function walkWindowEdge (db: Executor, request: PostListRequest): Promise<PostPosition | undefined> {
  const { page, time, id } = postsInOrder(db, { ...request, filter: { ...request.filter, q: undefined } }, false)
  const edge = await page
    // The next query's bound is the edge itself, and a cursor (searchedThrough) can carry it.
    .select([isoMicroseconds(time).as('time'), sql<string>`${id}`.as('id')])
    .offset(sql.lit(SEARCH_WALK_WINDOW - 1)).limit(sql.lit(1))
    .executeTakeFirst()
  return edge === undefined ? undefined : { publishedAt: edge.time, id: edge.id }
}

interface PageRequest { request: PostListRequest, asJson?: JsonShape | undefined }

// Building the page query's tree and compiling it was 5-6 % of an uncached page's CPU in the
// API; its shapes are few (which filters, how many ids, which fields), so each is built once.
const pageOfPostsByShape = preparedQueryByShape<PageRequest, unknown>(parameterized, (db, { request, asJson }) => postsQuery(db, request, asJson))

async function pageOfPosts (db: Executor, page: PageRequest): Promise<unknown[]> {
  const { asJson } = page
  if (asJson === undefined) return pageOfPostsByShape(db, page)
  return fromStoredTexts(asJson, (shape) => pageOfPostsByShape(db, { ...page, asJson: shape }))
}

/** A page request with a parameter in place of each value (prepared.ts), and the values. */
function parameterized ({ request, asJson }: PageRequest): { key: string, shape: PageRequest, params: Record<string, unknown> } {
  const { params, value } = parameters()
  const values = (name: string, given: string[] | undefined) => given?.map((item, i) => value(`${name}${i}`, item))
  const { filter, after } = request
  const shape: PageRequest = {
    request: {
      ...request,
      filter: {
        blogIds: values('blogIds', filter.blogIds),
        authorIds: values('authorIds', filter.authorIds),
        tagIds: values('tagIds', filter.tagIds),
        ids: values('ids', filter.ids),
        language: value('language', filter.language),
        // Left in the shape (applyFilter writes them as literals): see there.
        isBreaking: filter.isBreaking,
        isFeatured: filter.isFeatured,
        publishedAfter: value('publishedAfter', filter.publishedAfter),
        publishedBefore: value('publishedBefore', filter.publishedBefore),
        q: value('q', filter.q),
        statuses: values('statuses', filter.statuses) as PostStatus[] | undefined
      },
      after: after === undefined
        ? undefined
        : { publishedAt: value('afterTime', after.publishedAt), id: value('afterId', after.id), rank: value('afterRank', after.rank ?? 0) },
      // Each owner's id a parameter too: in the shape, each owner's feed was a shape of its own.
      withLatestPostChange: request.withLatestPostChange?.map((owner, i) => ({ type: owner.type, id: value(`owner${i}`, owner.id) }))
    },
    asJson: asJson === undefined ? undefined : parameterizedShape(asJson, value)
  }
  return { key: shapeKey(shape), shape, params }
}

type Parameterize = <T>(name: string, given: T) => T

/**
 * A JSON shape's links as parameters: they follow the request's host unless PUBLIC_BASE_URL is
 * set. They go in as the templates' parts (jsonTemplate), the text of each a parameter.
 */
function parameterizedShape (shape: JsonShape, value: Parameterize): JsonShape {
  const parameterized = (name: string, parts: CompiledTemplate): CompiledTemplate =>
    parts.map((part, i) => 'text' in part ? { text: value(`${name}${i}`, part.text) } : part)
  // The links go: carried by the templates now, left in they would make a shape of each host.
  const { links: _carriedByTheTemplates, ...rest } = shape
  return {
    ...rest,
    urlTemplate: parameterized('urlText', urlTemplateOf(shape)),
    apiUrlTemplate: parameterized('apiUrlText', apiUrlTemplateOf(shape))
  }
}

/** A shape's templates: from its links, or as made parameters. */
const urlTemplateOf = (shape: JsonShape): CompiledTemplate => shape.links === undefined ? shape.urlTemplate : jsonTemplate(networkPostUrlTemplate(shape.links))
const apiUrlTemplateOf = (shape: JsonShape): CompiledTemplate => shape.links === undefined ? shape.apiUrlTemplate : jsonTemplate(postApiUrlTemplate(shape.links))

function parameters (): { params: Record<string, unknown>, value: Parameterize } {
  const params: Record<string, unknown> = {}
  const value = <T>(name: string, given: T): T => {
    if (given === undefined) return given
    params[name] = given
    return param<T>(name)
  }
  return { params, value }
}

/** A post, addressed by id or by blog and slug. */
export type PostKey = { id: string } | { blogId: string, slug: string }

/** Keys of one kind, in the order asked, as the batch query's arrays. */
export type PostKeys = { ids: string[] } | { blogIds: string[], slugs: string[] }

export interface PostBatchRequest {
  keys: PostKeys
  /** How many keys there are (the arrays' length; given apart when they are parameters). */
  keyCount?: number
  audience: Audience
  asJson: JsonShape
}

const keyCountOf = (keys: PostKeys): number => 'ids' in keys ? keys.ids.length : keys.blogIds.length

type AskedKey = { id: string, blog_id: string, slug: string, n: string }

/**
 * Many posts by address in one query (db/lookup-batches.ts): the keys as arrays, unnested WITH
 * ORDINALITY, each joined to its post through the primary key or the blog+slug unique index;
 * `n` says which ask a row answers. One statement text for any number of keys, so it is named
 * and planned once per connection (test/heavy/posts-plans.test.ts proves the plan, and
 * test/heavy/plans-reused.test.ts that it is made once).
 */
const postsJsonByKeys = preparedQueryByShape<PostBatchRequest, PostJsonRecord & { n: string }>(
  ({ keys, audience, asJson }) => {
    const { params, value } = parameters()
    const shape: PostBatchRequest = {
      keys: 'ids' in keys ? { ids: value('ids', keys.ids) } : { blogIds: value('blogIds', keys.blogIds), slugs: value('slugs', keys.slugs) },
      keyCount: value('keyCount', keyCountOf(keys)),
      audience,
      asJson: parameterizedShape({ ...asJson, relations: true }, value)
    }
    return { key: shapeKey(shape), shape, params }
  },
  (db, request) => postsByKeysQuery(db, request) as unknown as Compilable<PostJsonRecord & { n: string }>)

/** The query behind findPostsJson, unexecuted: the heavy tests EXPLAIN it to prove its plan. */
export function postsByKeysQuery (db: Executor, { keys, keyCount = keyCountOf(keys), audience, asJson }: PostBatchRequest) {
  // LIMIT <the number of keys> changes no result; it is there for the planner. A generic plan
  // (one for any values) counts on ten rows from unnest of an array it cannot see, and a plan
  // made for one key's array on one: the generic plan looked the dearer, and PostgreSQL planned
  // every lookup afresh, 1.1 ms of planning against 0.1-0.6 ms of running it (50,000 posts).
  // A LIMIT it cannot see it counts as a tenth of the rows, so the generic plan (the same nested
  // loop over the unique index) is the cheaper from the sixth execution on, and is kept.
  const asked = 'ids' in keys
    ? sql<AskedKey>`(SELECT * FROM unnest(${keys.ids}::uuid[]) WITH ORDINALITY AS k(id, n) LIMIT ${keyCount})`
    : sql<AskedKey>`(SELECT * FROM unnest(${keys.blogIds}::uuid[], ${keys.slugs}::text[]) WITH ORDINALITY AS k(blog_id, slug, n) LIMIT ${keyCount})`
  const found = visiblePosts(db, audience).innerJoin(asked.as('k'), (join) => 'ids' in keys
    ? join.onRef('k.id', '=', 'p.id')
    : join.onRef('k.blog_id', '=', 'p.blog_id').onRef('k.slug', '=', 'p.slug'))
  return withJsonColumns(found as unknown as ReturnType<typeof visiblePosts>, asJson, audience, undefined, false)
    .select(['p.slug', 'b.slug as blog_slug', 'p.version', 'p.updated_at', 'p.noindex', sql<string>`k.n`.as('n')])
}

/** Posts for `keys` (all ids, or all blog+slug), in their order, undefined where none is visible. */
export async function findPostsJson (db: Executor, keys: PostKey[], audience: Audience, shape: JsonShape): Promise<Array<PostJsonRecord | undefined>> {
  const ids = keys.flatMap((key) => 'id' in key ? [key.id] : [])
  const addresses = keys.flatMap((key) => 'slug' in key ? [key] : [])
  if (ids.length > 0 && addresses.length > 0) throw new Error('findPostsJson: ids and addresses in one query')
  const byKeys: PostKeys = ids.length > 0 ? { ids } : { blogIds: addresses.map((key) => key.blogId), slugs: addresses.map((key) => key.slug) }
  const answers: Array<PostJsonRecord | undefined> = new Array(keys.length).fill(undefined)
  const rows = await fromStoredTexts(shape, (asJson) => postsJsonByKeys(db, { keys: byKeys, audience, asJson }))
  for (const { n, ...row } of rows) answers[Number(n) - 1] = row
  return answers
}

/** `listed`: the rows are a list's page, and each carries its position (sort_time) for the cursor. */
function withJsonColumns (posts: ReturnType<typeof visiblePosts>, shape: JsonShape, audience: Audience, search: Search | undefined, listed: boolean) {
  // Each post's runs by its primary key (unused, as by a feed's items, PostgreSQL drops the join).
  const query = posts.leftJoin(`post_json_runs as ${RUNS}`, `${RUNS}.post_id`, 'p.id')
  const time = sortTime(audience)
  const options: PostJsonOptions = {
    urlTemplate: urlTemplateOf(shape),
    apiUrlTemplate: apiUrlTemplateOf(shape),
    sortTime: time,
    everyPostPublic: audience === 'public',
    runs: shape.runs ?? 'stored or computed'
  }
  // A feed is one page and a post is one post: no cursor for either, so no position to write out.
  const position = listed && shape.feedItem !== true ? isoMicroseconds(time) : sql<string>`NULL::text`
  if (shape.feedItem === true) {
    return query.select(['p.id', position.as('sort_time'), rankColumn(search).as('rank'), feedItemJson(options).as('json'), 'p.updated_at'])
  }
  const selected = query.select(['p.id', position.as('sort_time'), rankColumn(search).as('rank'), postJson(shape.fields, options).as('json')])
  // Kept on the row by triggers (the post_byline_summaries migration), in byline order.
  return shape.relations === true ? selected.select(['p.blog_id', 'p.author_summaries as authors', 'p.tag_summaries as tags']) : selected
}

/**
 * The fields of each post and the links they are built with, or instead of the links their
 * templates as PostJsonOptions has them, made parameters (parameterizedShape); `relations`: also
 * PostRelations; `runs`: see PostJsonOptions ('stored or computed' unless said).
 */
export type JsonShape = {
  fields: readonly PostField[]
  relations?: boolean | undefined
  runs?: PostJsonOptions['runs'] | undefined
  /** Items of the compact JSON feed (feedItemJson) instead of posts, `fields` aside. */
  feedItem?: boolean | undefined
} & ({ links: Links } | { links?: undefined, urlTemplate: CompiledTemplate, apiUrlTemplate: CompiledTemplate })

/**
 * Asks for posts' JSON from the texts kept on the rows alone, and again, computing what is
 * missing, when a post lacks one (PostJsonOptions): only posts not written since a migration
 * that added such a text, until the background pass has stored theirs.
 */
async function fromStoredTexts<Row> (shape: JsonShape, ask: (shape: JsonShape) => Promise<Row[]>): Promise<Row[]> {
  const rows = await ask({ ...shape, runs: 'stored' })
  if (!rows.some((row) => (row as { json?: string | null }).json === null)) return rows
  return ask({ ...shape, runs: 'stored or computed' })
}

/** The query behind listPosts (or, given a shape, listPostsAsJson), unexecuted: tests EXPLAIN it to prove the plan. */
export function postsQuery (db: Executor, request: PostListRequest, asJson?: JsonShape) {
  const search = request.filter.q === undefined ? undefined : { q: request.filter.q, language: request.filter.language }
  const page = (request.walkWindow === true ? firstPostsOfList(db, request) : postsInOrder(db, request, true).page)
    // A literal, not a parameter: with LIMIT $n the planner costs a prepared statement's generic
    // plan as if a tenth of the table came back and keeps re-planning every execution instead
    // (2.5 ms, more than the query). Limits are validated integers, and few.
    .limit(sql.lit(request.limit))
  const selected = asJson !== undefined
    ? withJsonColumns(page, asJson, request.audience, search, true)
    : withPostColumns(page, { html: request.withBody, text: request.withText ?? false }, request.audience, search)
  // In the page's statement rather than a query of its own beside it: that second round trip
  // (another connection, a query built and parsed) made an uncached feed cost a fifth more API
  // CPU (bench/cpu-split.sh /v1/feeds/latest at 1,000,000 posts, three alternated pairs:
  // 0.44-0.48 ms a request against 0.35-0.39 now), and the two could see different snapshots.
  const latestOf = request.withLatestPostChange
  return latestOf !== undefined
    ? (selected as ReturnType<typeof withPostColumns>).select(latestPostChangeColumn(latestOf)) as unknown as typeof selected
    : selected
}

/**
 * The list's first SEARCH_WALK_WINDOW posts, the query aside, as `p` with their blogs (`b`),
 * tested against the query in list order (listInWindows). A LIMIT inside a subquery cannot be
 * planned around: whatever PostgreSQL chooses, it reads no more posts than the window. So its
 * plan does not depend on the words, and it is a named statement, planned once per connection:
 * planning it for each search cost 1.1-2.3 ms of PostgreSQL's time, against 2-4 ms to run it
 * for a common word (the server's log, one connection, warm).
 */
function firstPostsOfList (db: Executor, request: PostListRequest) {
  const { filter, sort } = request
  const { page, time, id } = postsInOrder(db, { ...request, filter: { ...filter, q: undefined }, walkWindow: undefined }, false)
  const window = page.selectAll('p').select([time.as('window_time'), id.as('window_id')]).limit(sql.lit(SEARCH_WALK_WINDOW))
  const direction = sort === 'oldest' ? sql.raw('ASC') : sql.raw('DESC')
  return (db as Kysely<DB>).selectFrom(window.as('p'))
    // Each post's blog by a lookup of its own (OFFSET 0 keeps it one): a join the planner may
    // turn into a hash join loses the window's order, and sorting then tests every post of it.
    .innerJoinLateral((eb) => eb.selectFrom('blogs').selectAll('blogs').whereRef('blogs.id', '=', 'p.blog_id').offset(sql.lit(0)).as('b'), (join) => join.onTrue())
    .where(searchMatchesPlannedOnce(filter.q ?? '', filter.language))
    .orderBy(sql`p.window_time ${direction}`)
    .orderBy(sql`p.window_id ${direction}`)
    .modifyEnd(sql.raw(SAME_PLAN_FOR_ANY_VALUES)) as unknown as ReturnType<typeof postsInOrder>['page']
}

/**
 * The posts of a list request, filtered and ordered, nothing selected, no limit; with `withBlogs`
 * joined to their blogs (`b`), which a page's columns need and counting positions does not.
 */
function postsInOrder (db: Executor, request: PostListRequest, withBlogs: boolean) {
  const { filter, sort, audience } = request
  const driver = sort === 'relevance' || audience === 'preview'
    ? 'posts'
    : filter.tagIds?.length === 1 ? 'tag' : filter.authorIds?.length === 1 ? 'author' : 'posts'

  let query = withBlogs ? visiblePosts(db, audience) : visiblePostsOnly(db, audience)
  if (driver === 'tag') {
    query = query.innerJoin('post_tags as d', 'd.post_id', 'p.id').where('d.tag_id', '=', filter.tagIds?.[0] as string)
  } else if (driver === 'author') {
    query = query.innerJoin('post_authors as d', 'd.post_id', 'p.id').where('d.author_id', '=', filter.authorIds?.[0] as string)
  }
  // Only public lists have a driving join table. Its index of public rows is in list order
  // (byline_public_order), so a page is one range of it from now on: drafts and scheduled
  // posts, at the top of the order, are not read and thrown away.
  if (driver !== 'posts') query = query.where(publiclyVisibleLinkAs('d'))
  query = applyFilter(query, filter, driver)

  // The sort key columns: the driving join table's copy when there is one, so the index
  // that provides the order is the one that is filtered on.
  const time = audience === 'preview' ? PREVIEW_SORT_TIME : driver === 'posts' ? sql.ref('p.published_at') : sql.ref('d.published_at')
  const id = driver === 'posts' ? sql.ref('p.id') : sql.ref('d.post_id')
  const direction = sort === 'oldest' ? sql.raw('ASC') : sql.raw('DESC')
  const position = sql`(${time}, ${id})`

  if (request.after !== undefined) {
    const { publishedAt, id: afterId, rank } = request.after
    // The cursor's values reach the plan as subqueries' results (one-time InitPlans), which the
    // planner cannot see into: a plan made for the values then costs what the generic plan does,
    // and PostgreSQL keeps the generic one, made once per connection. With the values visible,
    // whether it planned each page anew came down to a few units of estimated cost, which a
    // change to the select list can tip: on a branch that made the list's columns cheaper,
    // every page after the first was planned at its Bind (0.4-0.6 ms of PostgreSQL's time, its
    // log showed at 1,000,000 posts; pg_prepared_statements: 12 custom plans, no generic one).
    const cursor = sql`((SELECT ${publishedAt}::timestamptz), (SELECT ${afterId}::uuid))`
    if (sort === 'relevance') {
      const rankExpr = rankOf(filter.q ?? '', filter.language)
      query = query.where(sql<boolean>`(${rankExpr} < ${rank ?? 0}::real OR (${rankExpr} = ${rank ?? 0}::real AND ${position} < ${cursor}))`)
    } else {
      query = query.where(sort === 'oldest' ? sql<boolean>`${position} > ${cursor}` : sql<boolean>`${position} < ${cursor}`)
    }
  }

  if (sort === 'relevance') query = query.orderBy(sql`rank`, 'desc')
  // Sorting by an expression no index provides leaves the planner one way to the matches: the
  // full-text index (listInWindows; the order is the same).
  const orderTime = request.sortMatches === true ? sql`${time} + interval '0 seconds'` : time
  const page = query
    .orderBy(sql`${orderTime} ${direction}`)
    .orderBy(sql`${id} ${direction}`)
  return { page, time, id }
}

/**
 * How many posts match: counted while that stays cheap (up to `exactUpTo` rows, an index range
 * at most that long), beyond it the planner's estimate, never a count(*) of millions. The
 * planner alone was wildly wrong on small and filtered lists (1 for 27 posts).
 */
export async function countPosts (db: Executor, filter: PostFilter, audience: Audience, exactUpTo: number, searchTimeMs?: number): Promise<{ total: number, exact: boolean }> {
  // Counting a search's matches costs what finding them does (listInWindows): when it runs out
  // of `searchTimeMs`, the estimate answers, for all the planner knows.
  const counted = await withinTimeBudget(db, filter.q === undefined ? undefined : searchTimeMs, (db) => countQuery(db, filter, audience, exactUpTo).counted.executeTakeFirstOrThrow())
  const total = counted === OUT_OF_TIME ? undefined : Number(counted.n)
  if (total !== undefined && total <= exactUpTo) return { total, exact: true }
  const { matching } = countQuery(db, filter, audience, exactUpTo)
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${matching}`.execute(db)
  const plan = rows[0]?.['QUERY PLAN']
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as Array<{ Plan: { 'Plan Rows': number } }>
  const estimate = Math.round(parsed[0]?.Plan['Plan Rows'] ?? 0)
  // Counted past exactUpTo: more match for certain, and an estimate below would contradict it.
  return { total: total === undefined ? estimate : Math.max(exactUpTo + 1, estimate), exact: false }
}

/**
 * The posts that match (`matching`) and their count up to `exactUpTo + 1` (`counted`). With a
 * full-text query the planner estimates a few hundred matches for a word in a sixth of the posts,
 * and combined the full-text index with a bitmap of every public post by publish time
 * (BitmapAnd): 300 of 360 ms for `liolio` at 1,000,000 posts. The publish time is then tested on
 * each row read instead, and the full-text index alone decides which rows are read
 * (EXPLAIN ANALYZE, counting to 1,001: 358 -> 157 ms; the heavy plan test holds it).
 */
export function countQuery (db: Executor, filter: PostFilter, audience: Audience, exactUpTo: number) {
  const visible = audience === 'public' && filter.q !== undefined ? PUBLICLY_VISIBLE_TIME_PER_ROW : visibleTo(audience)
  const matching = applyFilter(db.selectFrom('posts as p').select(sql.lit(1).as('one')).where(visible), filter, 'posts')
  const counted = db.selectFrom(matching.limit(sql.lit(exactUpTo + 1)).as('m')).select((eb) => eb.fn.countAll<string>().as('n'))
  return { matching, counted }
}

// A post as a row, for what is not its JSON response (NewsArticle, writes' responses): one
// shape per audience (prepared.ts), carrying both bodies.
const postById = forEachAudience((audience) => preparedQuery<{ id: string }, PostRow>((db) =>
  selectPostRows(db, BOTH_BODIES, audience).where('p.id', '=', param('id')) as unknown as Compilable<PostRow>))

function forEachAudience<T> (make: (audience: Audience) => T): Record<Audience, T> {
  return { public: make('public'), preview: make('preview') }
}

export async function findPostById (db: Executor, id: string, audience: Audience): Promise<PostRow | undefined> {
  return (await postById[audience](db, { id }))[0]
}

function rankOf (q: string, language: string | undefined) {
  return sql<number>`ts_rank_cd(p.search, ${searchQuery(q, language)})`
}

const BOTH_BODIES = { html: true, text: true }

/**
 * Public posts with everything a page shows (blog, ordered authors and tags), unfiltered and
 * unordered: for callers with their own filter, order and paging (compat/ghost/).
 */
export function publicPostRows (db: Executor, bodies: { html: boolean, text: boolean }) {
  return selectPostRows(db, bodies, 'public')
}

function selectPostRows (db: Executor, bodies: { html: boolean, text: boolean }, audience: Audience) {
  return withPostColumns(visiblePosts(db, audience), bodies, audience, undefined)
}

/** The posts `audience` may see (`p`) with their blogs (`b`), nothing selected yet. */
function visiblePosts (db: Executor, audience: Audience) {
  return (db as Kysely<DB>).selectFrom('posts as p')
    .innerJoin('blogs as b', 'b.id', 'p.blog_id')
    .where(visibleTo(audience))
}

/** The same posts without their blogs (every post has one), typed alike for the builders above. */
function visiblePostsOnly (db: Executor, audience: Audience) {
  return (db as Kysely<DB>).selectFrom('posts as p').where(visibleTo(audience)) as unknown as ReturnType<typeof visiblePosts>
}

type Search = { q: string, language: string | undefined }

function sortTime (audience: Audience) {
  return audience === 'public' ? sql<Date>`p.published_at` : PREVIEW_SORT_TIME
}

/**
 * A time as ISO 8601 text in UTC, microseconds and all, whatever the session's time zone: what
 * a list position (a cursor) is made of. PostgreSQL keeps times to the microsecond, and a publish
 * without a time takes the transaction's now(); a position made from a Date (milliseconds) put
 * the next page's bound before the last post seen, and the posts within its millisecond were
 * skipped (newest first) or served again (oldest first): test/content/posts/cursor-precision.test.ts.
 */
function isoMicroseconds (time: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

function rankColumn (search: Search | undefined): RawBuilder<number | null> {
  return search === undefined ? sql<null>`NULL::real` : rankOf(search.q, search.language)
}

function withPostColumns (query: ReturnType<typeof visiblePosts>, bodies: { html: boolean, text: boolean }, audience: Audience, search: Search | undefined) {
  return query
    .select([
      'p.id', 'p.blog_id', 'p.slug', 'p.title', 'p.subtitle', 'p.excerpt', 'p.word_count', 'p.lead_image_url',
      'p.lead_image_alt', 'p.lead_image_caption', 'p.lead_image_credit', 'p.lead_image_width', 'p.lead_image_height',
      'p.language', 'p.is_breaking', 'p.is_featured', 'p.version', 'p.published_at', 'p.updated_at', 'p.created_at', 'p.status',
      'p.meta_title', 'p.meta_description', 'p.canonical_url', 'p.og_title', 'p.og_description', 'p.og_image_url', 'p.twitter_title',
      'p.twitter_description', 'p.twitter_image_url', 'p.noindex',
      'b.slug as blog_slug', 'b.title as blog_title', 'b.website_url as blog_website_url', 'b.post_url_template as blog_post_url_template'
    ])
    .select(sortTime(audience).as('sort_time'))
    .select(bodies.html ? sql<string>`p.body_html`.as('body_html') : sql<null>`NULL::text`.as('body_html'))
    .select(bodies.text ? sql<string>`p.body_text`.as('body_text') : sql<null>`NULL::text`.as('body_text'))
    .select(rankColumn(search).as('rank'))
    // Kept on the row by triggers (the post_byline_summaries migration), in byline order.
    .select(['p.author_summaries as authors', 'p.tag_summaries as tags'])
}

// The builder's table types differ with each join; the filter itself only touches `p` columns.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function applyFilter<Q extends SelectQueryBuilder<any, any, any>> (query: Q, filter: PostFilter, driver: 'posts' | 'tag' | 'author'): Q {
  let q = query as SelectQueryBuilder<DB & PostsAlias, 'p', object>
  if (filter.blogIds !== undefined) q = q.where('p.blog_id', 'in', nonEmpty(filter.blogIds))
  if (filter.ids !== undefined) q = q.where('p.id', 'in', nonEmpty(filter.ids))
  if (filter.language !== undefined) q = q.where('p.language', '=', filter.language)
  // Literals, not parameters: few posts are breaking or featured, and a plan for `= $1` (one for
  // either value) counts on half of them, so the plan made for `true` was always the cheaper and
  // PostgreSQL planned the breaking feed afresh at every request (test/heavy/plans-reused.test.ts).
  if (filter.isBreaking !== undefined) q = q.where('p.is_breaking', '=', sql.lit(filter.isBreaking))
  if (filter.isFeatured !== undefined) q = q.where('p.is_featured', '=', sql.lit(filter.isFeatured))
  if (filter.publishedAfter !== undefined) q = q.where('p.published_at', '>', filter.publishedAfter)
  if (filter.publishedBefore !== undefined) q = q.where('p.published_at', '<', filter.publishedBefore)
  if (filter.q !== undefined) q = q.where(searchMatches(filter.q, filter.language))
  if (filter.statuses !== undefined) q = q.where('p.status', 'in', filter.statuses)
  // "Any of these authors/tags": every author of a post counts, not only the first.
  if (filter.authorIds !== undefined && driver !== 'author') {
    const authorIds = nonEmpty(filter.authorIds)
    q = q.where((eb) => eb.exists(eb.selectFrom('post_authors as fa').select(sql.lit(1).as('one'))
      .whereRef('fa.post_id', '=', 'p.id').where('fa.author_id', 'in', authorIds)))
  }
  if (filter.tagIds !== undefined && driver !== 'tag') {
    const tagIds = nonEmpty(filter.tagIds)
    q = q.where((eb) => eb.exists(eb.selectFrom('post_tags as ft').select(sql.lit(1).as('one'))
      .whereRef('ft.post_id', '=', 'p.id').where('ft.tag_id', 'in', tagIds)))
  }
  return q as unknown as Q
}

// `IN ()` is not SQL; a filter whose references all named nothing must match nothing.
const NO_MATCH = '00000000-0000-0000-0000-000000000000'
function nonEmpty (ids: string[]): string[] {
  return ids.length === 0 ? [NO_MATCH] : ids
}
