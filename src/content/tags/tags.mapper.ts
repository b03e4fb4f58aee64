import type { Tag } from './tags.schemas.ts'
import type { TagRow } from './tags.repository.ts'
import { toTimestamp } from '../common/fields.ts'

export function toTag (row: TagRow): Tag {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    latest_post_at: row.latest_post_at === null ? null : toTimestamp(row.latest_post_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}
