import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import { badRequest } from './errors.ts'
import { apiBaseUrl } from './public-url.ts'
import { replaceQueryParam } from './query-string.ts'

// Keyset pagination. A cursor names the last row a client saw (its sort key), so the next page
// is one index range scan from there: page 10,000 costs what page 1 costs, and rows inserted
// meanwhile neither repeat nor vanish. The cursor is opaque to clients: base64url JSON,
// tagged with the list it belongs to so one list's cursor is refused by another.

const CURSOR_VERSION = 1
const MAX_CURSOR_LENGTH = 512

/**
 * A whole number written in decimal digits, as a query parameter. (z.coerce.number alone would
 * also take 0x10, 1e2 and " 5 ", which no client means.)
 */
export function integerParam (min: number, max: number) {
  return z.preprocess((value) => typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value,
    z.number({ error: 'must be a whole number in decimal digits' }).int().min(min).max(max))
}

export const LimitSchema = integerParam(1, 100).default(20)
  .describe('Items per page, 1 to 100 (default 20).')

export const CursorSchema = z.string().min(1).max(MAX_CURSOR_LENGTH)
  .describe('Opaque cursor from `meta.next_cursor` of the previous page.')

export const PageQuerySchema = z.object({
  limit: LimitSchema,
  cursor: CursorSchema.optional()
})

export const PageMetaSchema = z.object({
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.')
}).meta({ id: 'PageMeta', examples: [{ next_cursor: 'WzEsImJsb2dzIiwidW5kZXItdGhlLWJsYWNrLWZsYWciXQ' }] })

export const PageLinksSchema = z.object({
  self: z.string().describe('This page.'),
  next: z.string().nullable().describe('The next page, or null on the last page.')
}).meta({ id: 'PageLinks', examples: [{ self: 'https://api.example.com/v1/blogs?limit=20', next: 'https://api.example.com/v1/blogs?limit=20&cursor=WzEsImJsb2dzIiwidW5kZXItdGhlLWJsYWNrLWZsYWciXQ' }] })

/** A list envelope: `{ data: [...], meta: { next_cursor }, links: { self, next } }`. */
export function pageOf<T extends z.ZodType> (item: T) {
  return z.object({ data: z.array(item), meta: PageMetaSchema, links: PageLinksSchema })
}

export function encodeCursor (list: string, key: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, list, ...key])).toString('base64url')
}

/** Decodes a cursor for `list`, validating its key; anything else is a 400, never a 500. */
export function decodeCursor<T extends z.ZodTuple> (list: string, cursor: string, keySchema: T): z.infer<T> {
  const invalid = () => badRequest('invalid_cursor', 'The cursor is not valid for this list; start again without one.',
    [{ path: 'query.cursor', message: 'is not a cursor this list issued' }])
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(decoded) || decoded[0] !== CURSOR_VERSION || decoded[1] !== list) throw invalid()
  const key = keySchema.safeParse(decoded.slice(2))
  if (!key.success) throw invalid()
  return key.data
}

/**
 * Builds the page envelope from up to `limit + 1` rows: more than `limit` means a next page, from
 * the last item's key. `stoppedAt`: the page stopped short of `limit` rows before the list's end
 * (a search out of time), and the next page goes on from this key.
 */
export function paginate<T> (
  request: FastifyRequest,
  list: string,
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => readonly (string | number | null)[],
  stoppedAt?: readonly (string | number | null)[]
) {
  const hasMore = rows.length > limit
  const items = hasMore ? rows.slice(0, limit) : rows
  const last = items.at(-1)
  const nextKey = hasMore && last !== undefined ? keyOf(last) : stoppedAt
  const nextCursor = nextKey === undefined ? null : encodeCursor(list, nextKey)
  const self = new URL(request.url, apiBaseUrl(request))
  let next: string | null = null
  if (nextCursor !== null) {
    const nextUrl = new URL(self)
    nextUrl.search = replaceQueryParam(self.search, 'cursor', nextCursor)
    next = nextUrl.toString()
  }
  return { items, meta: { next_cursor: nextCursor }, links: { self: self.toString(), next } }
}

const SingleKey = z.tuple([z.string().min(1).max(200)])

/**
 * A page of a list ordered by one unique text column (slug or id): decodes the cursor, fetches
 * one row more than asked to learn whether a next page exists, and builds the envelope.
 */
export async function pageByKey<T> (
  request: FastifyRequest,
  list: string,
  page: { limit: number, cursor?: string | undefined },
  fetch: (after: string | undefined, limit: number) => Promise<T[]>,
  keyOf: (row: T) => string
) {
  const after = page.cursor === undefined ? undefined : decodeCursor(list, page.cursor, SingleKey)[0]
  const rows = await fetch(after, page.limit + 1)
  return paginate(request, list, rows, page.limit, (row) => [keyOf(row)])
}
