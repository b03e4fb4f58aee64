import type { FastifyRequest } from 'fastify'
import { AppError, badRequest } from './errors.ts'

// Optimistic concurrency. Every editable resource has a version, and its ETag starts with
// `v<version>` (see caching.ts). A write with If-Match succeeds only while the version is
// still the one the client saw; the check and the update are one UPDATE ... WHERE version = n.

const VERSION_ETAG = /^(?:W\/)?"v(\d{1,9})(?:-[A-Za-z0-9_-]*)?"$/

/** The version If-Match names; undefined when there is no If-Match (or it is `*`). */
export function expectedVersion (request: FastifyRequest): number | undefined {
  const header = request.headers['if-match']
  if (header === undefined || header.trim() === '*') return undefined
  const match = VERSION_ETAG.exec(header.trim())
  if (match === null) {
    throw badRequest('invalid_if_match', 'If-Match must be one ETag of this resource, as a GET or a write returned it.',
      [{ path: 'headers.if-match', message: 'is not an ETag of this API' }])
  }
  return Number(match[1])
}

export function preconditionFailed (current: number): AppError {
  return new AppError(412, 'precondition_failed',
    `The resource changed since that version; it is now at version ${current}. Fetch it again and reapply your change.`)
}

/** The ETag a write response carries, usable in the next If-Match. */
export function versionEtag (version: number): string {
  return `"v${version}"`
}
