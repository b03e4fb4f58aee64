import type { Executor } from '../../db/database.ts'
import { sql, type RawBuilder } from 'kysely'
import type { Links } from '../common/site.ts'
import type { PostField } from './posts.schemas.ts'
import { WORDS_PER_MINUTE } from './post-text.ts'

// A post as the API's JSON, built by PostgreSQL: the text of exactly what toPost (posts.mapper.ts)
// then withFields would give, byte for byte, so a page of posts is PostgreSQL's text joined
// with commas instead of forty columns parsed into objects, mapped, and serialized again (those
// were a third of an uncached list's CPU in the API; see the README's benchmark section). The
// mapper stays the definition: test/content/post-json.test.ts compares the two on posts made to
// differ (control characters, every script, nulls, each URL rule, scheduled and draft posts).
//
// Why it comes out the same: to_json escapes strings as JSON.stringify does (", \, \b \f \n \r
// \t, other control characters as lowercase \u00xx; nothing else) and writes numbers and
// booleans as JSON.stringify does; the keys and punctuation are ours, with no spaces; timestamps
// are formatted as toISOString does (milliseconds truncated, UTC, Z); nested objects and the
// json columns are embedded as they are. json_build_object is not used: it writes `"key" : value`
// with spaces.

/** A query's posts are `p`, their blogs `b`. */
type Expression = RawBuilder<unknown>

const iso = (column: Expression) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/** Text that is JSON already (an object built here, a json column): embedded as it is. */
class JsonText {
  constructor (readonly text: Expression) {}
}

/** A field's value: a SQL value, which becomes JSON by to_json, or JSON text. */
type Value = Expression | JsonText

/** `"name":value` members as parts of one concat: each after a comma, the first after `{` when they open an object. */
function memberParts (members: Array<[string, Value]>, opensObject: boolean): Expression[] {
  return members.flatMap(([name, value], index) => [
    sql.lit(`${index === 0 && opensObject ? '{' : ','}${JSON.stringify(name)}:`),
    sql`coalesce(${value instanceof JsonText ? value.text : sql`to_json(${value})::text`}, 'null')`
  ])
}

const concat = (parts: Expression[]): Expression => sql`concat(${sql.join(parts)})`

/**
 * `{"name":value,...}` of named values, in order, as JSON text; `from`: what the values may refer
 * to besides the query's rows. The text is concatenated in one call, from to_json of each value
 * (the escaping row_to_json does too) and JSON text as it is. Not `(SELECT row_to_json(o) FROM
 * (SELECT ...) o)`, the way this was first written: that is a subplan run per post for each
 * object, four per post. Nor a cast to json on the way: json_in parses what it casts.
 */
function object (members: Array<[string, Value]>, from?: Expression): JsonText {
  const text = concat([...memberParts(members, true), sql.lit('}')])
  return new JsonText(from === undefined ? text : sql`(SELECT ${text} FROM ${from})`)
}

/** Kept on the row as the API sends them (the byline_summaries_as_sent migration), embedded as they are. */
function summaries (column: 'author_summaries' | 'tag_summaries'): JsonText {
  return new JsonText(sql`${sql.ref(`p.${column}`)}::text`)
}

/**
 * site.ts's postUrls in SQL: the template, most specific first, then its placeholders filled;
 * the date placeholders, rare and the dearest part (to_char), only when the template has one.
 * Slugs are [a-z0-9-] (a CHECK), so encodeURIComponent leaves them as they are.
 */
function postUrlTable (links: Links, sortTime: Expression): Expression {
  const template = sql`coalesce(b.post_url_template, b.website_url || '/{slug}', ${links.site.postUrlTemplate ?? null}::text,
    ${links.site.website ?? null}::text || '/{blog}/{slug}', ${links.apiBase}::text || '/v1/blogs/{blog}/posts/{slug}')`
  const utc = sql`(${sortTime} AT TIME ZONE 'UTC')`
  return sql`(SELECT replace(replace(replace(${template}, '{blog}', b.slug), '{slug}', p.slug), '{id}', p.id::text) AS filled) AS t
    CROSS JOIN LATERAL (SELECT CASE WHEN strpos(t.filled, '{') = 0 THEN t.filled
      ELSE replace(replace(replace(t.filled, '{yyyy}', to_char(${utc}, 'YYYY')), '{mm}', to_char(${utc}, 'MM')), '{dd}', to_char(${utc}, 'DD')) END AS url) AS u`
}

/** Whether a post's JSON with `fields` refers to its URL (`u.url`): the url field, or the SEO's canonical fallback. */
export function needsPostUrl (fields: readonly PostField[]): boolean {
  return fields.includes('url') || fields.includes('seo')
}

/**
 * Each post's URL as `u.url`, for a query of posts `p` and blogs `b` to join LATERAL when
 * needsPostUrl: computed once per post for the url field and the canonical fallback (OFFSET 0
 * keeps PostgreSQL from pulling it up into both). It was a subquery around the whole of each
 * post's JSON (a SubPlan run for each post, the JSON built inside it); joined, the JSON is
 * the query's own column (pgbench, prepared, 4 clients, the newest page at
 * 1,000,000 posts, alternated: 4,509 / 4,623 / 4,617 pages/s as the subquery, 5,446 / 5,507 /
 * 5,548 joined; the same bytes).
 */
export function postUrlJoin (links: Links, sortTime: Expression) {
  return sql<{ url: string }>`(SELECT u.url FROM ${postUrlTable(links, sortTime)} OFFSET 0)`.as('u')
}

function apiUrl (links: Links): Expression {
  return sql`${links.apiBase}::text || '/v1/blogs/' || b.slug || '/posts/' || p.slug`
}

/**
 * post-seo.ts's toSeo in SQL, its members in three parts: those before the canonical URL, the
 * canonical URL (the post's address unless the editor set one, so it depends on the request's
 * links), and those after it.
 */
function seoMembers (): { head: Array<[string, Value]>, canonical: [string, Value], rest: Array<[string, Value]> } {
  const title = sql`coalesce(p.meta_title, p.title)`
  const description = sql`coalesce(p.meta_description, p.excerpt, p.subtitle, p.title)`
  return {
    head: [
      ['meta_title', title],
      ['meta_description', description]
    ],
    canonical: ['canonical_url', sql`coalesce(p.canonical_url, u.url)`],
    rest: [
      ['og_title', sql`coalesce(p.og_title, ${title})`],
      ['og_description', sql`coalesce(p.og_description, ${description})`],
      ['og_image', sql`coalesce(p.og_image_url, p.lead_image_url)`],
      ['twitter_title', sql`coalesce(p.twitter_title, p.og_title, ${title})`],
      ['twitter_description', sql`coalesce(p.twitter_description, p.og_description, ${description})`],
      ['twitter_image', sql`coalesce(p.twitter_image_url, p.og_image_url, p.lead_image_url)`],
      ['robots', sql`CASE WHEN p.noindex THEN 'noindex, follow' ELSE 'index, follow' END`]
    ]
  }
}

function seo (): JsonText {
  const { head, canonical, rest } = seoMembers()
  return object([...head, canonical, ...rest])
}

function fieldExpression (field: PostField, links: Links): Value {
  switch (field) {
    case 'id': return sql`p.id`
    case 'blog': return object([['id', sql`b.id`], ['slug', sql`b.slug`], ['title', sql`b.title`]])
    case 'url': return sql`u.url`
    case 'api_url': return apiUrl(links)
    case 'reading_time_minutes':
      return sql`CASE WHEN p.word_count = 0 THEN 0 ELSE greatest(1, round(p.word_count / ${sql.lit(WORDS_PER_MINUTE)}::numeric))::integer END`
    case 'lead_image':
      return new JsonText(sql`CASE WHEN p.lead_image_url IS NOT NULL THEN ${object([
        ['url', sql`p.lead_image_url`], ['alt', sql`p.lead_image_alt`], ['caption', sql`p.lead_image_caption`],
        ['credit', sql`p.lead_image_credit`], ['width', sql`p.lead_image_width`], ['height', sql`p.lead_image_height`]
      ]).text} END`)
    case 'authors': return summaries('author_summaries')
    case 'tags': return summaries('tag_summaries')
    // post-status.ts's effectiveStatus: a scheduled post whose time has come is published.
    case 'status': return sql`CASE WHEN p.status = 'scheduled' AND p.published_at <= now() THEN 'published' ELSE p.status END`
    case 'published_at': return iso(sql`p.published_at`)
    case 'updated_at': return iso(sql`p.updated_at`)
    case 'seo': return seo()
    default: return sql.ref(`p.${field}`)
  }
}

/**
 * Runs of a post's members whose text depends on nothing but its row, kept on the row as that
 * text by a trigger (the post_json_on_the_row migration; test/content/posts/post-json.test.ts
 * holds them to what is computed here): a page of posts is then mostly read rather than
 * escaped, which was two thirds of PostgreSQL's time building it (the newest page's 21 posts
 * at 1,000,000, run 2,000 times in a server-side loop: 0.47-0.63 ms a page, 0.22-0.24 ms with
 * these runs read from columns). The rest depends on the request's
 * links (url, api_url, the canonical URL's default), on the clock (status), or on the blog.
 * A run is used where the fields asked for hold it whole and in order (the defaults do); a
 * post written before the migration and outside its window has none until the background pass
 * (json-runs-backfill.ts) gives it them, and its text is computed meanwhile.
 */
const SUMMARY_RUN: readonly PostField[] = ['title', 'subtitle', 'excerpt', 'word_count', 'reading_time_minutes', 'lead_image', 'language', 'is_breaking', 'is_featured', 'authors', 'tags']
const DATES_AND_SEO_RUN: readonly PostField[] = ['published_at', 'updated_at', 'seo']

type StoredRun = 'json_summary' | 'json_dates_seo' | 'json_seo_rest'

const members = (fields: readonly PostField[], links: Links): Array<[string, Value]> => fields.map((field) => [field, fieldExpression(field, links)])

/** The text of each stored run, computed from the row: what the trigger keeps (and what a post without it gets). */
export function storedRunText (run: StoredRun): Expression {
  const { head, rest } = seoMembers()
  // None of the runs' fields depends on the links.
  const noLinks: Links = { apiBase: '', site: { website: undefined, postUrlTemplate: undefined } }
  switch (run) {
    case 'json_summary': return concat(memberParts(members(SUMMARY_RUN, noLinks), false))
    case 'json_dates_seo': return concat([...memberParts(members(['published_at', 'updated_at'], noLinks), false), sql.lit(',"seo":'), ...memberParts(head, true)])
    case 'json_seo_rest': return concat([...memberParts(rest, false), sql.lit('}')])
  }
}

export const STORED_RUNS: readonly StoredRun[] = ['json_summary', 'json_dates_seo', 'json_seo_rest']

const storedOrComputed = (run: StoredRun): Expression => sql`coalesce(${sql.ref(`p.${run}`)}, ${storedRunText(run)})`

const startsRun = (fields: readonly PostField[], at: number, run: readonly PostField[]): boolean => run.every((field, i) => fields[at + i] === field)

/**
 * The JSON text of each post with `fields` (in that order, after the id, as withFields gives
 * them), for a query whose posts are `p` and blogs `b`, joined to postUrlJoin when
 * needsPostUrl.
 */
export function postJson (fields: readonly PostField[], links: Links): RawBuilder<string> {
  const ordered: PostField[] = ['id', ...fields.filter((field) => field !== 'id')]
  const parts: Expression[] = []
  for (let at = 0; at < ordered.length;) {
    if (at > 0 && startsRun(ordered, at, SUMMARY_RUN)) {
      parts.push(storedOrComputed('json_summary'))
      at += SUMMARY_RUN.length
    } else if (at > 0 && startsRun(ordered, at, DATES_AND_SEO_RUN)) {
      parts.push(storedOrComputed('json_dates_seo'), ...memberParts([seoMembers().canonical], false), storedOrComputed('json_seo_rest'))
      at += DATES_AND_SEO_RUN.length
    } else {
      const field = ordered[at] as PostField
      parts.push(...memberParts([[field, fieldExpression(field, links)]], at === 0))
      at += 1
    }
  }
  return sql<string>`${concat([...parts, sql.lit('}')])}`
}

/**
 * Has the trigger write the runs of up to `limit` posts that have none (any update does),
 * found through the partial index of such posts (posts_without_json_runs); returns how many.
 */
export async function storeMissingRuns (db: Executor, limit: number): Promise<number> {
  const result = await sql`UPDATE posts SET json_summary = NULL
    WHERE id IN (SELECT id FROM posts WHERE json_summary IS NULL ORDER BY id LIMIT ${sql.lit(limit)} FOR UPDATE SKIP LOCKED)`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}
