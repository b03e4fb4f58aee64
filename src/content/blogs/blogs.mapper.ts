import { recordTimes } from '../common/fields.ts'
import type { BlogRow } from './blogs.repository.ts'
import type { Blog } from './blogs.schemas.ts'

export function toBlog (row: BlogRow): Blog {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    language: row.language,
    ...recordTimes(row)
  }
}
