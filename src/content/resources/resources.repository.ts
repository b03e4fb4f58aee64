import { sql, type SelectQueryBuilder, type Transaction } from 'kysely'
import type { Executor } from '../../db/database.ts'
import { unlessUniqueViolation } from '../../db/savepoints.ts'
import type { DB } from '../../db/schema.ts'
import type { VersionCondition } from '../../http/preconditions.ts'
import type { IdOrSlug } from '../addressing/identifiers.ts'

// Writes shared by blogs, authors and tags: the three have a global slug, a version and
// timestamps, and differ only in their content columns.

export type ResourceTable = 'blogs' | 'authors' | 'tags'

/** Which of these slugs another row of the table has (the row `exceptId` aside). */
export async function takenSlugs (db: Executor, table: ResourceTable, slugs: readonly string[], exceptId?: string): Promise<Set<string>> {
  let query = db.selectFrom(table as 'blogs').select('slug').where('slug', 'in', slugs)
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
  return new Set((await query.execute()).map((row) => row.slug))
}

/** The slugs of these rows that exist, by id. */
export async function slugsById (db: Executor, table: ResourceTable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom(table as 'blogs').select(['id', 'slug']).where('id', 'in', [...ids]).execute()
  return new Map(rows.map((row) => [row.id, row.slug]))
}

export async function insertResource (db: Executor, table: ResourceTable, values: Record<string, unknown>): Promise<void> {
  await db.insertInto(table as 'blogs').values(values as never).execute()
}

/** insertResource, then true; undefined when another row took the slug meanwhile (a concurrent write). */
export async function insertResourceUnlessSlugTaken (tx: Transaction<DB>, table: ResourceTable, values: Record<string, unknown>): Promise<true | undefined> {
  return await unlessUniqueViolation(tx, `${table}_slug_key`, async () => { await insertResource(tx, table, values); return true as const })
}

export interface VersionedRow { id: string, slug: string, version: number }

/**
 * Applies `values` and bumps the version, only while the version is one `condition` allows.
 * Undefined means: no such row, or it moved on (the caller tells which).
 */
export async function updateResource (
  db: Executor, table: ResourceTable, id: string, values: Record<string, unknown>, condition: VersionCondition
): Promise<VersionedRow | undefined> {
  if (condition?.length === 0) return undefined
  let query = db.updateTable(table as 'blogs')
    .set({ ...values, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` } as never)
    .where('id', '=', id)
  if (condition !== undefined) query = query.where('version', 'in', [...condition])
  return query.returning(['id', 'slug', 'version']).executeTakeFirst()
}

export async function currentVersion (db: Executor, table: ResourceTable, id: string): Promise<number | undefined> {
  const row = await db.selectFrom(table as 'blogs').select('version').where('id', '=', id).executeTakeFirst()
  return row?.version
}

export async function deleteResource (db: Executor, table: ResourceTable, id: string, condition: VersionCondition): Promise<boolean> {
  if (condition?.length === 0) return false
  let query = db.deleteFrom(table as 'blogs').where('id', '=', id)
  if (condition !== undefined) query = query.where('version', 'in', [...condition])
  const result = await query.executeTakeFirst()
  return result.numDeletedRows > 0n
}

// The reads the three share: a page in slug order, one by id or slug, several by id. Each
// resource gives its own SELECT (columns, aliases, subqueries) and the alias of its table.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the builder's table types differ per resource; only `<alias>.id` and `<alias>.slug` are used here
type AnySelect = SelectQueryBuilder<any, any, any>

export interface ResourceReads<Row> {
  /** `refine` narrows the select (filters) or adds to it, before the keyset page is cut. */
  list (db: Executor, page: { limit: number, afterSlug?: string | undefined }, refine?: (query: AnySelect) => AnySelect): Promise<Row[]>
  find (db: Executor, key: IdOrSlug): Promise<Row | undefined>
  findByIds (db: Executor, ids: readonly string[]): Promise<Row[]>
}

export function resourceReads<Row> (select: (db: Executor) => AnySelect, alias: string): ResourceReads<Row> {
  const id = `${alias}.id`
  const slug = `${alias}.slug`
  return {
    async list (db, page, refine = (query) => query) {
      // A literal limit (a validated integer): with LIMIT $n PostgreSQL plans every page afresh,
      // as for posts (postsQuery).
      let query = refine(select(db)).orderBy(slug).limit(sql.lit(page.limit))
      if (page.afterSlug !== undefined) query = query.where(slug, '>', page.afterSlug)
      return query.execute() as Promise<Row[]>
    },
    async find (db, key) {
      const query = select(db)
      return ('id' in key ? query.where(id, '=', key.id) : query.where(slug, '=', key.slug)).executeTakeFirst() as Promise<Row | undefined>
    },
    async findByIds (db, ids) {
      if (ids.length === 0) return []
      return select(db).where(id, 'in', [...ids]).orderBy(slug).execute() as Promise<Row[]>
    }
  }
}
