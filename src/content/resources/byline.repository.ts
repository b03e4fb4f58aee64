import { sql, type SelectQueryBuilder } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { publiclyVisible, publiclyVisibleLink } from '../posts/posts.repository.ts'

// The SQL behind author and tag lists' filters and post counts. Both walk the post's join
// table (post_authors or post_tags) from the owner's side, which their (owner, published_at)
// indexes serve: a count is one range of the index of public rows per owner on the page, read
// from the index alone, never a post.

export type BylineVia = 'post_authors' | 'post_tags'

export interface BylineOptions {
  ids?: string[] | undefined
  slugs?: string[] | undefined
  /** Only owners with public posts in these blogs. */
  blogIds?: string[] | undefined
  postCount?: boolean | undefined
}

const ownerColumn = (via: BylineVia) => (via === 'post_authors' ? 'author_id' : 'tag_id')

/**
 * The number of public posts of the owner row `owner` (e.g. `a.id`): a range of the join table's
 * index of public rows, counted from the index without reading a post.
 */
export function publicPostCount (via: BylineVia, owner: string) {
  return sql<number>`(SELECT count(*)::int FROM ${sql.table(via)} AS j
    WHERE j.${sql.ref(ownerColumn(via))} = ${sql.ref(owner)} AND ${publiclyVisibleLink()})`
}

// The builder's table types differ per resource; only `<alias>.id` and `<alias>.slug` are used.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySelect = SelectQueryBuilder<any, any, any>

/** Narrows a select of authors or tags (aliased `alias`) to the options, and adds post_count when asked. */
export function withBylineOptions<Q extends AnySelect> (query: Q, via: BylineVia, alias: string, options: BylineOptions): Q {
  let q: AnySelect = query
  // A filter whose references all named nothing matches nothing (`IN ()` is not SQL).
  const none = (values: string[]) => values.length === 0 ? sql<boolean>`false` : undefined
  if (options.ids !== undefined) q = q.where(none(options.ids) ?? sql<boolean>`${sql.ref(`${alias}.id`)} IN (${sql.join(options.ids)})`)
  if (options.slugs !== undefined) q = q.where(none(options.slugs) ?? sql<boolean>`${sql.ref(`${alias}.slug`)} IN (${sql.join(options.slugs)})`)
  if (options.blogIds !== undefined) {
    q = q.where(none(options.blogIds) ?? sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(via)} AS j JOIN posts AS p ON p.id = j.post_id
      WHERE j.${sql.ref(ownerColumn(via))} = ${sql.ref(`${alias}.id`)} AND p.blog_id IN (${sql.join(options.blogIds)}) AND ${publiclyVisible()})`)
  }
  if (options.postCount === true) q = q.select(publicPostCount(via, `${alias}.id`).as('post_count'))
  return q as Q
}

export async function countPublicPosts (db: Executor, via: BylineVia, ownerId: string): Promise<number> {
  const row = await db.selectFrom(`${via} as j` as 'post_authors as j')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(sql.ref(`j.${ownerColumn(via)}`), '=', ownerId).where(publiclyVisibleLink()).executeTakeFirstOrThrow()
  return Number(row.n)
}
