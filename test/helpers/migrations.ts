import type { Kysely } from 'kysely'
import { migrateDown } from '../../src/db/migrator.ts'

/**
 * Undoes migrations, newest first, until `name` is undone; returns the names undone, newest
 * first. A test of one migration reaches it this way whatever migrations came after it (a test
 * that undid one step and expected its own broke at the next migration).
 */
export async function migrateDownThrough (db: Kysely<any>, name: string): Promise<string[]> {
  const undone: string[] = []
  while (!undone.includes(name)) {
    const step = await migrateDown(db, 1)
    if (step.length === 0) throw new Error(`migration ${name} was not applied`)
    undone.push(...step)
  }
  return undone
}
