import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import pino from 'pino'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { offlineDatabase } from '../src/db/database.ts'
import { UndeclaredAccessError } from '../src/http/route-access.ts'

// The layering the README's architecture section draws, checked on the source itself so that
// it stays true: platform code never reaches into feature modules, and the change log's table
// has one owner.

const SRC = fileURLToPath(new URL('../src', import.meta.url))

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : []
  })
}

const files = sourceFiles(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, 'utf8') }))

/** Every relative module a file imports (static, type-only and dynamic), as a path under src/. */
function importsOf (file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] as string)
  return specifiers.map((specifier) => path.join(path.dirname(file), specifier))
}

const FEATURES = ['content/', 'syndication/', 'demo/', 'access/api-keys/']
const PLATFORM = ['http/', 'changes/', 'db/']
// The table types describe every module's tables, so they name each module's vocabulary (types only).
const TABLE_TYPES = 'db/schema.ts'

t.test('platform modules (http/, changes/, db/) import no feature module', async (t) => {
  t.ok(files.length > 50, `read ${files.length} source files`)
  const offending = files.filter(({ file }) => PLATFORM.some((dir) => file.startsWith(dir)) && file !== TABLE_TYPES)
    .flatMap(({ file, text }) => importsOf(file, text)
      .filter((target) => FEATURES.some((dir) => target.startsWith(dir)))
      .map((target) => `${file} -> ${target}`))
  t.same(offending, [], 'no platform file imports from content/, syndication/, demo/ or access/api-keys/')
})

t.test('only the change-log module reads or writes the changes table', async (t) => {
  const QUERY_BUILDER = /\.(selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin|with)\(\s*'changes(\s+as\s+\w+)?'/
  const RAW_SQL = /\b(FROM|INTO|JOIN|UPDATE)\s+changes\b/i
  const touching = files.filter(({ text }) => QUERY_BUILDER.test(text) || RAW_SQL.test(text)).map(({ file }) => file)
  t.ok(touching.length > 0, 'the check finds the change log\'s own repository (it is not blind)')
  t.same(touching.filter((file) => !file.startsWith('changes/')), [], `touching the table: ${touching.join(', ')}`)
})

t.test('a route that declares no access rule stops the app from starting', async (t) => {
  const app = await buildApp({ config: loadConfig({}), database: offlineDatabase(), logger: pino({ level: 'silent' }), backgroundJobs: false })
  app.get('/v1/forgotten', async () => ({ secret: true }))
  app.post('/v1/also-forgotten', { config: {} }, async () => ({}))
  const error = await app.ready().then(() => undefined, (err: unknown) => err)
  t.ok(error instanceof UndeclaredAccessError, 'ready() fails')
  t.match((error as Error).message, /GET \/v1\/forgotten/)
  t.match((error as Error).message, /POST \/v1\/also-forgotten/)
  await app.close().catch(() => {})
})

t.test('the app as built declares access on every route, third-party ones included', async (t) => {
  const app = await buildApp({ config: loadConfig({}), database: offlineDatabase(), logger: pino({ level: 'silent' }), backgroundJobs: false })
  await t.resolves(async () => { await app.ready() })
  await app.close()
})
