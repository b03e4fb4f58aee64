import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Kysely } from 'kysely'
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely/migration'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

// Kysely<any>: migrations are frozen in time and must not depend on today's table types.
export function createMigrator (db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER })
  })
}

export class MigrationError extends Error {
  constructor (message: string, options: { cause?: unknown }) {
    super(message, options)
    this.name = 'MigrationError'
  }
}

/**
 * Brings the schema up to date. On PostgreSQL, Kysely's migrator runs everything in one
 * transaction holding an advisory lock, so processes that start together take turns instead
 * of racing. Any failure throws: a migration that failed must never look like success.
 */
export async function migrateToLatest (db: Kysely<any>): Promise<string[]> {
  return applied(await createMigrator(db).migrateToLatest())
}

export async function migrateDown (db: Kysely<any>, steps = 1): Promise<string[]> {
  const migrator = createMigrator(db)
  const names: string[] = []
  for (let i = 0; i < steps; i++) {
    const step = applied(await migrator.migrateDown())
    if (step.length === 0) break
    names.push(...step)
  }
  return names
}

export async function migrateAllDown (db: Kysely<any>): Promise<string[]> {
  return migrateDown(db, Number.MAX_SAFE_INTEGER)
}

function applied ({ error, results }: MigrationResultSet): string[] {
  const failed = results?.find((result) => result.status === 'Error')
  if (error !== undefined) {
    const which = failed === undefined ? '' : ` in ${failed.migrationName}`
    throw new MigrationError(`migration failed${which}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName)
}
