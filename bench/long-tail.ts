import { sql, type Kysely } from 'kysely'
import { publiclyVisible } from '../src/content/posts/posts.repository.ts'
import type { DB } from '../src/db/schema.ts'
import { random, zipfRanks } from './dataset.ts'

// Issue 13's long tail, shared by the benchmark (run.ts) and the CPU split (cpu-split.sh, via
// long-tail-load.ts): article pages as a CDN's origin sees them. Every public post can be asked
// for, the newest most often, with Zipf-distributed popularity (exponent 1.0) over recency
// rank: rank r is asked for in proportion to 1/r. A fixed seeded sample of requests.

export const LONG_TAIL_REQUESTS = 100_000

/** The sample's paths, in the order they are asked for (the same every run on the same dataset). */
export async function longTailPaths (db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ path: string }>`
    SELECT '/v1/blogs/' || b.slug || '/posts/' || p.slug AS path FROM posts p JOIN blogs b ON b.id = p.blog_id
    WHERE ${publiclyVisible()} ORDER BY p.published_at DESC, p.id DESC`.execute(db)
  const rank = zipfRanks(rows.length)
  const rand = random(20261201)
  return Array.from({ length: LONG_TAIL_REQUESTS }, () => rows[rank(rand())]!.path)
}

/**
 * An autocannon request list that asks for `paths` in their order, round and round: one request
 * whose path each connection takes from a shared cursor when it sends. (A request list of 100,000
 * entries is copied for every connection and took the client so long to build that requests
 * timed out, on both sides.)
 */
export function pathsInTurn (paths: readonly string[]) {
  let next = 0
  return [{ method: 'GET' as const, path: paths[0] as string, setupRequest: <R extends { path?: string }>(request: R): R => ({ ...request, path: paths[next++ % paths.length] }) }]
}
