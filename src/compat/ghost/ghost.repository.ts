import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { publiclyVisible, publicPostRows, type PostRow } from '../../content/posts/posts.repository.ts'
import { publicPostCount } from '../../content/resources/byline.repository.ts'
import { isUuid } from '../../content/addressing/identifiers.ts'
import { AppError } from '../../http/errors.ts'

// The Ghost layer's reads: Ghost's NQL filters (parsed by @tryghost/nql-lang into Mongo-style
// JSON) become SQL here, on the same tables, indexes and visibility rule as /v1. Only fields that
// Ghost frontends filter on are understood; any other is a 400 naming it, never ignored.

export type Nql = Record<string, unknown>
type Condition = RawBuilder<boolean>
type Operator = '$eq' | '$ne' | '$in' | '$nin' | '$gt' | '$gte' | '$lt' | '$lte'

const SQL_OPERATORS: Record<Exclude<Operator, '$in' | '$nin'>, string> = { $eq: '=', $ne: '<>', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }

export const badFilter = (message: string) => new AppError(400, 'invalid_filter', message)

/** How one filterable field becomes SQL: a column (with a value kind), or a relation checked with EXISTS. */
type FieldRule =
  | { column: string, kind: 'text' | 'boolean' | 'time' | 'id' }
  | { relation: 'post_tags' | 'post_authors', primaryOnly: boolean }
  | { constant: string }

const POST_FIELDS: Record<string, FieldRule> = {
  id: { column: 'p.id', kind: 'id' },
  uuid: { column: 'p.id', kind: 'id' },
  slug: { column: 'p.slug', kind: 'text' },
  title: { column: 'p.title', kind: 'text' },
  featured: { column: 'p.is_featured', kind: 'boolean' },
  published_at: { column: 'p.published_at', kind: 'time' },
  updated_at: { column: 'p.updated_at', kind: 'time' },
  created_at: { column: 'p.created_at', kind: 'time' },
  feature_image: { column: 'p.lead_image_url', kind: 'text' },
  visibility: { constant: 'public' },
  tag: { relation: 'post_tags', primaryOnly: false },
  tags: { relation: 'post_tags', primaryOnly: false },
  'tags.slug': { relation: 'post_tags', primaryOnly: false },
  primary_tag: { relation: 'post_tags', primaryOnly: true },
  author: { relation: 'post_authors', primaryOnly: false },
  authors: { relation: 'post_authors', primaryOnly: false },
  'authors.slug': { relation: 'post_authors', primaryOnly: false },
  primary_author: { relation: 'post_authors', primaryOnly: true }
}

const OWNER_FIELDS = (alias: string): Record<string, FieldRule> => ({
  id: { column: `${alias}.id`, kind: 'id' },
  slug: { column: `${alias}.slug`, kind: 'text' },
  name: { column: `${alias}.name`, kind: 'text' },
  visibility: { constant: 'public' }
})

/**
 * The entry a client's name picks from one of the maps above, or undefined: only the map's own
 * entries. Read as `map[name]`, `constructor`, `__proto__`, `toString` and the rest of
 * Object.prototype were found too (functions, not rules), and `order=valueOf` or
 * `filter=constructor:x` was a 500 (found by the Big List of Naughty Strings).
 */
function ownEntry<T> (map: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined
}

/** A filter's single value: not null, not a list. */
function scalarValue (value: unknown, field: string): string | number | boolean {
  if (value === null || typeof value === 'object') throw badFilter(`${field} takes a value.`)
  return value as string | number | boolean
}

function scalar (value: unknown, kind: 'text' | 'boolean' | 'time' | 'id', field: string) {
  if (kind === 'boolean') {
    if (typeof value !== 'boolean') throw badFilter(`${field} takes true or false.`)
    return sql`${value}`
  }
  scalarValue(value, field)
  if (kind === 'time') {
    const time = new Date(String(value).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) || /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? '' : 'Z'))
    if (Number.isNaN(time.getTime())) throw badFilter(`${field} takes a date such as '2024-05-01' or '2024-05-01 10:00:00'.`)
    return sql`${time.toISOString()}::timestamptz`
  }
  return sql`${String(value)}`
}

/**
 * Ids compared as uuids, so the primary key finds them (compared as text, `id:` walked the list's
 * index post by post, the whole archive for an old post's id). A value that is no UUID names no
 * post: it matches nothing, and nothing is unequal to it.
 */
function idCondition (column: string, field: string, operator: Operator, value: unknown): Condition {
  const listed = operator === '$in' || operator === '$nin'
  if (listed && (!Array.isArray(value) || value.length === 0)) throw badFilter(`${field} takes a list such as [a,b].`)
  const values: unknown[] = listed ? value as unknown[] : [value]
  const ids = values.map((item) => String(scalarValue(item, field))).filter(isUuid)
  const includes = operator === '$eq' || operator === '$in'
  if (ids.length === 0) return sql<boolean>`${sql.lit(!includes)}`
  const list = sql.join(ids.map((id) => sql`${id}::uuid`))
  return includes ? sql<boolean>`${sql.ref(column)} IN (${list})` : sql<boolean>`${sql.ref(column)} NOT IN (${list})`
}

function columnCondition (column: string, kind: 'text' | 'boolean' | 'time' | 'id', field: string, operator: Operator, value: unknown): Condition {
  const target = sql.ref(column)
  if (kind === 'id' && value !== null && ['$eq', '$ne', '$in', '$nin'].includes(operator)) return idCondition(column, field, operator, value)
  if (operator === '$in' || operator === '$nin') {
    if (!Array.isArray(value) || value.length === 0) throw badFilter(`${field} takes a list such as [a,b].`)
    const list = sql.join(value.map((item) => scalar(item, kind, field)))
    return operator === '$in' ? sql<boolean>`${target} IN (${list})` : sql<boolean>`${target} NOT IN (${list})`
  }
  if (value === null) {
    if (operator !== '$eq' && operator !== '$ne') throw badFilter(`${field} cannot be compared with null.`)
    return operator === '$eq' ? sql<boolean>`${target} IS NULL` : sql<boolean>`${target} IS NOT NULL`
  }
  if (kind !== 'time' && ['$gt', '$gte', '$lt', '$lte'].includes(operator) && kind !== 'text') throw badFilter(`${field} cannot be compared with > or <.`)
  return sql<boolean>`${target} ${sql.raw(SQL_OPERATORS[operator])} ${scalar(value, kind, field)}`
}

/** "has a tag (or author) whose slug ...": EXISTS over the join table, the first one only for primary_*. */
function relationCondition (rule: { relation: 'post_tags' | 'post_authors', primaryOnly: boolean }, field: string, operator: Operator, value: unknown): Condition {
  const owner = rule.relation === 'post_tags' ? { table: 'tags', column: 'tag_id' } : { table: 'authors', column: 'author_id' }
  const negative = operator === '$ne' || operator === '$nin'
  const slugs = operator === '$in' || operator === '$nin' ? value : [value]
  if (!Array.isArray(slugs) || slugs.length === 0 || !slugs.every((slug) => typeof slug === 'string' || typeof slug === 'number')) {
    if (operator !== '$eq' && operator !== '$ne' && operator !== '$in' && operator !== '$nin') throw badFilter(`${field} takes slugs, with : - or [a,b].`)
    throw badFilter(`${field} takes a slug or a list of slugs.`)
  }
  const exists = sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(rule.relation)} AS j JOIN ${sql.table(owner.table)} AS o ON o.id = j.${sql.ref(owner.column)}
    WHERE j.post_id = p.id AND o.slug IN (${sql.join(slugs.map(String))})${rule.primaryOnly ? sql` AND j.position = 0` : sql``})`
  return negative ? sql<boolean>`NOT ${exists}` : exists
}

function fieldCondition (fields: Record<string, FieldRule>, field: string, spec: unknown): Condition {
  const rule = ownEntry(fields, field)
  if (rule === undefined) throw badFilter(`Cannot filter on "${field}". Known: ${Object.keys(fields).join(', ')}.`)
  const comparisons: Array<[Operator, unknown]> = spec !== null && typeof spec === 'object' && !Array.isArray(spec)
    ? Object.entries(spec as Record<string, unknown>).map(([operator, value]) => [operator as Operator, value])
    : [['$eq', spec]]
  const parts = comparisons.map(([operator, value]) => {
    if (!['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte'].includes(operator)) throw badFilter(`The operator ${operator.replace('$', '')} is not supported on ${field}.`)
    if ('constant' in rule) {
      const values = Array.isArray(value) ? value.map(String) : [String(value)]
      const matches = values.includes(rule.constant)
      return sql<boolean>`${sql.lit(operator === '$ne' || operator === '$nin' ? !matches : matches)}`
    }
    if ('relation' in rule) {
      if (!['$eq', '$ne', '$in', '$nin'].includes(operator)) throw badFilter(`${field} cannot be compared with > or <.`)
      return relationCondition(rule, field, operator, value)
    }
    return columnCondition(rule.column, rule.kind, field, operator, value)
  })
  return parts.length === 1 ? parts[0] as Condition : sql<boolean>`(${sql.join(parts, sql` AND `)})`
}

// Each tag or author condition is a subquery PostgreSQL plans as a join, and the time it takes to
// plan them grows with their square or worse: 10 AND-ed `tag:` conditions planned in 12 ms, 40 in
// 149 ms, 80 in 914 ms, and the 455 a 4,000-character filter holds kept a request going past 240 s.
// A filter that names many tags or authors does it in a list (`tag:[a,b,c]`, `tag:-[a,b]`),
// which is one condition whatever its length.
export const MAX_RELATION_CONDITIONS = 10

/** The SQL of one parsed NQL filter, for the given resource's fields. */
function filterSql (filter: Nql, fields: Record<string, FieldRule>): Condition {
  const relations = countRelationConditions(filter, fields)
  if (relations > MAX_RELATION_CONDITIONS) {
    throw badFilter(`The filter has ${relations} tag and author conditions; at most ${MAX_RELATION_CONDITIONS}. Name several in one list: tag:[a,b,c], tag:-[a,b].`)
  }
  return toSql(filter, fields)
}

function countRelationConditions (node: Nql, fields: Record<string, FieldRule>): number {
  let count = 0
  for (const [key, value] of Object.entries(node)) {
    if ((key === '$and' || key === '$or') && Array.isArray(value)) {
      for (const child of value) count += countRelationConditions(child as Nql, fields)
    } else {
      const rule = ownEntry(fields, key)
      if (rule !== undefined && 'relation' in rule) count++
    }
  }
  return count
}

function toSql (node: Nql, fields: Record<string, FieldRule>, depth = 0): Condition {
  if (depth > 20) throw badFilter('The filter nests too deeply.')
  const parts = Object.entries(node).map(([key, value]) => {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw badFilter('Empty group in the filter.')
      const inner = value.map((child) => toSql(child as Nql, fields, depth + 1))
      return sql<boolean>`(${sql.join(inner, key === '$and' ? sql` AND ` : sql` OR `)})`
    }
    return fieldCondition(fields, key, value)
  })
  if (parts.length === 0) return sql<boolean>`TRUE`
  return parts.length === 1 ? parts[0] as Condition : sql<boolean>`(${sql.join(parts, sql` AND `)})`
}

/** The slugs of the tags, and of the authors, every post a filter matches has one of (requiredOwnerSlugs). */
export interface RequiredOwnerSlugs { tags?: string[], authors?: string[] }

const OWNER_OF_RELATION = { post_tags: 'tags', post_authors: 'authors' } as const

/**
 * What a filter requires of every post it matches, by tag and by author: from its top-level
 * conjuncts `tag:x`, `tag:[a,b]`, `primary_author:y` (any name of the relation), the fewest
 * slugs for each. A kind is left out where no conjunct requires it: an OR across fields, a
 * negation. A list so filtered holds only those tags' (or authors') posts, so only their changes
 * can move it (surrogate-keys.ts).
 */
export function requiredOwnerSlugs (filter: Nql | undefined): RequiredOwnerSlugs {
  const required: RequiredOwnerSlugs = {}
  const visit = (node: Nql, depth: number): void => {
    if (depth > 20) return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const child of value) visit(child as Nql, depth + 1)
        continue
      }
      const rule = ownEntry(POST_FIELDS, key)
      if (rule === undefined || !('relation' in rule)) continue
      const slugs = slugsRequired(value)
      if (slugs === undefined) continue
      const kind = OWNER_OF_RELATION[rule.relation]
      if (slugs.length < (required[kind]?.length ?? Infinity)) required[kind] = slugs
    }
  }
  if (filter !== undefined) visit(filter, 0)
  return required
}

/** `x`, `{ $eq: x }` or `{ $in: [a, b] }` (beside other conditions): the slugs one of which a post must have. */
function slugsRequired (spec: unknown): string[] | undefined {
  const isSlug = (value: unknown) => typeof value === 'string' || typeof value === 'number'
  if (isSlug(spec)) return [String(spec)]
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined
  const { $eq: equal, $in: among } = spec as { $eq?: unknown, $in?: unknown }
  if (isSlug(equal)) return [String(equal)]
  if (Array.isArray(among) && among.length > 0 && among.every(isSlug)) return [...new Set(among.map(String))]
  return undefined
}

export type GhostOrder = Array<{ column: string, direction: 'asc' | 'desc' }>

const POST_ORDER_COLUMNS: Record<string, string> = {
  published_at: 'p.published_at', updated_at: 'p.updated_at', created_at: 'p.created_at', title: 'p.title', slug: 'p.slug', featured: 'p.is_featured'
}

/** `order=` as Ghost takes it ("published_at desc, title asc"), checked against what may be ordered by. */
export function parseOrder (order: string | undefined, columns: Record<string, string>, fallback: GhostOrder): GhostOrder {
  if (order === undefined || order.trim() === '') return fallback
  return order.split(',').map((part) => {
    const [field = '', direction = 'asc', ...rest] = part.trim().split(/\s+/)
    const column = ownEntry(columns, field)
    if (column === undefined || rest.length > 0 || !['asc', 'desc'].includes(direction.toLowerCase())) {
      throw new AppError(400, 'invalid_order', `Cannot order by "${part.trim()}". Use one of ${Object.keys(columns).join(', ')}, then asc or desc.`)
    }
    return { column, direction: direction.toLowerCase() as 'asc' | 'desc' }
  })
}
export const postOrder = (order: string | undefined) => parseOrder(order, POST_ORDER_COLUMNS, [{ column: 'p.published_at', direction: 'desc' }])

export interface GhostPostQuery {
  blogId: string | undefined
  filter: Nql | undefined
  order: GhostOrder
  limit: number
  offset: number
  bodies: { html: boolean, text: boolean }
}

/** Checks a filter as a posts query would (fields, operators, conditions), throwing Ghost's 400: pages take the posts' fields. */
export function checkPostFilter (filter: Nql | undefined): void {
  if (filter !== undefined) filterSql(filter, POST_FIELDS)
}

function postWhere (query: Pick<GhostPostQuery, 'blogId' | 'filter'>): Condition {
  const scope = query.blogId === undefined ? sql<boolean>`TRUE` : sql<boolean>`p.blog_id = ${query.blogId}`
  return sql<boolean>`${scope} AND ${query.filter === undefined ? sql<boolean>`TRUE` : filterSql(query.filter, POST_FIELDS)}`
}

/**
 * A page of public posts, page-number style, and the exact total (counted, unless the caller
 * knows it). The count walks the same index as the page (the visibility predicate matches the
 * partial indexes): all the public posts for an unfiltered list, 0.12 s at 1,000,000. An offset
 * deep into an archive costs what it skips.
 */
export async function ghostPostsPage (db: Executor, query: GhostPostQuery, knownTotal?: number): Promise<{ rows: PostRow[], total: number }> {
  const queries = ghostPostsQueries(db, query)
  const [rows, total] = await Promise.all([
    queries.page.execute() as Promise<PostRow[]>,
    knownTotal ?? queries.count.executeTakeFirstOrThrow().then((row) => Number(row.n))
  ])
  return { rows, total }
}

/** The page and the count behind ghostPostsPage, unexecuted: the heavy plan test EXPLAINs them. */
export function ghostPostsQueries (db: Executor, query: GhostPostQuery) {
  const where = postWhere(query)
  const order = sql.join([...query.order.map((o) => sql`${sql.ref(o.column)} ${sql.raw(o.direction)}`), sql`p.id desc`])
  // The offset is walked over bare ids; only the page's own rows get their authors, tags and
  // bodies (selected with them, the skipped rows would have paid for theirs too: 99 ms at page 100).
  // The first page (most asked for) with a literal OFFSET 0, which PostgreSQL drops: its plan is
  // then made once. A deeper page's plan depends on how far it skips: planned for its offset.
  const pageIds = db.selectFrom('posts as p').select('p.id').where(publiclyVisible()).where(where).orderBy(order).limit(sql.lit(query.limit))
    .offset(query.offset === 0 ? sql.lit(0) : query.offset)
  return {
    page: publicPostRows(db, query.bodies).where('p.id', 'in', pageIds).orderBy(order),
    count: db.selectFrom('posts as p').select((eb) => eb.fn.countAll<string>().as('n')).where(publiclyVisible()).where(where)
  }
}

export async function ghostPost (db: Executor, blogId: string | undefined, key: { id: string } | { slug: string }, bodies: GhostPostQuery['bodies']): Promise<PostRow | undefined> {
  // Only a UUID can be a post's id (Ghost's own ids are other strings): anything else finds
  // nothing, without a query. Compared as text, an id walked the newest-first index to its post
  // (18 ms for the oldest of 50,000); as a uuid it is one probe of the primary key.
  if ('id' in key && !isUuid(key.id)) return undefined
  const scope = blogId === undefined ? sql<boolean>`TRUE` : sql<boolean>`p.blog_id = ${blogId}`
  const match = 'id' in key ? idCondition('p.id', 'id', '$eq', key.id) : sql<boolean>`p.slug = ${key.slug}`
  return await publicPostRows(db, bodies).where(scope).where(match).orderBy('p.published_at', 'desc').limit(sql.lit(1)).executeTakeFirst() as PostRow | undefined
}

export interface GhostOwnerRow {
  id: string
  slug: string
  name: string
  description: string
  avatar_url: string | null
  links: Array<{ label: string, url: string }> | null
  post_count?: number
}

export interface GhostOwnerQuery {
  kind: 'authors' | 'tags'
  blogId: string | undefined
  filter: Nql | undefined
  order: GhostOrder
  limit: number
  offset: number
  withCount: boolean
}

const OWNER = {
  authors: { alias: 'a', via: 'post_authors' as const, column: 'author_id', description: sql`a.bio`, avatar: sql`a.avatar_url`, links: sql`a.links` },
  tags: { alias: 't', via: 'post_tags' as const, column: 'tag_id', description: sql`t.description`, avatar: sql`NULL::text`, links: sql`NULL::jsonb` }
}

export const ownerOrder = (kind: 'authors' | 'tags', order: string | undefined) => {
  const alias = OWNER[kind].alias
  return parseOrder(order, { name: `${alias}.name`, slug: `${alias}.slug` }, [{ column: `${alias}.name`, direction: 'asc' }])
}

function ownerWhere (query: Pick<GhostOwnerQuery, 'kind' | 'blogId' | 'filter'>): Condition {
  const { alias, via, column } = OWNER[query.kind]
  // A site's authors and tags are those of its public posts, as on a Ghost site.
  const scope = query.blogId === undefined
    ? sql<boolean>`TRUE`
    : sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(via)} AS j JOIN posts AS p ON p.id = j.post_id
        WHERE j.${sql.ref(column)} = ${sql.ref(`${alias}.id`)} AND p.blog_id = ${query.blogId} AND ${publiclyVisible()})`
  return sql<boolean>`${scope} AND ${query.filter === undefined ? sql<boolean>`TRUE` : filterSql(query.filter, OWNER_FIELDS(alias))}`
}

export async function ghostOwnersPage (db: Executor, query: GhostOwnerQuery): Promise<{ rows: GhostOwnerRow[], total: number }> {
  const { alias, via, description, avatar, links } = OWNER[query.kind]
  const table = sql`${sql.table(query.kind)} AS ${sql.raw(alias)}`
  const where = ownerWhere(query)
  const order = sql.join([...query.order.map((o) => sql`${sql.ref(o.column)} ${sql.raw(o.direction)}`), sql`${sql.ref(`${alias}.id`)}`])
  const count = query.withCount ? sql`, ${publicPostCount(via, `${alias}.id`)} AS post_count` : sql``
  const [rows, total] = await Promise.all([
    sql<GhostOwnerRow>`SELECT ${sql.ref(`${alias}.id`)} AS id, ${sql.ref(`${alias}.slug`)} AS slug, ${sql.ref(`${alias}.name`)} AS name,
        ${description} AS description, ${avatar} AS avatar_url, ${links} AS links${count}
      FROM ${table} WHERE ${where} ORDER BY ${order} LIMIT ${sql.lit(query.limit)} OFFSET ${query.offset}`.execute(db),
    sql<{ n: string }>`SELECT count(*) AS n FROM ${table} WHERE ${where}`.execute(db)
  ])
  return { rows: rows.rows, total: Number(total.rows[0]?.n ?? 0) }
}
