import type { Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { BlogsTable } from '../../db/schema.ts'
import type { IdOrSlug } from '../addressing/identifiers.ts'

export type BlogRow = Pick<Selectable<BlogsTable>,
  'id' | 'slug' | 'title' | 'description' | 'language' | 'version' | 'created_at' | 'updated_at'>

const BLOG_COLUMNS = ['id', 'slug', 'title', 'description', 'language', 'version', 'created_at', 'updated_at'] as const

/** Blogs in slug order; `afterSlug` continues after the last blog of the previous page. */
export async function listBlogs (db: Executor, page: { limit: number, afterSlug?: string | undefined }): Promise<BlogRow[]> {
  let query = db.selectFrom('blogs').select(BLOG_COLUMNS).orderBy('slug').limit(page.limit)
  if (page.afterSlug !== undefined) query = query.where('slug', '>', page.afterSlug)
  return query.execute()
}

export async function findBlog (db: Executor, key: IdOrSlug): Promise<BlogRow | undefined> {
  const query = db.selectFrom('blogs').select(BLOG_COLUMNS)
  return ('id' in key ? query.where('id', '=', key.id) : query.where('slug', '=', key.slug)).executeTakeFirst()
}

export async function findBlogsByIds (db: Executor, ids: readonly string[]): Promise<BlogRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('blogs').select(BLOG_COLUMNS).where('id', 'in', [...ids]).orderBy('slug').execute()
}
