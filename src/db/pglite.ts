import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect } from 'kysely'
import { makeDatabase, type Database } from './database.ts'
import type { DB } from './schema.ts'

const PG_INT8 = 20

// pg returns int8 (bigint) as a string so no precision is lost; PGlite would make a BigInt.
// Keep both drivers returning the same shapes.
export const pgliteParsers = { [PG_INT8]: (value: string) => value }

/** PGlite (PostgreSQL compiled to WebAssembly) persisted under `dataDir`; one connection, in this process. */
export async function openPGlite (dataDir: string): Promise<Database> {
  const directory = path.resolve(dataDir, 'pglite')
  const created = !existsSync(path.join(directory, 'PG_VERSION'))
  await mkdir(directory, { recursive: true })
  // Loaded only when used: PGlite's module alone adds some 40 MB to a process on PostgreSQL.
  const { PGlite } = await import('@electric-sql/pglite')
  return wrapPGlite(await PGlite.create(directory, { parsers: pgliteParsers }), created)
}

/** Wraps an open PGlite instance (tests restore one from a migrated template). */
export function wrapPGlite (pglite: PGlite, created = false): Database {
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) })
  // Kysely closes PGlite only if it ever ran a query on it; close it here in any case, or an
  // unused instance would keep the process alive.
  return makeDatabase(db, 'embedded', created, async () => { if (!pglite.closed) await pglite.close() },
    async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, () => onNotify())
      return async () => { if (!pglite.closed) await unlisten() }
    })
}
