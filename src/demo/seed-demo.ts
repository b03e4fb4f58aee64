import type { Kysely } from 'kysely'
import type { DB } from '../db/schema.ts'
import { authors, blogs, posts, tags } from './demo-content.ts'
import { insertAuthors, insertBlogs, insertPosts, insertTags, recordChanges } from './demo.repository.ts'

export interface SeedResult { blogs: number, authors: number, tags: number, posts: number }

function isPublic (post: (typeof posts)[number], now: Date): boolean {
  return !post.deleted && post.publishedAt !== null && (post.status === 'published' || post.status === 'scheduled') &&
    new Date(post.publishedAt) <= now
}

/**
 * Loads the demo content in one transaction. Rows that already exist are left as they are, so
 * running it again (or on a database someone has since edited) writes nothing new.
 */
export async function seedDemo (db: Kysely<DB>, now = new Date()): Promise<SeedResult> {
  return db.transaction().execute(async (tx) => {
    const blogIds = await insertBlogs(tx, blogs)
    const authorIds = await insertAuthors(tx, authors)
    const tagIds = await insertTags(tx, tags)
    const postIds = new Set(await insertPosts(tx, posts))
    const newPosts = posts.filter((post) => postIds.has(post.id))

    await recordChanges(tx, [
      ...blogIds.map((id) => ({ entity_type: 'blog' as const, entity_id: id, blog_id: id, op: 'upsert' as const, public_op: 'upsert' as const, event: 'blog.created' })),
      ...authorIds.map((id) => ({ entity_type: 'author' as const, entity_id: id, blog_id: null, op: 'upsert' as const, public_op: 'upsert' as const, event: 'author.created' })),
      ...tagIds.map((id) => ({ entity_type: 'tag' as const, entity_id: id, blog_id: null, op: 'upsert' as const, public_op: 'upsert' as const, event: 'tag.created' })),
      ...newPosts.map((post) => ({
        entity_type: 'post' as const,
        entity_id: post.id,
        blog_id: post.blogId,
        op: post.deleted ? 'delete' as const : 'upsert' as const,
        public_op: isPublic(post, now) ? 'upsert' as const : null,
        event: isPublic(post, now) ? 'post.published' : null
      }))
    ])
    return { blogs: blogIds.length, authors: authorIds.length, tags: tagIds.length, posts: newPosts.length }
  })
}
