import { uuidv7 } from 'uuidv7'
import type { Executor } from '../../db/database.ts'
import type { Scope } from '../scopes.ts'
import { AppError } from '../../http/errors.ts'
import { generateApiKey, generateGhostContentKey, hashSecret, secretMatches, splitApiKey } from './api-key-secret.ts'
import { findApiKeyForAuth, insertApiKey, insertApiKeyIfAbsent, type ApiKeyRow } from './api-keys.repository.ts'
import type { ApiKey } from './api-keys.schemas.ts'

/**
 * A new key. `ghost`: a Ghost Content API key (26 hex characters, sent in URLs), which may only
 * read public content: its scopes must be exactly content:read.
 */
export async function createApiKey (db: Executor, name: string, scopes: Scope[], format: 'bearer' | 'ghost' = 'bearer'): Promise<{ row: ApiKeyRow, key: string }> {
  if (format === 'ghost' && (scopes.length !== 1 || scopes[0] !== 'content:read')) {
    throw new AppError(422, 'ghost_key_scope', 'A Ghost Content API key reads public content only: its scopes must be ["content:read"].',
      { errors: [{ path: 'body.scopes', message: 'must be ["content:read"] for format ghost' }] })
  }
  const { key, prefix, secretHash } = format === 'ghost' ? generateGhostContentKey() : generateApiKey()
  const row = await insertApiKey(db, { id: uuidv7(), name, prefix, secretHash, scopes: [...new Set(scopes)] })
  return { row, key }
}

export class BootstrapKeyError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'BootstrapKeyError'
  }
}

/**
 * Makes ADMIN_API_KEY usable: stored (hashed) under its prefix as an admin key the first time.
 * A start never undoes a revocation (the key stays revoked: `revoked`), and a prefix that
 * another key already holds is refused rather than taken over.
 */
export async function ensureBootstrapKey (db: Executor, key: string): Promise<'created' | 'active' | 'revoked'> {
  const parts = splitApiKey(key)
  if (parts === undefined) throw new BootstrapKeyError('ADMIN_API_KEY is not a valid key')
  const existing = await findApiKeyForAuth(db, parts.prefix)
  if (existing === undefined) {
    await insertApiKeyIfAbsent(db, { id: uuidv7(), name: 'bootstrap admin (ADMIN_API_KEY)', prefix: parts.prefix, secretHash: hashSecret(parts.secret), scopes: ['admin'] })
    return 'created'
  }
  if (!secretMatches(parts.secret, existing.secret_hash)) {
    throw new BootstrapKeyError(`ADMIN_API_KEY's prefix "${parts.prefix}" belongs to another key; choose a key with a prefix of its own (npm run cli -- keys create makes one)`)
  }
  return existing.revoked_at === null ? 'active' : 'revoked'
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
