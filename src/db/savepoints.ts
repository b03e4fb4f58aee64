import { sql, type Transaction } from 'kysely'
import type { DB } from './schema.ts'

/** Whether a database error is a unique violation of this constraint (pg and PGlite both name it). */
function violates (error: unknown, constraint: string): boolean {
  const { code, constraint: name } = error as { code?: unknown, constraint?: unknown }
  return code === '23505' && name === constraint
}

/**
 * Runs `statement` inside a savepoint of the transaction. A unique violation of `constraint`
 * rolls back to the savepoint, so the transaction goes on, and gives undefined; any other error
 * is thrown as it came. For a value the API chose itself (a slug made from a headline): a
 * concurrent write that took it between the check and the insert is the API's to resolve,
 * not the client's.
 */
export async function unlessUniqueViolation<T> (tx: Transaction<DB>, constraint: string, statement: () => Promise<T>): Promise<T | undefined> {
  await sql`SAVEPOINT unique_attempt`.execute(tx)
  try {
    const result = await statement()
    await sql`RELEASE SAVEPOINT unique_attempt`.execute(tx)
    return result
  } catch (error) {
    if (!violates(error, constraint)) throw error
    await sql`ROLLBACK TO SAVEPOINT unique_attempt`.execute(tx)
    return undefined
  }
}
