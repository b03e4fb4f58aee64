import type { Executor } from '../db/database.ts'

export interface IdempotencyClaim { apiKeyId: string, key: string, method: string, path: string, requestHash: string, expiresAt: Date }

/** Claims the key for this request; false when a (committed) earlier request holds it. */
export async function claimIdempotencyKey (db: Executor, claim: IdempotencyClaim): Promise<boolean> {
  await db.deleteFrom('idempotency_keys').where('api_key_id', '=', claim.apiKeyId).where('key', '=', claim.key)
    .where('expires_at', '<', new Date()).execute()
  const row = await db.insertInto('idempotency_keys')
    .values({ api_key_id: claim.apiKeyId, key: claim.key, method: claim.method, path: claim.path, request_hash: claim.requestHash, expires_at: claim.expiresAt })
    .onConflict((oc) => oc.doNothing())
    .returning('key')
    .executeTakeFirst()
  return row !== undefined
}

export async function findIdempotentResponse (db: Executor, apiKeyId: string, key: string) {
  return db.selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_headers', 'response_body'])
    .where('api_key_id', '=', apiKeyId).where('key', '=', key).executeTakeFirstOrThrow()
}

export async function storeIdempotentResponse (db: Executor, apiKeyId: string, key: string, response: { status: number, headers: Record<string, string>, body: unknown }) {
  await db.updateTable('idempotency_keys')
    .set({ response_status: response.status, response_headers: JSON.stringify(response.headers), response_body: JSON.stringify(response.body) })
    .where('api_key_id', '=', apiKeyId).where('key', '=', key)
    .execute()
}
