import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { DB } from '../../db/schema.ts'
import { templateParts, type CompiledTemplate } from '../common/site.ts'
import type { PostField } from './posts.schemas.ts'
import type { PostStatus } from './post-status.ts'
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
// with spaces. Text that needs no escaping (ids, slugs, digits, and text the API escaped the
// way JSON.stringify does) is put between quotes as it is (quoted).

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

const BLOG_TEMPLATE = sql`coalesce(b.post_url_template, b.website_url || '/{slug}')`

/** Where the sort time's date placeholders come from: {yyyy} {mm} {dd} in UTC. */
const datePart = (sortTime: Expression, format: 'YYYY' | 'MM' | 'DD'): Expression => sql`to_char((${sortTime} AT TIME ZONE 'UTC'), ${sql.lit(format)})`

/**
 * site.ts's fill() of a template PostgreSQL holds (a blog's own), by replace: {blog}, {slug} and
 * {id}, then the dates, the dearest part (to_char), only when the template has one.
 */
function filledTemplate (template: Expression, sortTime: Expression): Expression {
  const filled = sql`replace(replace(replace(${template}, '{blog}', b.slug), '{slug}', p.slug), '{id}', p.id::text)`
  return sql`CASE WHEN strpos(${template}, '{yyyy}') + strpos(${template}, '{mm}') + strpos(${template}, '{dd}') = 0 THEN ${filled}
    ELSE replace(replace(replace(${filled}, '{yyyy}', ${datePart(sortTime, 'YYYY')}), '{mm}', ${datePart(sortTime, 'MM')}), '{dd}', ${datePart(sortTime, 'DD')}) END`
}

/**
 * A JSON string of text that needs no escaping: the post's and blog's slugs ([a-z0-9-], a
 * CHECK), ids, digits, and text escaped already (jsonTemplate, the blogs' plain templates).
 * to_json's escaping, which reads each character, was a fifth of PostgreSQL's time building a
 * page when every post's URLs, id and slug went through it (pgbench, prepared, one client, the
 * newest page at 1,000,000 posts: 3,816 pages/s, 4,356 with the URLs quoted, 4,070 with the id
 * and slug).
 */
const quoted = (text: Expression): JsonText => new JsonText(sql`'"' || ${text} || '"'`)

const jsonTemplates = new Map<string, CompiledTemplate>()

/**
 * A template's parts with their text as it goes inside a JSON string (escaped as to_json and
 * JSON.stringify escape). Every page request asks for its templates' (parameterizedShape), so
 * each is escaped once, as templateParts splits each once.
 */
export function jsonTemplate (template: string): CompiledTemplate {
  let parts = jsonTemplates.get(template)
  if (parts === undefined) {
    parts = templateParts(template).map((part) => 'text' in part ? { text: JSON.stringify(part.text).slice(1, -1) } : part)
    if (jsonTemplates.size < 1_000) jsonTemplates.set(template, parts)
  }
  return parts
}

/** site.ts's fill() of a template the API holds (jsonTemplate's parts, the text perhaps parameters), each placeholder as the post's column. */
function filledParts (parts: CompiledTemplate, sortTime: Expression): Expression {
  return sql.join(parts.map((part) => {
    if ('text' in part) return sql`${part.text}::text`
    switch (part.placeholder) {
      case 'blog': return sql`b.slug`
      case 'slug': return sql`p.slug`
      case 'id': return sql`p.id::text`
      case 'yyyy': return datePart(sortTime, 'YYYY')
      case 'mm': return datePart(sortTime, 'MM')
      case 'dd': return datePart(sortTime, 'DD')
    }
  }), sql` || `)
}

/**
 * site.ts's postUrls in SQL as a JSON string, for posts `p` of blogs `b`: the blog's own
 * template when it has one (or its website's), else the network's (`urlTemplate`,
 * networkPostUrlTemplate's jsonTemplate). A blog's template that is one {slug} in plain text is
 * kept split around it on the blog's row (the blog_parts_of_post_json migration), so most
 * addresses are two concatenations; slugs are [a-z0-9-] (a CHECK), so encodeURIComponent leaves
 * them as they are. Cheap enough to be written out twice, for the url and the canonical URL's
 * default: a LATERAL join that computed it once cost more than a second computation.
 */
function postUrlJson (urlTemplate: CompiledTemplate, sortTime: Expression): Expression {
  return sql`(CASE WHEN b.post_url_head IS NOT NULL THEN '"' || b.post_url_head || p.slug || b.post_url_tail || '"'
    WHEN b.post_url_template IS NOT NULL OR b.website_url IS NOT NULL THEN to_json(${filledTemplate(BLOG_TEMPLATE, sortTime)})::text
    ELSE ${quoted(filledParts(urlTemplate, sortTime)).text} END)`
}

/**
 * post-seo.ts's toSeo in SQL, its members in three parts: those before the canonical URL, the
 * canonical URL (the post's address unless the editor set one, so it depends on the request's
 * links: canonicalMember), and those after it.
 */
function seoMembers (): { head: Array<[string, Value]>, rest: Array<[string, Value]> } {
  const title = sql`coalesce(p.meta_title, p.title)`
  const description = sql`coalesce(p.meta_description, p.excerpt, p.subtitle, p.title)`
  return {
    head: [
      ['meta_title', title],
      ['meta_description', description]
    ],
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

/** The canonical URL's member, given the post's address as a JSON string. */
const canonicalMember = (urlJson: Expression): [string, Value] =>
  ['canonical_url', new JsonText(sql`CASE WHEN p.canonical_url IS NULL THEN ${urlJson} ELSE to_json(p.canonical_url)::text END`)]

/** The blog object as the blogs_json_summary trigger keeps it on the blog's row. */
export const BLOG_OBJECT_TEXT: Expression = object([['id', sql`b.id`], ['slug', sql`b.slug`], ['title', sql`b.title`]]).text

/** The fields whose text depends on the post's row alone (status on the clock too). */
type RowField = Exclude<PostField, 'blog' | 'url' | 'api_url' | 'seo'>

function rowFieldExpression (field: RowField): Value {
  switch (field) {
    case 'id': return quoted(sql`p.id::text`)
    case 'slug': return quoted(sql`p.slug`)
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
    default: return sql.ref(`p.${field}`)
  }
}

/**
 * Runs of a post's members whose text depends on nothing but its row, kept as that text by a
 * trigger (the post_json_on_the_row migration; test/content/posts/post-json.test.ts holds them
 * to what is computed here): a page of posts is then mostly read rather than escaped, which was
 * two thirds of PostgreSQL's time building it (the newest page's 21 posts at 1,000,000, run
 * 2,000 times in a server-side loop: 0.47-0.63 ms a page, 0.22-0.24 ms with these runs read
 * from columns). They are kept in a table of their own, `r` (post_json_runs_table: on the
 * post's row, the search vector pushed them into the TOAST table). The rest depends on the
 * request's links (url, api_url, the canonical URL's default), on the clock (status), or on the
 * blog (its object, kept on its row in the same way). A run is used where the fields asked for
 * hold it whole and in order (the defaults do); a post written before the migration and outside
 * its window has none until the background pass (json-runs-backfill.ts) gives it them.
 */
const SUMMARY_RUN: readonly RowField[] = ['title', 'subtitle', 'excerpt', 'word_count', 'reading_time_minutes', 'lead_image', 'language', 'is_breaking', 'is_featured', 'authors', 'tags']
const DATES_AND_SEO_RUN: readonly PostField[] = ['published_at', 'updated_at', 'seo']

type StoredRun = 'json_summary' | 'json_dates_seo' | 'json_seo_rest'

const rowMembers = (fields: readonly RowField[]): Array<[string, Value]> => fields.map((field) => [field, rowFieldExpression(field)])

/** The text of each stored run, computed from the row: what the trigger keeps (and what a post without it gets). */
export function storedRunText (run: StoredRun): Expression {
  const { head, rest } = seoMembers()
  switch (run) {
    case 'json_summary': return concat(memberParts(rowMembers(SUMMARY_RUN), false))
    case 'json_dates_seo': return concat([...memberParts(rowMembers(['published_at', 'updated_at']), false), sql.lit(',"seo":'), ...memberParts(head, true)])
    case 'json_seo_rest': return concat([...memberParts(rest, false), sql.lit('}')])
  }
}

export const STORED_RUNS: readonly StoredRun[] = ['json_summary', 'json_dates_seo', 'json_seo_rest']

/** The alias queries join post_json_runs as, on `p` (posts.repository.ts, withJsonColumns). */
export const RUNS = 'r'

const startsRun = (fields: readonly PostField[], at: number, run: readonly PostField[]): boolean => run.every((field, i) => fields[at + i] === field)

/** How a page's posts get their JSON besides their rows. */
export interface PostJsonOptions {
  /** jsonTemplate of networkPostUrlTemplate (site.ts), its text perhaps parameters. */
  urlTemplate: CompiledTemplate
  /** jsonTemplate of postApiUrlTemplate (site.ts), its text perhaps parameters. */
  apiUrlTemplate: CompiledTemplate
  /** The time a post's address takes {yyyy} {mm} {dd} from. */
  sortTime: Expression
  /**
   * The query gives the public its posts only: each is, to them, published (a scheduled one's
   * time has come, or the public would not see it), so the status needs no computing.
   */
  everyPostPublic: boolean
  /**
   * 'stored': the texts kept on the rows only, and a post's JSON null where one it needs is
   * missing, so the caller asks again with 'stored or computed', which computes those. A
   * fallback in the statement costs every page: PostgreSQL prepares each expression of a plan
   * at every execution, evaluated or not (pgbench, the newest page, one client: 0.350 ms a page
   * with the fallbacks, 0.326 without).
   */
  runs: 'stored' | 'stored or computed'
}

/**
 * The JSON text of each post with `fields` (in that order, after the id, as withFields gives
 * them), for a query whose posts are `p` and blogs `b`.
 */
export function postJson (fields: readonly PostField[], { urlTemplate, apiUrlTemplate, sortTime, everyPostPublic, runs }: PostJsonOptions): RawBuilder<string | null> {
  const url = postUrlJson(urlTemplate, sortTime)
  return withStoredTexts(runs, (storedText) => {
    const run = (name: StoredRun): Expression => storedText(sql.ref(`${RUNS}.${name}`), storedRunText(name))
    const member = (field: PostField): Value => {
      switch (field) {
        case 'blog': return blogJson(storedText)
        case 'url': return new JsonText(url)
        case 'api_url': return quoted(filledParts(apiUrlTemplate, sortTime))
        case 'status': return everyPostPublic ? new JsonText(sql.lit(JSON.stringify('published' satisfies PostStatus))) : rowFieldExpression(field)
        case 'seo': {
          const { head, rest } = seoMembers()
          return object([...head, canonicalMember(url), ...rest])
        }
        default: return rowFieldExpression(field)
      }
    }

    const ordered: PostField[] = ['id', ...fields.filter((field) => field !== 'id')]
    const parts: Expression[] = []
    for (let at = 0; at < ordered.length;) {
      if (startsRun(ordered, at, SUMMARY_RUN)) {
        parts.push(run('json_summary'))
        at += SUMMARY_RUN.length
      } else if (startsRun(ordered, at, DATES_AND_SEO_RUN)) {
        parts.push(run('json_dates_seo'), ...memberParts([canonicalMember(url)], false), run('json_seo_rest'))
        at += DATES_AND_SEO_RUN.length
      } else {
        const field = ordered[at] as PostField
        parts.push(...memberParts([[field, member(field)]], at === 0))
        at += 1
      }
    }
    return concat([...parts, sql.lit('}')])
  })
}

type StoredText = (column: Expression, computed: Expression) => Expression

/** The post's blog as its JSON object: the text kept on the blog's row. */
const blogJson = (storedText: StoredText): JsonText => new JsonText(storedText(sql`b.json_summary`, BLOG_OBJECT_TEXT))

/**
 * JSON text built by `build`, which reads texts kept on the rows through `storedText` (the
 * column, and what computes it): with runs 'stored', the column alone, and the JSON null when
 * one it read is missing; with 'stored or computed', the computed text where it is.
 */
function withStoredTexts (runs: PostJsonOptions['runs'], build: (storedText: StoredText) => Expression): RawBuilder<string | null> {
  const stored: Expression[] = []
  const json = build((column, computed) => {
    if (runs === 'stored or computed') return sql`coalesce(${column}, ${computed})`
    stored.push(column)
    return column
  })
  if (stored.length === 0) return sql<string>`${json}`
  return sql<string | null>`CASE WHEN ${sql.join(stored.map((column) => sql`${column} IS NULL`), sql` OR `)} THEN NULL ELSE ${json} END`
}

/**
 * feed-items.ts's toFeedItem in SQL (the compact JSON feed's items without the article: with
 * content=full the feed is toFeedItem's own, whose HTML has its relative links resolved), for a
 * query of public posts `p` and blogs `b`. The feed read whole rows of some forty columns and
 * mapped and serialized them: 0.63 ms of the API's CPU a request uncached, pg's row parsing
 * alone 17 % of it (bench/cpu-split.sh /v1/feeds/latest --profile).
 */
export function feedItemJson ({ urlTemplate, sortTime, runs }: Pick<PostJsonOptions, 'urlTemplate' | 'sortTime' | 'runs'>): RawBuilder<string | null> {
  return withStoredTexts(runs, (storedText) => {
    const members: Array<[string, Value]> = [
      ['id', rowFieldExpression('id')],
      ['title', sql`p.title`],
      ['url', new JsonText(postUrlJson(urlTemplate, sortTime))],
      ['excerpt', sql`p.excerpt`],
      ['published_at', quoted(iso(sql`coalesce(p.published_at, ${sortTime})`))],
      ['updated_at', quoted(iso(sql`p.updated_at`))],
      ['blog', blogJson(storedText)],
      ['authors', summaries('author_summaries')],
      ['thumbnail', sql`p.lead_image_url`],
      ['is_breaking', sql`p.is_breaking`]
    ]
    return concat([...memberParts(members, true), sql.lit('}')])
  })
}

/** One step of the background pass of posts without runs: how many it gave theirs, and whether it has walked every post. */
export interface RunsBackfillStep { stored: number, done: boolean }

/**
 * Gives runs to those of the next `limit` posts in id order, from where the pass stands, that
 * have none (computed as the trigger computes them), and moves the pass on; at the end it
 * deletes the pass's row, so later starts find nothing to do. Processes that run it at once
 * take turns on that row. A post written meanwhile has its runs from the trigger: ON CONFLICT
 * leaves them, and a write that commits after the pass read the post upserts its own.
 */
export async function storeMissingRuns (db: Kysely<DB>, limit: number): Promise<RunsBackfillStep> {
  return await db.transaction().execute(async (tx) => {
    const progress = await tx.selectFrom('post_json_runs_backfill').select('after_id').forUpdate().executeTakeFirst()
    if (progress === undefined) return { done: true, stored: 0 }
    const { rows } = await sql<{ walked: string, last_id: string | null, stored: string }>`
      WITH batch AS (SELECT id FROM posts WHERE id > ${progress.after_id} ORDER BY id LIMIT ${sql.lit(limit)}),
      stored AS (
        INSERT INTO post_json_runs (post_id, json_summary, json_dates_seo, json_seo_rest)
        SELECT p.id, ${sql.join(STORED_RUNS.map(storedRunText))} FROM posts p JOIN batch ON batch.id = p.id
        -- Not computed for posts that have them; ON CONFLICT for a writer's that commit meanwhile.
        WHERE NOT EXISTS (SELECT 1 FROM post_json_runs r WHERE r.post_id = p.id)
        ON CONFLICT (post_id) DO NOTHING
        RETURNING post_id)
      SELECT (SELECT count(*) FROM batch) AS walked, (SELECT max(id::text) FROM batch) AS last_id, (SELECT count(*) FROM stored) AS stored`.execute(tx)
    const { walked, last_id: lastId, stored } = rows[0] as { walked: string, last_id: string | null, stored: string }
    const done = Number(walked) < limit || lastId === null
    if (done) await tx.deleteFrom('post_json_runs_backfill').execute()
    else await tx.updateTable('post_json_runs_backfill').set({ after_id: lastId }).execute()
    return { done, stored: Number(stored) }
  })
}
