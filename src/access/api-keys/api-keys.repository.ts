import type { Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { ApiKeysTable } from '../../db/schema.ts'
import type { Scope } from '../scopes.ts'

export type ApiKeyRow = Pick<Selectable<ApiKeysTable>, 'id' | 'name' | 'prefix' | 'scopes' | 'created_at' | 'last_used_at' | 'revoked_at'>
const COLUMNS = ['id', 'name', 'prefix', 'scopes', 'created_at', 'last_used_at', 'revoked_at'] as const

export async function insertApiKey (db: Executor, key: { id: string, name: string, prefix: string, secretHash: string, scopes: Scope[] }): Promise<ApiKeyRow> {
  return db.insertInto('api_keys')
    .values({ id: key.id, name: key.name, prefix: key.prefix, secret_hash: key.secretHash, scopes: key.scopes })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow()
}

/** Creates the key unless its prefix is taken (two processes starting with the same bootstrap key). */
export async function insertApiKeyIfAbsent (db: Executor, key: { id: string, name: string, prefix: string, secretHash: string, scopes: Scope[] }): Promise<void> {
  await db.insertInto('api_keys')
    .values({ id: key.id, name: key.name, prefix: key.prefix, secret_hash: key.secretHash, scopes: key.scopes })
    .onConflict((oc) => oc.column('prefix').doNothing())
    .execute()
}

export async function findApiKeyForAuth (db: Executor, prefix: string) {
  return db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'secret_hash', 'revoked_at'])
    .where('prefix', '=', prefix).executeTakeFirst()
}

export async function listApiKeys (db: Executor, page: { limit: number, afterId?: string | undefined }): Promise<ApiKeyRow[]> {
  let query = db.selectFrom('api_keys').select(COLUMNS).orderBy('id').limit(page.limit)
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId)
  return query.execute()
}

export async function findApiKey (db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').select(COLUMNS).where('id', '=', id).executeTakeFirst()
}

export async function revokeApiKey (db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  return db.updateTable('api_keys').set({ revoked_at: new Date() })
    .where('id', '=', id).where('revoked_at', 'is', null)
    .returning(COLUMNS).executeTakeFirst()
}

/** Writes the last-use times gathered in memory: one update per key used since the last flush. */
export async function recordLastUse (db: Executor, uses: ReadonlyMap<string, Date>): Promise<void> {
  for (const [id, at] of uses) {
    await db.updateTable('api_keys').set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute()
  }
}
