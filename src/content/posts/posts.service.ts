import { decodeCursor } from '../../http/pagination.ts'
import { badRequest } from '../../http/errors.ts'
import type { Executor } from '../../db/database.ts'
import { findAuthorsByIds } from '../authors/authors.repository.ts'
import { toAuthor } from '../authors/authors.mapper.ts'
import { findBlogsByIds } from '../blogs/blogs.repository.ts'
import { toBlog } from '../blogs/blogs.mapper.ts'
import type { ReferenceIds } from '../addressing/reference-ids.ts'
import { findTagsByIds } from '../tags/tags.repository.ts'
import { toTag } from '../tags/tags.mapper.ts'
import { z } from 'zod'
import type { SiteSettings } from '../common/site.ts'
import {
  DEFAULT_LIST_FIELDS, FORMATS, INCLUDABLE, POST_FIELDS, type PostField, type PostListQuery
} from './posts.schemas.ts'
import type { PostFilter, PostJsonRow, PostPosition, PostRelations, PostSort } from './posts.repository.ts'
import { searchableQuery } from './search-text.ts'

// Turns a list request as clients write it (slugs, sort names, cursors, field names) into
// what the repository asks the database, and builds the `included` section.

export const POST_CURSOR = 'posts'
const PostCursorKey = z.tuple([z.enum(['newest', 'oldest', 'relevance']), z.iso.datetime({ offset: true }), z.uuid(), z.number().nullable()])

/** What a list route is about, beyond the query: one blog's, author's or tag's posts. */
export type ListScope = { blogId?: string, authorId?: string, tagId?: string }

/**
 * The blogs, authors or tags whose posts alone a list can hold, by its filter (`?tag=a,b`: those
 * two tags'): of the kinds it names, the one with the fewest. Only a change to a post of theirs,
 * now or before, can move the list (surrogate-keys.ts, postListKeys). Empty when it names none,
 * or more than MAX_NAMED_OWNERS (a Ghost filter can list a thousand tags).
 */
export function listOwners (filter: Pick<PostFilter, 'blogIds' | 'authorIds' | 'tagIds'>): Array<{ type: 'blog' | 'author' | 'tag', id: string }> {
  const named = ([['blog', filter.blogIds], ['author', filter.authorIds], ['tag', filter.tagIds]] as const)
    .filter(([, ids]) => ids !== undefined && ids.length > 0)
  // A stable sort: on a tie the earlier kind (blog, then author) is kept.
  const [fewest] = [...named].sort(([, a], [, b]) => (a?.length ?? 0) - (b?.length ?? 0))
  if (fewest === undefined || (fewest[1]?.length ?? 0) > MAX_NAMED_OWNERS) return []
  return (fewest[1] ?? []).map((id) => ({ type: fewest[0], id }))
}

/**
 * How many owners' keys a list may name, some 50 bytes each in its Surrogate-Key header: past
 * 8 KB of headers Varnish (http_resp_hdr_len) fails the response; Fastly reads 16 KB of keys.
 * As many as a /v1 filter takes of one kind.
 */
const MAX_NAMED_OWNERS = 20

/** Blog, author and tag filters as clients write them: ids or slugs. */
export interface OwnerRefs { blog?: string[] | undefined, author?: string[] | undefined, tag?: string[] | undefined }

export interface ResolvedListRequest {
  filter: PostFilter
  sort: PostSort
  after: PostPosition | undefined
  fields: PostField[]
  /** true when `fields=` chose the fields: the response is the sparse variant. */
  sparse: boolean
  include: Array<(typeof INCLUDABLE)[number]>
}

const SORTS: Record<PostListQuery['sort'], PostSort> = { '-published_at': 'newest', published_at: 'oldest', relevance: 'relevance' }

/** What a list query asks that needs no lookup. */
export type CheckedListQuery = Pick<ResolvedListRequest, 'sort' | 'after' | 'fields' | 'sparse' | 'include'>

/**
 * The parts of a list query that are wrong wherever they are sent (relevance without q, unknown
 * fields or relations, a cursor of another order): 400, checked before the blog, author or tag
 * of the route is looked up, as a single post's fields are, so that a bad query is a 400 whether
 * or not that owner exists (it had been a 404, or a 308 to a URL that answers 400).
 */
export function checkListQuery (query: PostListQuery): CheckedListQuery {
  const sort = SORTS[query.sort]
  if (sort === 'relevance' && query.q === undefined) {
    throw badRequest('validation_failed', 'sort=relevance needs a search query in q.', [{ path: 'query.sort', message: 'relevance needs q' }])
  }
  const { fields, sparse } = resolveFields(query, DEFAULT_LIST_FIELDS)
  const include = checkedInclude(query.include)

  let after: PostPosition | undefined
  if (query.cursor !== undefined) {
    const [cursorSort, publishedAt, id, rank] = decodeCursor(POST_CURSOR, query.cursor, PostCursorKey)
    if (cursorSort !== sort) throw badRequest('invalid_cursor', 'The cursor belongs to another sort order.', [{ path: 'query.cursor', message: 'was issued for another sort' }])
    after = { publishedAt, id, rank: rank ?? undefined }
  }
  return { sort, after, fields, sparse, include }
}

export async function resolveListRequest (ids: ReferenceIds, query: PostListQuery, scope: ListScope, checked: CheckedListQuery): Promise<ResolvedListRequest> {
  const { sort, after, fields, sparse, include } = checked
  const owners = await resolveOwners(ids, query, scope)
  return {
    sort,
    after,
    fields,
    sparse,
    include,
    filter: {
      ...owners,
      ids: query.ids?.map((id) => id.toLowerCase()),
      language: query.language,
      isBreaking: query.is_breaking,
      isFeatured: query.is_featured,
      publishedAfter: query.published_after,
      publishedBefore: query.published_before,
      q: query.q === undefined ? undefined : searchableQuery(query.q),
      statuses: query.status
    }
  }
}

/**
 * The blog, author and tag filters of a request, as ids, narrowed to the route's scope: on an
 * author's posts, `author=` can only narrow further, never widen. References that name nothing
 * match nothing. Post lists and feeds both resolve their filters here.
 */
export async function resolveOwners (ids: ReferenceIds, refs: OwnerRefs, scope: ListScope): Promise<Pick<PostFilter, 'blogIds' | 'authorIds' | 'tagIds'>> {
  const narrow = async (table: 'blogs' | 'authors' | 'tags', given: string[] | undefined, scoped: string | undefined) => {
    const resolved = given === undefined ? undefined : await ids(table, given)
    if (scoped === undefined) return resolved
    return resolved === undefined ? [scoped] : resolved.filter((id) => id === scoped)
  }
  const [blogIds, authorIds, tagIds] = await Promise.all([
    narrow('blogs', refs.blog, scope.blogId), narrow('authors', refs.author, scope.authorId), narrow('tags', refs.tag, scope.tagId)
  ])
  return { blogIds, authorIds, tagIds }
}

/** A post's place in its list: the sort, then the sort key (rank only for relevance). */
export function postCursorKey (sort: PostSort, row: Pick<PostJsonRow, 'sort_time' | 'id' | 'rank'>) {
  return positionCursorKey(sort, { publishedAt: row.sort_time, id: row.id, rank: row.rank ?? undefined })
}

/** A place in a list as a cursor's key, as postCursorKey makes it for a post. */
export function positionCursorKey (sort: PostSort, position: PostPosition) {
  return [sort, position.publishedAt, position.id, sort === 'relevance' ? position.rank ?? null : null] as const
}

/**
 * The fields of each post in a response: those `fields=` names (a sparse response), else the
 * route's defaults; `formats=` adds bodies either way.
 */
export function resolveFields (query: { fields?: string[] | undefined, formats?: Array<keyof typeof FORMATS> | undefined }, defaults: readonly PostField[]) {
  const named = checkedNames(query.fields, POST_FIELDS, 'query.fields', 'field')
  const bodies = (query.formats ?? []).map((format) => FORMATS[format])
  return { fields: [...new Set([...(named ?? defaults), ...bodies])], sparse: named !== undefined }
}

export function checkedInclude (given: string[] | undefined): ResolvedListRequest['include'] {
  return checkedNames(given, INCLUDABLE, 'query.include', 'relation') ?? []
}

/** Names the client gave (fields, include) checked against the allowed set: 400 naming any other. */
export function checkedNames<T extends string> (given: string[] | undefined, allowed: readonly T[], path: string, what: string): T[] | undefined {
  if (given === undefined) return undefined
  const unknown = given.filter((name) => !(allowed as readonly string[]).includes(name))
  if (unknown.length > 0) {
    throw badRequest('validation_failed', `Unknown ${what}${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known: ${allowed.join(', ')}.`,
      unknown.map((name) => ({ path, message: `unknown ${what} "${name}"` })))
  }
  return [...new Set(given)] as T[]
}

/** The related resources asked for with include=, each once, for the posts of a response. */
export async function loadIncluded (db: Executor, rows: readonly PostRelations[], include: ResolvedListRequest['include'], site: SiteSettings) {
  const unique = (ids: string[]) => [...new Set(ids)]
  const [blogs, authors, tags] = await Promise.all([
    include.includes('blog') ? findBlogsByIds(db, unique(rows.map((row) => row.blog_id))) : undefined,
    include.includes('authors') ? findAuthorsByIds(db, unique(rows.flatMap((row) => row.authors.map((a) => a.id)))) : undefined,
    include.includes('tags') ? findTagsByIds(db, unique(rows.flatMap((row) => row.tags.map((t) => t.id)))) : undefined
  ])
  // Keys in the schema's order whichever query answered first: the bytes (and the ETag) of
  // the same response must not depend on timing.
  const included = {
    ...(blogs === undefined ? {} : { blogs: blogs.map((blog) => toBlog(blog, site)) }),
    ...(authors === undefined ? {} : { authors: authors.map(toAuthor) }),
    ...(tags === undefined ? {} : { tags: tags.map(toTag) })
  }
  return include.length === 0 ? undefined : included
}
