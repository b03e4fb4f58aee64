import type { Compilable, CompiledQuery } from 'kysely'
import type { Executor } from './database.ts'

// Building a Kysely query is not free: a single post with its blog, authors and tags is a tree
// of some hundred immutable nodes, built and compiled to SQL on every request. For a query whose
// shape never changes only the values do, so it is compiled once with a placeholder object in
// place of each value, and each call binds the real values into the compiled statement.

/** Stands where a value will go; Kysely carries it into the compiled query's parameters untouched. */
class QueryParameter {
  constructor (readonly name: string) {}
}

/** A placeholder for the parameter `name` while the query is built; typed as the value it replaces. */
export function param<T = string> (name: string): T {
  return new QueryParameter(name) as unknown as T
}

export function preparedQuery<Params extends Record<string, unknown>, Row> (
  build: (db: Executor) => Compilable<Row>
): (db: Executor, params: Params) => Promise<Row[]> {
  let compiled: { query: CompiledQuery<Row>, slots: Array<string | undefined> } | undefined
  return async (db, params) => {
    if (compiled === undefined) {
      const query = build(db).compile()
      const slots = query.parameters.map((value) => value instanceof QueryParameter ? value.name : undefined)
      for (const name of Object.keys(params)) {
        if (!slots.includes(name)) throw new Error(`prepared query: parameter "${name}" is not used`)
      }
      compiled = { query, slots }
    }
    const { query, slots } = compiled
    const parameters = query.parameters.map((value, index) => {
      const name = slots[index]
      if (name === undefined) return value
      if (!(name in params)) throw new Error(`prepared query: parameter "${name}" is missing`)
      return params[name]
    })
    return (await db.executeQuery<Row>({ ...query, parameters })).rows
  }
}
