import { sql, type Transaction } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { unlessUniqueViolation } from '../../db/savepoints.ts'
import type { DB } from '../../db/schema.ts'
import type { VersionCondition } from '../../http/preconditions.ts'
import type { PostStatus } from './post-status.ts'
import { publiclyVisible } from './posts.repository.ts'

// Post writes. Every function takes the transaction its service opened: a post, its authors,
// its tags and its change-log row commit together or not at all.

export interface PostWriteRow {
  id: string
  blog_id: string
  slug: string
  status: PostStatus
  published_at: Date | null
  deleted_at: Date | null
  version: number
  lead_image_url: string | null
}

const WRITE_COLUMNS = ['id', 'blog_id', 'slug', 'status', 'published_at', 'deleted_at', 'version', 'lead_image_url'] as const

export async function findPostForWrite (db: Executor, id: string): Promise<PostWriteRow | undefined> {
  return db.selectFrom('posts').select(WRITE_COLUMNS).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()
}

/** Which of these slugs another post of the blog has (the post `exceptId` aside). */
export async function takenPostSlugs (db: Executor, blogId: string, slugs: readonly string[], exceptId?: string): Promise<Set<string>> {
  let query = db.selectFrom('posts').select('slug').where('blog_id', '=', blogId).where('slug', 'in', slugs)
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
  return new Set((await query.execute()).map((row) => row.slug))
}

export async function insertPost (db: Executor, values: Record<string, unknown>): Promise<PostWriteRow> {
  return db.insertInto('posts').values(values as never).returning(WRITE_COLUMNS).executeTakeFirstOrThrow()
}

/** insertPost, or undefined when another post of the blog took the slug meanwhile (a concurrent write). */
export async function insertPostUnlessSlugTaken (tx: Transaction<DB>, values: Record<string, unknown>): Promise<PostWriteRow | undefined> {
  return unlessUniqueViolation(tx, 'posts_blog_slug_unique', () => insertPost(tx, values))
}

/** Updates and bumps the version, only while it is one `condition` allows. */
export async function updatePost (
  db: Executor, id: string, values: Record<string, unknown>, condition: VersionCondition
): Promise<PostWriteRow | undefined> {
  if (condition?.length === 0) return undefined
  let query = db.updateTable('posts')
    .set({ ...values, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` } as never)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
  if (condition !== undefined) query = query.where('version', 'in', [...condition])
  return query.returning(WRITE_COLUMNS).executeTakeFirst()
}

/** Sets the post's authors, in this order; returns those it had and has no more. */
export async function replacePostAuthors (db: Executor, postId: string, authorIds: readonly string[]): Promise<string[]> {
  const before = await db.deleteFrom('post_authors').where('post_id', '=', postId).returning('author_id').execute()
  if (authorIds.length > 0) await db.insertInto('post_authors').values(authorIds.map((author_id, position) => ({ post_id: postId, author_id, position }))).execute()
  return before.map((row) => row.author_id).filter((id) => !authorIds.includes(id))
}

/** Sets the post's tags, in this order; returns those it had and has no more. */
export async function replacePostTags (db: Executor, postId: string, tagIds: readonly string[]): Promise<string[]> {
  const before = await db.deleteFrom('post_tags').where('post_id', '=', postId).returning('tag_id').execute()
  if (tagIds.length > 0) await db.insertInto('post_tags').values(tagIds.map((tag_id, position) => ({ post_id: postId, tag_id, position }))).execute()
  return before.map((row) => row.tag_id).filter((id) => !tagIds.includes(id))
}

/** For each of these posts: its blog, and whether the public can see it right now. */
export async function postPublicity (db: Executor, ids: readonly string[]): Promise<Array<{ id: string, blog_id: string, visible: boolean }>> {
  if (ids.length === 0) return []
  return db.selectFrom('posts as p')
    .select(['p.id', 'p.blog_id', sql<boolean>`coalesce(${publiclyVisible()}, false)`.as('visible')])
    .where('p.id', 'in', [...ids])
    .execute()
}

/** The ids of each post's blog, authors and tags as they are now, whatever its state: whose feeds a change to it touches. */
export async function feedOwnersOfPosts (db: Executor, ids: readonly string[]): Promise<Array<{ id: string, blog_id: string, author_ids: string[], tag_ids: string[] }>> {
  if (ids.length === 0) return []
  return db.selectFrom('posts as p')
    .select(['p.id', 'p.blog_id',
      sql<string[]>`array(SELECT pa.author_id FROM post_authors pa WHERE pa.post_id = p.id)`.as('author_ids'),
      sql<string[]>`array(SELECT pt.tag_id FROM post_tags pt WHERE pt.post_id = p.id)`.as('tag_ids')])
    .where('p.id', 'in', [...ids])
    .execute()
}

/** Posts (tombstones included) that would stop a blog, author or tag from being deleted. */
export async function postIdsOf (db: Executor, owner: { blogId: string } | { authorId: string } | { tagId: string }): Promise<string[]> {
  if ('blogId' in owner) {
    return (await db.selectFrom('posts').select('id').where('blog_id', '=', owner.blogId).execute()).map((r) => r.id)
  }
  if ('authorId' in owner) {
    return (await db.selectFrom('post_authors').select('post_id').where('author_id', '=', owner.authorId).execute()).map((r) => r.post_id)
  }
  return (await db.selectFrom('post_tags').select('post_id').where('tag_id', '=', owner.tagId).execute()).map((r) => r.post_id)
}

export async function movePostsToBlog (db: Executor, fromBlogId: string, toBlogId: string): Promise<void> {
  await db.updateTable('posts')
    .set({ blog_id: toBlogId, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('blog_id', '=', fromBlogId).execute()
}

export async function deletePostsOfBlog (db: Executor, blogId: string): Promise<void> {
  await db.deleteFrom('posts').where('blog_id', '=', blogId).execute()
}

/** Credits `toAuthorId` wherever `fromAuthorId` was, in the same byline position. */
export async function reassignAuthor (db: Executor, fromAuthorId: string, toAuthorId: string): Promise<void> {
  await db.deleteFrom('post_authors').where('author_id', '=', fromAuthorId)
    .where('post_id', 'in', (eb) => eb.selectFrom('post_authors').select('post_id').where('author_id', '=', toAuthorId))
    .execute()
  await db.updateTable('post_authors').set({ author_id: toAuthorId }).where('author_id', '=', fromAuthorId).execute()
}

export async function removeFromPosts (db: Executor, owner: { authorId: string } | { tagId: string }): Promise<void> {
  if ('authorId' in owner) await db.deleteFrom('post_authors').where('author_id', '=', owner.authorId).execute()
  else await db.deleteFrom('post_tags').where('tag_id', '=', owner.tagId).execute()
}

/** Edits to related posts (a byline or tag gone) bump their version so caches and If-Match see it. */
export async function touchPosts (db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('posts').set({ version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', 'in', [...ids]).execute()
}

/**
 * Scheduled posts whose time has come become published, a batch at a time. SKIP LOCKED lets
 * several processes run this at once: each post is claimed by exactly one of them.
 */
export async function publishDuePosts (db: Executor, batch: number): Promise<Array<{ id: string, blog_id: string }>> {
  return publishDueQuery(db, batch).execute()
}

/** The query behind publishDuePosts, unexecuted: a test EXPLAINs it. */
export function publishDueQuery (db: Executor, batch: number) {
  return db.updateTable('posts')
    .set({ status: 'published', version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', 'in', (eb) => eb.selectFrom('posts').select('id')
      // Literal, so the planner can prove posts_scheduled_due_idx applies whatever the plan.
      .where(sql<boolean>`status = 'scheduled' AND deleted_at IS NULL`).where('published_at', '<=', sql<Date>`now()`)
      .orderBy('published_at').limit(batch).forUpdate().skipLocked())
    .returning(['id', 'blog_id'])
}
