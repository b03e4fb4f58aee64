import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Kysely, Transaction } from 'kysely'
import type { DB } from '../db/schema.ts'
import { idempotencyKeyOf, runIdempotently, type WriteResult } from './idempotency.ts'

export type { WriteResult }

/**
 * The shape of every write: one transaction around the work (and its Idempotency-Key, on POST),
 * then the result sent as is. Nothing is sent until the transaction has committed, so a client
 * that hears 2xx can read its write back from any process.
 */
export async function sendWrite (
  db: Kysely<DB>, request: FastifyRequest, reply: FastifyReply, work: (tx: Transaction<DB>) => Promise<WriteResult>
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request)
  const result = await db.transaction().execute((tx) => runIdempotently(tx, request, key, work))
  reply.code(result.status).header('cache-control', 'no-store')
  for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value)
  if (result.replayed) reply.header('idempotent-replayed', 'true')
  return result.status === 204 ? reply.send() : reply.send(result.body)
}
