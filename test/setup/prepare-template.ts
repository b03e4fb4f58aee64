import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { pgliteParsers, wrapPGlite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { migrateToLatest } from '../../src/db/migrator.ts'
import {
  databaseName, PGLITE_TEMPLATE_FILE, quoteIdent, templateDatabaseName, testServerUrl, withAdminClient, withDatabaseName
} from '../helpers/test-database.ts'
import { plansTemplateName } from '../helpers/plans-dataset.ts'

// Runs once before the test files (tap's `before`): migrates a template database that every
// test file then copies. Creating and migrating a database once instead of per file is what
// keeps the suite fast on the embedded database, whose initdb alone takes seconds.

const serverUrl = testServerUrl()
const started = performance.now()

if (serverUrl === undefined) {
  const pglite = await PGlite.create({ parsers: pgliteParsers })
  const template = wrapPGlite(pglite)
  await migrateToLatest(template.db)
  const dump = await pglite.dumpDataDir('none')
  await mkdir(path.dirname(PGLITE_TEMPLATE_FILE), { recursive: true })
  await writeFile(PGLITE_TEMPLATE_FILE, Buffer.from(await dump.arrayBuffer()))
  await template.close()
  console.log(`# test databases: embedded (PGlite), template ready in ${Math.round(performance.now() - started)} ms`)
} else {
  const template = templateDatabaseName(serverUrl)
  const prefix = `${databaseName(serverUrl)}_t`
  await withAdminClient(serverUrl, async (client) => {
    // Databases left behind by an interrupted earlier run.
    const leftovers = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname ~ $2', [prefix, '_t[0-9]+_[0-9a-f]{8}$'])
    for (const { datname } of leftovers.rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`)
    // The heavy tests' archive is copied from a template of its own, made from this one.
    for (const name of [plansTemplateName(serverUrl), `${plansTemplateName(serverUrl)}_building`, template]) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${quoteIdent(template)}`)
  })
  const database = openPostgres({ url: withDatabaseName(serverUrl, template), poolSize: 1 })
  try {
    await migrateToLatest(database.db)
  } finally {
    await database.close()
  }
  console.log(`# test databases: PostgreSQL ${new URL(serverUrl).host}, template ${template} ready in ${Math.round(performance.now() - started)} ms`)
}
