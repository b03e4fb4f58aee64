import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import Negotiator from 'negotiator'
import { HeaderMemo } from './header-memo.ts'

// Content coding of responses (RFC 9110 8.4, 12.5.3): brotli or gzip when the client accepts
// it, for text formats worth it. A page of posts is 50 KB of JSON and compresses to a sixth;
// what a CDN or an app fetches is mostly bytes on the wire. The encoded bytes are what the
// ETag (suffixed per coding, as distinct representations need distinct tags) and the response
// cache keep, so a cached page is compressed once, not once per reader. zlib is Node's own;
// @fastify/compress was not used because it compresses as a stream after every other hook,
// so nothing could keep or tag the encoded bytes.

export type ContentCoding = 'br' | 'gzip'

/** Below this, a coding's framing costs more than it saves. */
export const MIN_COMPRESSIBLE_BYTES = 1024

const COMPRESSIBLE = /^(text\/|application\/(json|problem\+json|feed\+json|ld\+json|rss\+xml|atom\+xml|xml)\b)/i

// Fast settings: responses are compressed on the request path (then kept compressed in the
// response cache). On a 54 KB page of posts brotli quality 2 gave 7.8 KB in 0.14 ms, smaller
// than gzip's default level 6 (7.9 KB) at a third of its time; quality 4 saved 1 % more for
// twice the time. gzip, for clients without brotli, at 4.
const BROTLI_QUALITY = 2
const GZIP_LEVEL = 4

/** negotiator 1.x takes a preference for ties; its published types (0.6) predate it. */
interface PreferringNegotiator { encoding (available: readonly string[], options: { preferred: readonly string[] }): string | undefined }

// What each Accept-Encoding value negotiates to; clients send few distinct ones.
const negotiated = new HeaderMemo<ContentCoding | undefined>(1000)

/**
 * The coding an Accept-Encoding header prefers among those we produce; undefined: identity.
 * negotiator (Express's) follows RFC 9110 where a smaller one we tried did not: `br;q=0, *` must
 * not get brotli, coding names are case-insensitive.
 */
export function negotiateCoding (acceptEncoding: string | undefined): ContentCoding | undefined {
  if (acceptEncoding === undefined || acceptEncoding === '') return undefined
  return negotiated.valueOf(acceptEncoding, preferredCoding)
}

function preferredCoding (acceptEncoding: string): ContentCoding | undefined {
  // On a tie (browsers send `gzip, deflate, br`), brotli: smaller and, at our settings, faster.
  const negotiator = new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }) as Negotiator & PreferringNegotiator
  const chosen = negotiator.encoding(['br', 'gzip', 'identity'], { preferred: ['br', 'gzip', 'identity'] })
  return chosen === 'br' || chosen === 'gzip' ? chosen : undefined
}

/** Whether a response of this type may be sent compressed (and so varies on Accept-Encoding). */
export function isCompressible (contentType: unknown, cacheControl: unknown): boolean {
  return typeof contentType === 'string' && COMPRESSIBLE.test(contentType) &&
    !(typeof cacheControl === 'string' && /\bno-transform\b/i.test(cacheControl))
}

/** The payload in `coding`, or undefined when it is too small to gain from it. */
export function compress (bytes: Buffer, coding: ContentCoding): Buffer | undefined {
  if (bytes.length < MIN_COMPRESSIBLE_BYTES) return undefined
  return coding === 'br'
    ? brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } })
    : gzipSync(bytes, { level: GZIP_LEVEL })
}

/** The ETag of a coded representation: the identity's, suffixed (`"abc"` becomes `"abc-br"`). */
export function codedEtag (etag: string, coding: ContentCoding): string {
  return `${etag.slice(0, -1)}-${coding}"`
}
