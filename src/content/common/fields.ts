import { z } from 'zod'

// Field types shared by every content resource, written once.

export const TimestampSchema = z.iso.datetime({ offset: true })

/**
 * Timestamps leave the API as ISO 8601 in UTC. Values from a scalar subquery may arrive as a
 * Date or, through JSON, as a string; both come out the same.
 */
export function toTimestamp (value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString()
}

/** A BCP 47 language tag as the API accepts it: a primary language, then subtags (en, en-GB, zh-Hant-TW). */
export const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/
export const LanguageTagSchema = z.string().regex(LANGUAGE_TAG, 'must be a BCP 47 language tag such as en or en-GB')

// Kept as the WHATWG URL parser serializes it (normalize): ASCII, an IDN host in punycode, spaces,
// quotes, <, > and non-ASCII letters percent-encoded. These URLs go out as written into JSON,
// feeds (an image's enclosure and media:content), NewsArticle JSON-LD and webhook deliveries,
// where a raw space or quote is not a URI (content/common/site.ts has the same rule for the
// settings post addresses are built from).
export const HttpUrlSchema = z.url({ protocol: /^https?$/, normalize: true, error: 'must be an http(s) URL' })
  .max(2000, 'must be at most 2,000 characters, as a URL parser writes it (non-ASCII letters percent-encoded)')
  // The parser leaves a `%` that starts no escape as it is; no URI has one (libxml2 refuses it in a sitemap).
  .refine((url) => !/%(?![0-9A-Fa-f]{2})/.test(url), 'has a % that starts no percent-escape: write it as %25')

/** The entries whose value is not undefined: a PATCH changes only the fields it names. */
export function pickDefined (values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))
}

/**
 * 1000000 as "1,000,000", for the limits the API documents. Not toLocaleString('en'): that one call
 * maps some 6 MB of the node binary's ICU data into every process (its RSS), for a comma.
 */
export function withThousandsSeparators (value: number): string {
  // eslint-disable-next-line regexp/no-super-linear-move -- a number's digits, at most 16
  return String(value).replace(/\B(?=(\d{3})+$)/g, ',')
}

/** Every resource's own times, as the API shows them. */
export function recordTimes (row: { created_at: Date, updated_at: Date }): { created_at: string, updated_at: string } {
  return { created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() }
}

/** When the newest public post of an author or tag was published, if it has one. */
export function latestPostAt (row: { latest_post_at: Date | string | null }): string | null {
  return row.latest_post_at === null ? null : toTimestamp(row.latest_post_at)
}
