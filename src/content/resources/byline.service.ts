import type { Executor } from '../../db/database.ts'
import { resolveIds } from '../addressing/addressing.repository.ts'
import { countPublicPosts, type BylineOptions, type BylineVia } from './byline.repository.ts'
import type { BylineGetQuery, BylineListQuery } from './byline.schemas.ts'

/** An author or tag list request as the repository takes it: blog references resolved to ids. */
export async function bylineOptions (db: Executor, query: BylineListQuery): Promise<BylineOptions> {
  return {
    ids: query.ids?.map((id) => id.toLowerCase()),
    slugs: query.slug,
    blogIds: query.blog === undefined ? undefined : await resolveIds(db, 'blogs', query.blog),
    postCount: query.include?.includes('count.posts') ?? false
  }
}

/** One author or tag with its post count when `include=count.posts` asks for it. */
export async function withPostCount<Row extends { id: string }> (db: Executor, via: BylineVia, row: Row, query: BylineGetQuery): Promise<Row & { post_count?: number }> {
  if (query.include?.includes('count.posts') !== true) return row
  return { ...row, post_count: await countPublicPosts(db, via, row.id) }
}
