import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { createTestDatabase } from './test-database.ts'

// What a fresh process does while it runs a piece of code: which modules it resolves (its module
// loader reports each one, a resolve hook, so an import added anywhere, at any depth, is seen),
// or whatever else the piece of code reports on its standard output.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const REPORT_RESOLVED = 'data:text/javascript,' + encodeURIComponent(`
  let port
  export function initialize (data) { port = data.port }
  export async function resolve (specifier, context, next) {
    const resolved = await next(specifier, context)
    port.postMessage(resolved.url)
    return resolved
  }`)

/** Runs `script` (an ES module's text) in a fresh process from the project's root, through tsx; its standard output. */
export function runInFreshProcess (script: string, env: Record<string, string> = {}): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000
  })
  if (child.status !== 0) throw new Error(`the child process failed: ${child.stderr}`)
  return child.stdout
}

/** The URLs of the modules resolved while `body` (an ES module's text, run from the project's root) ran. */
export function modulesLoadedBy (body: string, env: Record<string, string> = {}): string[] {
  return JSON.parse(runInFreshProcess(`
    import { register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const seen = []
    port1.on('message', (url) => seen.push(url))
    register(${JSON.stringify(REPORT_RESOLVED)}, { data: { port: port2 }, transferList: [port2] })
    ${body}
    await new Promise((resolve) => setTimeout(resolve, 200))
    port1.close()
    process.stdout.write(JSON.stringify(seen))`, env)) as string[]
}

/**
 * A fresh database on the test run's PostgreSQL for a probe to use (its URL), dropped when `t`
 * ends; undefined on a run on the embedded database, which one process holds (the test passes
 * there: the PostgreSQL run checks it).
 */
export async function probeDatabaseUrl (t: Test): Promise<string | undefined> {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  if (testDb.url === undefined) t.pass('this run is on the embedded database; the PostgreSQL run checks this')
  return testDb.url
}

/**
 * A probe's lines that start the application on the database at PROBE_URL (probeDatabaseUrl),
 * silent and without background jobs, as `app` and `database`; close both at the end.
 */
export const START_APP_AT_PROBE_URL = `
  const { default: pino } = await import('pino')
  const { buildApp } = await import('./src/app.ts')
  const { loadConfig } = await import('./src/config.ts')
  const { openDatabase } = await import('./src/db/database.ts')
  const config = loadConfig({ DATABASE_URL: process.env.PROBE_URL, LOG_LEVEL: 'silent' })
  const database = await openDatabase({ kind: 'postgres', url: process.env.PROBE_URL, poolSize: 2, replicaUrls: [], maxReplicaLagSeconds: 5, statementTimeoutMs: 30_000 })
  const app = await buildApp({ config, database, logger: pino({ level: 'silent' }), backgroundJobs: false })`
