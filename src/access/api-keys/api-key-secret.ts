import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { API_KEY_FORMAT } from '../../config.ts'

// A key is `<prefix>_<secret>`. The prefix is public and finds the row; only a SHA-256 of the
// secret is stored. The secret is 256 random bits, so a fast hash is enough: there is nothing
// to brute-force that a slow hash would protect.

export function generateApiKey (): { key: string, prefix: string, secretHash: string } {
  const prefix = randomBytes(8).toString('hex').slice(0, 12)
  const secret = randomBytes(32).toString('base64url')
  return { key: `${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) }
}

// Ghost Content API keys (compat/ghost/): 26 lowercase hex characters, the format the official
// @tryghost/content-api client insists on. They are sent in URLs (?key=), as Ghost's are, so
// they only ever read what is public. The first 8 characters find the row (stored under a
// prefix no ordinary key can have), the other 18 (72 bits) prove it.
const GHOST_KEY = /^[0-9a-f]{26}$/
const GHOST_PREFIX = 'ghost'

export function generateGhostContentKey (): { key: string, prefix: string, secretHash: string } {
  const key = randomBytes(13).toString('hex')
  const parts = splitGhostContentKey(key) as { prefix: string, secret: string }
  return { key, prefix: parts.prefix, secretHash: hashSecret(parts.secret) }
}

export function splitGhostContentKey (key: string): { prefix: string, secret: string } | undefined {
  if (!GHOST_KEY.test(key)) return undefined
  return { prefix: `${GHOST_PREFIX}${key.slice(0, 8)}`, secret: key.slice(8) }
}

export function hashSecret (secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

export function splitApiKey (key: string): { prefix: string, secret: string } | undefined {
  if (!API_KEY_FORMAT.test(key)) return undefined
  const at = key.indexOf('_')
  return { prefix: key.slice(0, at), secret: key.slice(at + 1) }
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches (secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}
