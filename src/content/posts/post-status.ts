import { z } from 'zod'

// A post's status, and the one rule for who may see it. The SQL form of the rule lives in
// posts.repository.ts (built from PUBLIC_STATUSES below); this file has the same rule for rows
// already in memory (the mapper, the demo seed).

export const POST_STATUSES = ['draft', 'scheduled', 'published', 'archived'] as const
export const PostStatusSchema = z.enum(POST_STATUSES)
export type PostStatus = z.infer<typeof PostStatusSchema>

/** Statuses whose posts the public sees once their publish time has come (and they are not deleted). */
export const PUBLIC_STATUSES = ['published', 'scheduled'] as const satisfies readonly PostStatus[]

export interface VisibilityFacts {
  status: PostStatus
  published_at: Date | null
  deleted_at?: Date | null | undefined
}

/** The public may read the post now: a public status, its time has come, not deleted. */
export function isPubliclyVisible (post: VisibilityFacts, now = new Date()): boolean {
  return (PUBLIC_STATUSES as readonly PostStatus[]).includes(post.status) && post.published_at !== null &&
    post.published_at.getTime() <= now.getTime() && (post.deleted_at ?? null) === null
}

/** A scheduled post whose time has come is, to its readers, published. */
export function effectiveStatus (post: VisibilityFacts, now = new Date()): PostStatus {
  return post.status === 'scheduled' && post.published_at !== null && post.published_at.getTime() <= now.getTime() ? 'published' : post.status
}
