import type { Kysely } from 'kysely'
import { appendChanges } from '../changes/change-log.repository.ts'
import type { ChangeEntry } from '../changes/vocabulary.ts'
import { isPubliclyVisible } from '../content/posts/post-status.ts'
import type { DB } from '../db/schema.ts'
import { authors, blogs, posts, tags, type DemoPost } from './demo-content.ts'
import { insertAuthors, insertBlogs, insertPosts, insertTags } from './demo.repository.ts'

export interface SeedResult { blogs: number, authors: number, tags: number, posts: number }

function postChange (post: DemoPost, now: Date): ChangeEntry {
  const visible = isPubliclyVisible({
    status: post.status,
    published_at: post.publishedAt === null ? null : new Date(post.publishedAt),
    deleted_at: post.deleted ? now : null
  }, now)
  return {
    entityType: 'post',
    entityId: post.id,
    blogId: post.blogId,
    op: post.deleted ? 'delete' : 'upsert',
    publicOp: visible ? 'upsert' : null,
    event: visible ? 'post.published' : undefined
  }
}

const created = (entityType: 'blog' | 'author' | 'tag') => (id: string): ChangeEntry =>
  ({ entityType, entityId: id, blogId: entityType === 'blog' ? id : null, op: 'upsert', publicOp: 'upsert', event: `${entityType}.created` })

/**
 * Loads the demo content in one transaction, with its change-log entries (as any write makes
 * them, so sync clients, webhooks and caches see the demo arrive). Rows that already exist are
 * left as they are, so running it again (or on a database someone has since edited) writes
 * nothing new.
 */
export async function seedDemo (db: Kysely<DB>, now = new Date()): Promise<SeedResult> {
  return db.transaction().execute(async (tx) => {
    const blogIds = await insertBlogs(tx, blogs)
    const authorIds = await insertAuthors(tx, authors)
    const tagIds = await insertTags(tx, tags)
    const postIds = new Set(await insertPosts(tx, posts))
    const newPosts = posts.filter((post) => postIds.has(post.id))

    await appendChanges(tx, [
      ...blogIds.map(created('blog')),
      ...authorIds.map(created('author')),
      ...tagIds.map(created('tag')),
      ...newPosts.map((post) => postChange(post, now))
    ])
    return { blogs: blogIds.length, authors: authorIds.length, tags: tagIds.length, posts: newPosts.length }
  })
}
