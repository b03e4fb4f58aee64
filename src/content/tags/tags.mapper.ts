import { latestPostAt, recordTimes } from '../common/fields.ts'
import type { TagRow } from './tags.repository.ts'
import type { Tag } from './tags.schemas.ts'

export function toTag (row: TagRow): Tag {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    ...(row.post_count === undefined ? {} : { count: { posts: row.post_count } }),
    latest_post_at: latestPostAt(row),
    ...recordTimes(row)
  }
}
