import { latestPostAt, recordTimes } from '../common/fields.ts'
import type { AuthorRow } from './authors.repository.ts'
import type { Author } from './authors.schemas.ts'

export function toAuthor (row: AuthorRow): Author {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    bio: row.bio,
    avatar_url: row.avatar_url,
    links: row.links,
    ...(row.post_count === undefined ? {} : { count: { posts: row.post_count } }),
    latest_post_at: latestPostAt(row),
    ...recordTimes(row)
  }
}
