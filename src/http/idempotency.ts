import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Transaction } from 'kysely'
import type { DB } from '../db/schema.ts'
import { AppError, badRequest } from './errors.ts'
import { claimIdempotencyKey, findIdempotentResponse, storeIdempotentResponse } from './idempotency.repository.ts'

// Idempotency-Key on POST: the first request's response is stored in the same transaction as
// its write. A retry with the same key and body gets that response back and writes nothing; a
// concurrent retry waits on the key's row until the first commits. The same key with another
// body is a 422. Failed requests store nothing (their transaction rolled back), so they can be
// retried as new.

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * true: a POST whose Idempotency-Key makes retries safe (sent through sendWrite). Only these
     * honour the header, and the OpenAPI document says so for them (openapi-document.ts).
     */
    idempotent?: boolean
  }
}

export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
const KEEP_FOR_MS = 24 * 3_600_000

export interface WriteResult {
  status: number
  body: unknown
  headers?: Record<string, string>
}

function requestHash (request: FastifyRequest): string {
  return createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex')
}

/** The request's Idempotency-Key (POSTs marked idempotent only); a 400 when it is malformed. */
export function idempotencyKeyOf (request: FastifyRequest): string | undefined {
  const header = request.method === 'POST' && request.routeOptions.config.idempotent === true ? request.headers['idempotency-key'] : undefined
  const key = Array.isArray(header) ? header.join(',') : header
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    throw badRequest('validation_failed', 'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      [{ path: 'headers.idempotency-key', message: 'is not a valid key' }])
  }
  return key
}

/**
 * Runs `work` in `tx` at most once per (key, Idempotency-Key): the first time it runs and its
 * result is stored with it; a retry gets the stored result back (`replayed`) and nothing runs.
 */
export async function runIdempotently (
  tx: Transaction<DB>, request: FastifyRequest, key: string | undefined, work: (tx: Transaction<DB>) => Promise<WriteResult>
): Promise<WriteResult & { replayed: boolean }> {
  const apiKeyId = request.apiKey?.id
  if (key === undefined || apiKeyId === undefined) return { ...(await work(tx)), replayed: false }
  const hash = requestHash(request)
  const claimed = await claimIdempotencyKey(tx, {
    apiKeyId, key, method: request.method, path: request.url, requestHash: hash, expiresAt: new Date(Date.now() + KEEP_FOR_MS)
  })
  if (!claimed) {
    const stored = await findIdempotentResponse(tx, apiKeyId, key)
    if (stored.request_hash !== hash) {
      throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request; use a new key for a new request.')
    }
    if (stored.response_status === null) throw new AppError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still in progress.')
    return { status: stored.response_status, headers: stored.response_headers ?? {}, body: JSON.parse(stored.response_body ?? 'null') as unknown, replayed: true }
  }
  const fresh = await work(tx)
  await storeIdempotentResponse(tx, apiKeyId, key, { status: fresh.status, headers: fresh.headers ?? {}, body: fresh.body })
  return { ...fresh, replayed: false }
}
