import type { Author } from './authors.schemas.ts'
import type { AuthorRow } from './authors.repository.ts'
import { toTimestamp } from '../common/fields.ts'

export function toAuthor (row: AuthorRow): Author {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    bio: row.bio,
    avatar_url: row.avatar_url,
    links: row.links,
    latest_post_at: row.latest_post_at === null ? null : toTimestamp(row.latest_post_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}
