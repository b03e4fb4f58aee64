import type { Config } from './config.ts'
import { openDatabase, type Database } from './db/database.ts'
import { migrateToLatest } from './db/migrator.ts'
import { seedDemo } from './demo/seed-demo.ts'
import { ensureBootstrapKey } from './access/api-keys/api-keys.service.ts'

interface Log { info (obj: object, msg: string): void, warn (obj: object, msg: string): void }

/**
 * What every entry point does before serving: open the configured database, bring its schema
 * up to date and, on a brand-new embedded database (or when asked), load the demo content.
 */
export async function prepareDatabase (config: Config, log: Log): Promise<Database> {
  const database = await openDatabase(config.database, (level, message, details) => log[level](details, message))
  try {
    if (config.database.kind === 'embedded') {
      log.info({ database: 'embedded', dataDir: config.database.dataDir, created: database.created },
        'using the embedded database (PGlite); set DATABASE_URL=postgres://... to use PostgreSQL')
    } else {
      log.info({ database: 'postgres', host: new URL(config.database.url).host, replicas: database.replication?.statuses().map((r) => r.name) ?? [] }, 'using PostgreSQL')
    }
    const applied = await migrateToLatest(database.db)
    log.info({ applied }, applied.length > 0 ? `applied ${applied.length} migration(s)` : 'schema is up to date')

    const seed = config.seedDemo === 'always' ||
      (config.seedDemo === 'auto' && database.kind === 'embedded' && database.created)
    if (seed) {
      const inserted = await seedDemo(database.db)
      log.info({ inserted }, 'demo content loaded')
    }
    if (config.adminApiKey !== undefined) {
      const state = await ensureBootstrapKey(database.db, config.adminApiKey)
      if (state === 'revoked') log.warn({ variable: 'ADMIN_API_KEY' }, 'the key in ADMIN_API_KEY was revoked and stays revoked; remove the variable or set a new key')
      else log.info({ state }, 'bootstrap admin key from ADMIN_API_KEY is active')
    }
    return database
  } catch (error) {
    await database.close()
    throw error
  }
}
