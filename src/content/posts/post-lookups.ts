import { Counter } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { lookupBatches } from '../../db/lookup-batches.ts'
import { findPostsJson, type Audience, type JsonShape, type PostJsonRecord, type PostKey } from './posts.repository.ts'

// How the single-post routes read a post: through lookup batches (db/lookup-batches.ts), so that
// many readers of posts at once make a few queries, not one each.

/**
 * One query of a shape in flight, the rest gathering behind it. PostgreSQL answers a batch of
 * 50 posts in less time than the API takes to send them, so a second query in flight only
 * halves the batches: on 2 cores (bench/cpu-split.sh, post path, cache off) 1 in flight gave
 * 7,623 req/s with API 0.105 ms and PostgreSQL 0.055 ms of CPU a request; 2 gave 5,939-6,087
 * (0.14, 0.067), 4 gave 4,940 (0.140, 0.147). A process has one thread; more API processes
 * (the scale-out picture) each have their own.
 */
const MAX_IN_FLIGHT = 1
/** Past this, a batch in flight is stalled (cold rows read from disk): another may go out beside it. */
const STALL_MS = 10
const MAX_STALLED_IN_FLIGHT = 4
/** A post's JSON has its whole body: 50 of the longest are a few MB, one result message. */
const MAX_BATCH = 50

export type FindPost = (key: PostKey, audience: Audience, shape: JsonShape) => Promise<PostJsonRecord | undefined>

interface PostQuery { audience: Audience, shape: JsonShape }

export function postLookups (app: FastifyInstance): FindPost {
  const db = app.db
  // With replicas each read goes where its own freshness allows (http/read-routing.ts), which one
  // query for many requests could not honour: there, each post is a query of its own.
  if (app.database.replication !== undefined) return async (key, audience, shape) => (await findPostsJson(db, [key], audience, shape))[0]
  const batches = lookupBatches<PostQuery, PostKey, PostJsonRecord>({
    fetch: async ({ audience, shape }, keys) => findPostsJson(db, keys, audience, shape),
    maxInFlight: MAX_IN_FLIGHT,
    stallMs: STALL_MS,
    maxStalledInFlight: MAX_STALLED_IN_FLIGHT,
    maxBatch: MAX_BATCH
  })
  new Counter({
    name: 'post_lookups_total',
    help: 'Single posts looked up by id or address (queries: the statements that looked them up, several posts each under load).',
    labelNames: ['counted'] as const,
    registers: [app.metrics.registry],
    collect () {
      this.reset()
      this.inc({ counted: 'posts' }, batches.stats.keys)
      this.inc({ counted: 'queries' }, batches.stats.queries)
    }
  })
  return async (key, audience, shape) => {
    const group = `${'id' in key ? 'id' : 'address'} ${audience} ${JSON.stringify(shape)}`
    return batches.load(group, { audience, shape }, key)
  }
}
