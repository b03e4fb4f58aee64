import { z } from 'zod'
import { SLUG_PATTERN } from './slugs.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid (value: string): boolean {
  return UUID.test(value)
}

/** Blogs, authors and tags are addressed by id or by slug: one path parameter takes either. */
export const IdOrSlugSchema = z.string().min(1).max(200)
  .describe('The id (UUID) or the slug.')

export type IdOrSlug = { id: string } | { slug: string }

/** A value that is neither a UUID nor a well-formed slug cannot name anything: callers answer 404. */
export function parseIdOrSlug (value: string): IdOrSlug | undefined {
  if (isUuid(value)) return { id: value.toLowerCase() }
  return SLUG_PATTERN.test(value) ? { slug: value } : undefined
}
