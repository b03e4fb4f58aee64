import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { appendChanges } from '../changes/change-log.repository.ts'
import { publishDuePosts } from '../content/posts/posts.writes.repository.ts'
import type { DB } from '../db/schema.ts'
import { runInBackground } from './background-job.ts'

// A scheduled post is visible to readers from its publish time on by itself (the visibility
// predicate compares with now()). What needs a process is the news of it: this loop marks due
// posts published and writes their post.published change, which sync clients, webhooks and
// caches pick up within one interval.

const BATCH = 100

/** One pass; returns how many posts it published. Safe to run in several processes at once. */
export async function publishScheduledPosts (db: Kysely<DB>): Promise<number> {
  let total = 0
  for (;;) {
    const published = await db.transaction().execute(async (tx) => {
      const rows = await publishDuePosts(tx, BATCH)
      await appendChanges(tx, rows.map((row) => ({
        entityType: 'post', entityId: row.id, blogId: row.blog_id, op: 'upsert', publicOp: 'upsert', event: 'post.published'
      })))
      return rows.length
    })
    total += published
    if (published < BATCH) return total
  }
}

/** Runs a pass every SCHEDULER_INTERVAL_MS from the moment the app is ready until it closes. */
async function scheduler (app: FastifyInstance): Promise<void> {
  runInBackground(app, {
    failure: 'scheduled publishing failed',
    everyMs: app.config.schedulerIntervalMs,
    run: async () => {
      const count = await publishScheduledPosts(app.db)
      if (count > 0) app.log.info({ count }, 'published scheduled posts')
    }
  })
}

export const schedulerPlugin = fp(scheduler, { name: 'scheduler', dependencies: ['core', 'change-log'] })
