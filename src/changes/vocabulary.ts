import { z } from 'zod'

// The words of the change log, written once: what kinds of resource change, how (the op a
// replica applies), and what it meant (the event webhooks and sync clients see). Types come
// from these lists, and the database types, the schemas and the webhook patterns use them.

export const ENTITY_TYPES = ['blog', 'author', 'tag', 'post'] as const
export const EntityTypeSchema = z.enum(ENTITY_TYPES)
export type EntityType = z.infer<typeof EntityTypeSchema>

/** upsert: store the resource as it is now; delete: forget it. */
export const CHANGE_OPS = ['upsert', 'delete'] as const
export const ChangeOpSchema = z.enum(CHANGE_OPS)
export type ChangeOp = z.infer<typeof ChangeOpSchema>

export const EVENT_ACTIONS = ['created', 'published', 'updated', 'unpublished', 'deleted'] as const
export type EventAction = (typeof EVENT_ACTIONS)[number]
export type ChangeEvent = `${EntityType}.${EventAction}`

/** What a webhook may subscribe to: one event, a family (`post.*`), or everything (`*`). */
export const EVENT_PATTERN = new RegExp(`^(\\*|(${ENTITY_TYPES.join('|')})\\.(\\*|${EVENT_ACTIONS.join('|')}))$`)

export function eventMatches (patterns: readonly string[], event: string): boolean {
  const [family] = event.split('.')
  return patterns.some((pattern) => pattern === '*' || pattern === event || pattern === `${family}.*`)
}

export interface ChangeEntry {
  entityType: EntityType
  entityId: string
  blogId: string | null
  op: ChangeOp
  /** What the public saw change: null when the public saw nothing (a draft edited). */
  publicOp: ChangeOp | null
  /** The event, e.g. post.published; derived from the ops when not given; null when another entry of the same change announces it. */
  event?: ChangeEvent | null | undefined
  /** A public post's authors and tags it no longer has: their lists and feeds lost it. */
  left?: FeedOwnersLeft | undefined
}

export interface FeedOwnersLeft { authorIds: readonly string[], tagIds: readonly string[] }

/** The event a change announces: none when the public saw nothing. */
export function eventOf (entry: ChangeEntry): ChangeEvent | null {
  if (entry.publicOp === null || entry.event === null) return null
  if (entry.event !== undefined) return entry.event
  if (entry.publicOp === 'delete') return `${entry.entityType}.${entry.op === 'delete' ? 'deleted' : 'unpublished'}`
  return `${entry.entityType}.updated`
}

/** What the public saw change, from whether it could see the resource before and after. */
export function publicOpOf (visibleBefore: boolean, visibleAfter: boolean): ChangeOp | null {
  if (visibleAfter) return 'upsert'
  return visibleBefore ? 'delete' : null
}
