import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Database } from '../../src/db/database.ts'
import { pgliteParsers, wrapPGlite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'

// Every test file gets a database of its own, already migrated, so files run in parallel and
// never see each other's rows. PostgreSQL: CREATE DATABASE ... TEMPLATE <migrated template>.
// Embedded: a PGlite restored from a dump of a migrated data directory. Both templates are made
// once per run by test/setup/prepare-template.ts.

export const PGLITE_TEMPLATE_FILE = fileURLToPath(new URL('../../.cache/pglite-template.tar', import.meta.url))

/** The server the suite runs against, or undefined for the embedded database. */
export function testServerUrl (): string | undefined {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
  return url === undefined || url === '' ? undefined : url
}

export function templateDatabaseName (serverUrl: string): string {
  return `${databaseName(serverUrl)}_template`
}

export function databaseName (url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres'
}

export function withDatabaseName (url: string, name: string): string {
  const next = new URL(url)
  next.pathname = `/${encodeURIComponent(name)}`
  return next.toString()
}

/** Runs `work` on one admin connection to the server's own database. */
export async function withAdminClient<T> (serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

export interface TestDatabase {
  readonly database: Database
  /** Connection URL of this file's own database (PostgreSQL only). */
  readonly url: string | undefined
  /** Makes the database go away under the app: dropped (PostgreSQL) or closed (embedded). */
  simulateOutage (): Promise<void>
  destroy (): Promise<void>
}

/** A database of this file's own, a copy of the migrated template (or, on PostgreSQL, of `template`). */
export async function createTestDatabase (options: { template?: string } = {}): Promise<TestDatabase> {
  const serverUrl = testServerUrl()
  if (serverUrl === undefined) {
    if (options.template !== undefined) throw new Error('the embedded database has one template, the migrated one')
    return createEmbedded()
  }
  return createPostgres(serverUrl, options.template ?? templateDatabaseName(serverUrl))
}

async function createEmbedded (): Promise<TestDatabase> {
  const dump = await readFile(PGLITE_TEMPLATE_FILE)
  const pglite = await PGlite.create({ loadDataDir: new Blob([dump]), parsers: pgliteParsers })
  const database = wrapPGlite(pglite)
  return {
    database,
    url: undefined,
    simulateOutage: () => pglite.close(),
    destroy: () => database.close()
  }
}

async function createPostgres (serverUrl: string, template: string): Promise<TestDatabase> {
  const name = `${databaseName(serverUrl)}_t${process.pid}_${randomBytes(4).toString('hex')}`
  await withAdminClient(serverUrl, (client) =>
    client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`))
  const url = withDatabaseName(serverUrl, name)
  // With the statement timeout a server starts with (DATABASE_STATEMENT_TIMEOUT_MS), so the suite
  // runs the transactions that lift it as production does.
  const database = openPostgres({ url, poolSize: 5, statementTimeoutMs: 30_000 })
  const drop = async () => {
    await withAdminClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`))
  }
  let destroyed = false
  return {
    database,
    url,
    simulateOutage: drop,
    async destroy () {
      if (destroyed) return
      destroyed = true
      await database.close()
      await drop()
    }
  }
}
