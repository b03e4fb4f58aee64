import { createHash } from 'node:crypto'
import type pg from 'pg'

// Planning a post list (partial indexes to choose from, correlated subqueries for authors and
// tags) took longer than running it: ~2.5 ms against ~1 ms. A named statement is parsed once
// per connection, and PostgreSQL then settles on a cached plan, provided no parameter hides what
// the planner needs (test/heavy/plans-reused.test.ts holds every read route to that). This
// decides which queries get a name, and wraps a pool client so they do (and so that their rows
// die young: see nameReadStatements).

/** Past this many distinct query texts (IN lists of varying length make new ones), queries go unnamed. */
const MAX_NAMED_STATEMENTS = 500

/** A query as Kysely hands it to `pg`: its text, its parameters, no callback. */
interface KyselyQuery { text: string, values: unknown[] }

function isKyselyQuery (config: unknown, values: unknown, callback: unknown): config is string {
  return typeof config === 'string' && Array.isArray(values) && callback === undefined
}

/** Kysely compiles a SELECT to text starting with lowercase `select `; writes and transactions never benefit. */
function isRead (text: string): boolean {
  return text.startsWith('select ')
}

/**
 * Marks a query whose best plan is the same for any values (its shape leaves the planner one
 * way), so it may be named and planned once even when plansDependOnValues would say otherwise.
 */
export const SAME_PLAN_FOR_ANY_VALUES = '/* same plan for any values */'

/**
 * Full-text queries stay unnamed unless marked: whether to walk the newest-first index or the
 * GIN index depends on how common the words are, which only a plan made for the values can see.
 */
function plansDependOnValues (text: string): boolean {
  return text.includes('to_tsquery') && !text.includes(SAME_PLAN_FOR_ANY_VALUES)
}

export function shouldName (query: KyselyQuery): boolean {
  return isRead(query.text) && !plansDependOnValues(query.text)
}

const names = new Map<string, string>()

function statementName (text: string): string | undefined {
  let name = names.get(text)
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
    name = `k${createHash('sha1').update(text).digest('base64url')}`
    names.set(text, name)
  }
  return name
}

type QueryCallback = (error: Error | null, result: pg.QueryResult) => void

/**
 * Sends the queries `shouldName` picks as named (prepared) statements; everything else as before.
 *
 * Kysely's queries go to `pg` with a callback, answered by a promise of our own. Given no
 * callback, `pg` (8.23) makes the promise itself, and then the rows of every result survived
 * V8's young-generation collections and were promoted to the old generation, where they stayed
 * until the next full collection: 57-62 % of all bytes allocated by a loop of `pool.connect()`,
 * `await client.query(text, [])` and `release()` were promoted, 0.1 % when the same query was
 * given a callback (as `pool.query` does inside) (Node 24, `node --trace-gc-nvp`, the scavenges'
 * `promoted` bytes; test/db/query-results-young.test.ts, which counts what is promoted, shows
 * the same on Node 20). Why `pg`'s own promise keeps them we did not pin down. In the API it was
 * some 25 KB per uncached page: the old generation grew to several times the live heap between
 * full collections, and the collector's work with it (bench/cpu-split.sh, before and after: an
 * uncached /v1/posts page 0.51-0.55 → 0.37-0.44 ms of API CPU and peak RSS 313-321 → 195 MB;
 * the long tail 6,387-6,480 → 7,965-8,592 req/s and 418-421 → 270-304 MB).
 */
export function nameReadStatements (client: pg.PoolClient, { named = true }: { named?: boolean } = {}): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (isKyselyQuery(config, values, callback)) {
      const text = config
      // Unnamed through a transaction pool: a statement prepared on one server connection is
      // unknown on the next (or, named the same, already there).
      const name = named && shouldName({ text, values: values as unknown[] }) ? statementName(text) : undefined
      return new Promise<pg.QueryResult>((resolve, reject) => {
        const answer: QueryCallback = (error, result) => { if (error === null || error === undefined) resolve(result); else reject(error) }
        query(name === undefined ? { text, values } : { name, text, values }, answer)
      })
    }
    return callback === undefined ? query(config, values) : query(config, values, callback)
  }
}
