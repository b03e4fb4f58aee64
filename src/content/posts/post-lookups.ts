import { Counter } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { lookupBatches } from '../../db/lookup-batches.ts'
import { findPostJson, findPostsJson, type Audience, type JsonShape, type PostJsonRecord, type PostKey } from './posts.repository.ts'

// How the single-post routes read a post: through lookup batches (db/lookup-batches.ts), so that
// many readers of posts at once make a few queries, not one each.

/** Two queries of a shape in flight: one being answered on each of the two cores we plan for. */
const MAX_IN_FLIGHT = 2
/** A post's JSON has its whole body: 50 of the longest are a few MB, one result message. */
const MAX_BATCH = 50

export type FindPost = (key: PostKey, audience: Audience, shape: JsonShape) => Promise<PostJsonRecord | undefined>

interface PostQuery { audience: Audience, shape: JsonShape }

export function postLookups (app: FastifyInstance): FindPost {
  const db = app.db
  // With replicas each read goes where its own freshness allows (http/read-routing.ts), which one
  // query for many requests could not honour: there, each post is a query of its own.
  if (app.database.replication !== undefined) return async (key, audience, shape) => findPostJson(db, key, audience, shape)
  const batches = lookupBatches<PostQuery, PostKey, PostJsonRecord>({
    fetch: async ({ audience, shape }, keys) => findPostsJson(db, keys, audience, shape),
    maxInFlight: MAX_IN_FLIGHT,
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
