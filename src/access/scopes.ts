import { z } from 'zod'

// The scopes a key can hold, in order: each grants itself and every one before it (admin has
// everything; writers can read the drafts they work on). The order of this list is the rule.

export const SCOPES = ['content:read', 'content:preview', 'content:write', 'admin'] as const
export const ScopeSchema = z.enum(SCOPES).describe('content:read < content:preview < content:write < admin; each grants the ones before it.')
export type Scope = z.infer<typeof ScopeSchema>

/** Does holding `held` grant `needed`? */
export function grants (held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed)
}

export function hasScope (key: { scopes: readonly Scope[] } | null, needed: Scope): boolean {
  return key !== null && key.scopes.some((held) => grants(held, needed))
}
