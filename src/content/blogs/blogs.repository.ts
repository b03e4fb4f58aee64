import type { Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { BlogsTable } from '../../db/schema.ts'
import { resourceReads } from '../resources/resources.repository.ts'

export type BlogRow = Pick<Selectable<BlogsTable>,
  'id' | 'slug' | 'title' | 'description' | 'language' | 'website_url' | 'post_url_template' | 'logo_url' | 'icon_url' | 'cover_image_url' | 'social_accounts' | 'version' | 'created_at' | 'updated_at'>

function selectBlogs (db: Executor) {
  return db.selectFrom('blogs as b').select(['b.id', 'b.slug', 'b.title', 'b.description', 'b.language', 'b.website_url', 'b.post_url_template', 'b.logo_url', 'b.icon_url', 'b.cover_image_url', 'b.social_accounts', 'b.version', 'b.created_at', 'b.updated_at'])
}

const reads = resourceReads<BlogRow>(selectBlogs, 'b')
/** Blogs in slug order; `afterSlug` continues after the last blog of the previous page. */
export const listBlogs = reads.list
export const findBlog = reads.find
export const findBlogsByIds = reads.findByIds
