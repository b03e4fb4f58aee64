import type { Blog } from './blogs.schemas.ts'
import type { BlogRow } from './blogs.repository.ts'

export function toBlog (row: BlogRow): Blog {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    language: row.language,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}
