import { z } from 'zod'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/

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

export const TimestampSchema = z.iso.datetime({ offset: true })

/**
 * Timestamps leave the API as ISO 8601 in UTC. Values from a scalar subquery may arrive as a
 * Date or, through JSON, as a string; both come out the same.
 */
export function toTimestamp (value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString()
}

/** The entries whose value is not undefined: a PATCH changes only the fields it names. */
export function pickDefined (values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))
}
