import { sql } from 'kysely'
import type { Executor } from './database.ts'

// The planner's statistics (pg_class.reltuples, pg_statistic) are what ANALYZE last saw.

/** The row count the planner believes a table has (0 before any ANALYZE). */
export async function plannedRows (db: Executor, table: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = to_regclass(${table})`.execute(db)
  return Number(rows[0]?.n ?? 0)
}

/** ANALYZE of every table: on a small database, as the embedded one is, a fraction of a second. */
export async function analyzeAll (db: Executor): Promise<void> {
  await sql`ANALYZE`.execute(db)
}
