import type { FastifyRequest } from 'fastify'
import { AppError, badRequest } from './errors.ts'

// Optimistic concurrency. Every editable resource has a version, and its ETag starts with
// `v<version>` (see caching.ts). A write with If-Match succeeds only while the version is
// still one the client named; the check and the update are one UPDATE ... WHERE version IN (...).
//
// If-Match as RFC 9110 (13.1.1) has it: `*` matches any current representation; a list of
// entity tags matches if any of them does; comparison is strong, so a weak tag never matches
// (412); a well-formed tag this API never issued matches nothing (412). Only a header that is
// not an entity-tag list at all is a 400.

/** The versions a write may apply to; undefined when there is no condition (no If-Match, or `*`). */
export type VersionCondition = readonly number[] | undefined

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text; a list is comma-separated.
const ENTITY_TAG_IN_LIST = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/y
const VERSION_TAG = /^v(\d{1,9})(?:-[A-Za-z0-9_-]*)?$/

function malformed (): AppError {
  return badRequest('invalid_if_match', 'If-Match must be "*" or a comma-separated list of entity tags, such as "v3" from a GET or a write.',
    [{ path: 'headers.if-match', message: 'is not an entity-tag list' }])
}

export function ifMatch (request: FastifyRequest): VersionCondition {
  const header = request.headers['if-match']
  if (header === undefined) return undefined
  const value = header.trim()
  if (value === '*') return undefined
  if (value === '') throw malformed()
  const versions: number[] = []
  ENTITY_TAG_IN_LIST.lastIndex = 0
  while (ENTITY_TAG_IN_LIST.lastIndex < value.length) {
    const match = ENTITY_TAG_IN_LIST.exec(value)
    if (match === null) throw malformed()
    if (match[1] !== undefined) continue // weak: never matches under strong comparison
    const version = VERSION_TAG.exec(match[2] as string)?.[1]
    if (version !== undefined) versions.push(Number(version))
  }
  return versions
}

/** Does the current version satisfy the condition? */
export function satisfies (condition: VersionCondition, current: number): boolean {
  return condition === undefined || condition.includes(current)
}

export function preconditionFailed (current: number): AppError {
  return new AppError(412, 'precondition_failed',
    `The resource changed since that version, or If-Match names none of its versions; it is now at version ${current}. Fetch it again and reapply your change.`)
}

/** The ETag a write response carries, usable in the next If-Match. */
export function versionEtag (version: number): string {
  return `"v${version}"`
}
