import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect } from 'kysely'
import { sparingGoneClients } from './client-presence.ts'
import { lockDataDirectory } from './data-dir-lock.ts'
import { makeDatabase, type Database } from './database.ts'
import type { DB } from './schema.ts'

const PG_INT8 = 20

// pg returns int8 (bigint) as a string so no precision is lost; PGlite would make a BigInt.
// Keep both drivers returning the same shapes.
export const pgliteParsers = { [PG_INT8]: (value: string) => value }

/** PGlite (PostgreSQL compiled to WebAssembly) persisted under `dataDir`; one connection, in this process. */
export async function openPGlite (dataDir: string): Promise<Database> {
  const directory = path.resolve(dataDir, 'pglite')
  await mkdir(directory, { recursive: true })
  // One process at a time (data-dir-lock.ts): taken before PGlite reads a file, given back after it closes.
  const release = lockDataDirectory(dataDir)
  try {
    const created = !existsSync(path.join(directory, 'PG_VERSION'))
    // Loaded only when used: PGlite's module alone adds some 40 MB to a process on PostgreSQL.
    const { PGlite } = await import('@electric-sql/pglite')
    return wrapPGlite(await PGlite.create(directory, { parsers: pgliteParsers }), created, release)
  } catch (error) {
    release()
    throw error
  }
}

/** Wraps an open PGlite instance (tests restore one from a migrated template); `afterClose` runs once it is closed. */
export function wrapPGlite (pglite: PGlite, created = false, afterClose?: () => void): Database {
  const db = new Kysely<DB>({ dialect: sparingGoneClients(new PGliteDialect({ pglite })) })
  // Kysely closes PGlite only if it ever ran a query on it; close it here in any case, or an
  // unused instance would keep the process alive.
  const close = async () => {
    try {
      if (!pglite.closed) await pglite.close()
    } finally {
      afterClose?.()
    }
  }
  return makeDatabase(db, 'embedded', created, close,
    async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, () => onNotify())
      return async () => { if (!pglite.closed) await unlisten() }
    })
}
