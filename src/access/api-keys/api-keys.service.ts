import { uuidv7 } from 'uuidv7'
import type { Executor } from '../../db/database.ts'
import type { Scope } from '../scopes.ts'
import { generateApiKey, hashSecret, splitApiKey } from './api-key-secret.ts'
import { insertApiKey, upsertApiKey, type ApiKeyRow } from './api-keys.repository.ts'
import type { ApiKey } from './api-keys.schemas.ts'

export async function createApiKey (db: Executor, name: string, scopes: Scope[]): Promise<{ row: ApiKeyRow, key: string }> {
  const { key, prefix, secretHash } = generateApiKey()
  const row = await insertApiKey(db, { id: uuidv7(), name, prefix, secretHash, scopes: [...new Set(scopes)] })
  return { row, key }
}

/** Makes ADMIN_API_KEY usable: stored (hashed) under its prefix, not revoked, admin. */
export async function ensureBootstrapKey (db: Executor, key: string): Promise<void> {
  const parts = splitApiKey(key)
  if (parts === undefined) throw new Error('ADMIN_API_KEY is not a valid key')
  await upsertApiKey(db, { id: uuidv7(), name: 'bootstrap admin (ADMIN_API_KEY)', prefix: parts.prefix, secretHash: hashSecret(parts.secret), scopes: ['admin'] })
}

export function toApiKey (row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null
  }
}
