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
  let compiled: Prepared<Row> | undefined
  return async (db, params) => {
    compiled ??= prepare(build(db), params, true)
    return run(db, compiled, params)
  }
}

/** Past this many shapes, queries of new shapes are built and compiled each time, as before. */
const MAX_SHAPES = 500

/**
 * A query whose shape varies (which filters are present, how many ids a list has): each shape is
 * built and compiled once. `parameterized` gives the shape with a param() in place of each value,
 * the values by name, and a key that tells shapes apart: any value left in the shape is part of
 * the key, so a value not made a parameter costs a compilation, never a wrong answer.
 */
export function preparedQueryByShape<Request, Row> (
  parameterized: (request: Request) => { key: string, shape: Request, params: Record<string, unknown> },
  build: (db: Executor, shape: Request) => Compilable<Row>
): (db: Executor, request: Request) => Promise<Row[]> {
  const shapes = new Map<string, Prepared<Row>>()
  return async (db, request) => {
    const { key, shape, params } = parameterized(request)
    let compiled = shapes.get(key)
    if (compiled === undefined) {
      // A shape need not use every value (a sparse page without URLs leaves the base URL out).
      compiled = prepare(build(db, shape), params, false)
      if (shapes.size < MAX_SHAPES) shapes.set(key, compiled)
    }
    return run(db, compiled, params)
  }
}

interface Prepared<Row> { query: CompiledQuery<Row>, slots: Array<string | undefined> }

/** JSON.stringify of a shape: each parameter as its name. */
export function shapeKey (shape: unknown): string {
  return JSON.stringify(shape, (_key, value: unknown) => value instanceof QueryParameter ? `$${value.name}` : value)
}

function prepare<Row> (built: Compilable<Row>, params: Record<string, unknown>, everyParamUsed: boolean): Prepared<Row> {
  const query = built.compile()
  const slots = query.parameters.map((value) => value instanceof QueryParameter ? value.name : undefined)
  for (const name of everyParamUsed ? Object.keys(params) : []) {
    if (!slots.includes(name)) throw new Error(`prepared query: parameter "${name}" is not used`)
  }
  return { query, slots }
}

async function run<Row> (db: Executor, { query, slots }: Prepared<Row>, params: Record<string, unknown>): Promise<Row[]> {
  const parameters = query.parameters.map((value, index) => {
    const name = slots[index]
    if (name === undefined) return value
    if (!(name in params)) throw new Error(`prepared query: parameter "${name}" is missing`)
    return params[name]
  })
  return (await db.executeQuery<Row>({ ...query, parameters })).rows
}
