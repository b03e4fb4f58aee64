import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { recordChanges } from '../content/changes.repository.ts'
import { publishDuePosts } from '../content/posts/posts.writes.repository.ts'
import type { DB } from '../db/schema.ts'

// A scheduled post is visible to readers from its publish time on by itself (the visibility
// predicate compares with now()). What needs a process is the news of it: this loop marks due
// posts published and writes their post.published change, which sync clients and webhooks
// pick up within one interval.

const BATCH = 100

/** One pass; returns how many posts it published. Safe to run in several processes at once. */
export async function publishScheduledPosts (db: Kysely<DB>): Promise<number> {
  let total = 0
  for (;;) {
    const published = await db.transaction().execute(async (tx) => {
      const rows = await publishDuePosts(tx, BATCH)
      await recordChanges(tx, rows.map((row) => ({
        entityType: 'post' as const, entityId: row.id, blogId: row.blog_id, op: 'upsert' as const, publicOp: 'upsert' as const, event: 'post.published' as const
      })))
      return rows.length
    })
    total += published
    if (published < BATCH) return total
  }
}

export function startScheduler (app: FastifyInstance, intervalMs: number): void {
  let running: Promise<unknown> = Promise.resolve()
  const tick = () => {
    running = publishScheduledPosts(app.db)
      .then((count) => { if (count > 0) app.log.info({ count }, 'published scheduled posts') })
      .catch((error: unknown) => app.log.warn({ err: error }, 'scheduled publishing failed; will retry'))
  }
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  app.addHook('onReady', async () => { tick() })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}
