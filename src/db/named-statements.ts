import { createHash } from 'node:crypto'
import type pg from 'pg'

// Planning a post list (partial indexes to choose from, correlated subqueries for authors and
// tags) took longer than running it: ~2.5 ms against ~1 ms. A named statement is parsed once
// per connection, and PostgreSQL then settles on a cached plan. This decides which queries get
// a name, and wraps a pool client so they do.

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

/** Sends the queries `shouldName` picks as named (prepared) statements; everything else as before. */
export function nameReadStatements (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (isKyselyQuery(config, values, callback)) {
      const text = config
      const name = shouldName({ text, values: values as unknown[] }) ? statementName(text) : undefined
      if (name !== undefined) return query({ name, text, values })
    }
    return callback === undefined ? query(config, values) : query(config, values, callback)
  }
}
