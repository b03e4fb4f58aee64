import { sql } from 'kysely'
import type { Executor } from '../../db/database.ts'

// Writes shared by blogs, authors and tags: the three have a global slug, a version and
// timestamps, and differ only in their content columns.

export type ResourceTable = 'blogs' | 'authors' | 'tags'

export async function slugTaken (db: Executor, table: ResourceTable, slug: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom(table as 'blogs').select('id').where('slug', '=', slug)
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId)
  return (await query.executeTakeFirst()) !== undefined
}

export async function insertResource (db: Executor, table: ResourceTable, values: Record<string, unknown>): Promise<void> {
  await db.insertInto(table as 'blogs').values(values as never).execute()
}

export interface VersionedRow { id: string, slug: string, version: number }

/**
 * Applies `values` and bumps the version, only while the version is `expectedVersion` (when
 * given). Undefined means: no such row, or it moved on (the caller tells which).
 */
export async function updateResource (
  db: Executor, table: ResourceTable, id: string, values: Record<string, unknown>, expectedVersion: number | undefined
): Promise<VersionedRow | undefined> {
  let query = db.updateTable(table as 'blogs')
    .set({ ...values, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` } as never)
    .where('id', '=', id)
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion)
  return query.returning(['id', 'slug', 'version']).executeTakeFirst()
}

export async function currentVersion (db: Executor, table: ResourceTable, id: string): Promise<number | undefined> {
  const row = await db.selectFrom(table as 'blogs').select('version').where('id', '=', id).executeTakeFirst()
  return row?.version
}

export async function deleteResource (db: Executor, table: ResourceTable, id: string, expectedVersion: number | undefined): Promise<boolean> {
  let query = db.deleteFrom(table as 'blogs').where('id', '=', id)
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion)
  const result = await query.executeTakeFirst()
  return result.numDeletedRows > 0n
}
