import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase } from '../helpers/test-database.ts'

// The embedded database's module is 27 MB of a process's memory and 0.3 s of its start: a
// process on PostgreSQL must never load it. Proven in a fresh process, whose module loader
// reports every module it resolves (a resolve hook), so an import added anywhere, at any depth,
// fails this test.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const REPORT_RESOLVED = 'data:text/javascript,' + encodeURIComponent(`
  let port
  export function initialize (data) { port = data.port }
  export async function resolve (specifier, context, next) {
    const resolved = await next(specifier, context)
    port.postMessage(resolved.url)
    return resolved
  }`)

function modulesLoadedBy (body: string, env: Record<string, string> = {}): string[] {
  const script = `
    import { register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const seen = []
    port1.on('message', (url) => seen.push(url))
    register(${JSON.stringify(REPORT_RESOLVED)}, { data: { port: port2 }, transferList: [port2] })
    ${body}
    await new Promise((resolve) => setTimeout(resolve, 200))
    port1.close()
    process.stdout.write(JSON.stringify(seen))`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000
  })
  if (child.status !== 0) throw new Error(`the child process failed: ${child.stderr}`)
  return JSON.parse(child.stdout) as string[]
}

const isEmbedded = (url: string) => /@electric-sql\/pglite|\/src\/db\/pglite\.ts$/.test(url)

t.test('the whole application loads without the embedded database', async (t) => {
  const loaded = modulesLoadedBy(`await import('./src/app.ts'); await import('./src/bootstrap.ts')`)
  t.ok(loaded.some((url) => url.endsWith('/src/app.ts')), 'the probe sees the application\'s modules')
  t.same(loaded.filter(isEmbedded), [], 'no embedded-database module among them')
})

t.test('opening the embedded database loads it', async (t) => {
  const loaded = modulesLoadedBy(`
    const { openDatabase } = await import('./src/db/database.ts')
    const { mkdtemp, rm } = await import('node:fs/promises')
    const dir = await mkdtemp(process.env.TMPDIR_BASE + '/pglite-lazy-')
    const database = await openDatabase({ kind: 'embedded', dataDir: dir })
    await database.close()
    await rm(dir, { recursive: true, force: true })`, { TMPDIR_BASE: (await import('node:os')).tmpdir() })
  t.ok(loaded.some(isEmbedded), 'the probe sees it when it is used')
})

t.test('a process on PostgreSQL opens its database without loading the embedded one', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  if (testDb.url === undefined) {
    t.pass('this run is on the embedded database; the PostgreSQL run checks this')
    return
  }
  const loaded = modulesLoadedBy(`
    const { openDatabase } = await import('./src/db/database.ts')
    const database = await openDatabase({ kind: 'postgres', url: process.env.PROBE_URL, poolSize: 2, replicaUrls: [], maxReplicaLagSeconds: 5 })
    await database.close()`, { PROBE_URL: testDb.url })
  t.ok(loaded.some((url) => url.endsWith('/src/db/postgres.ts')), 'the probe sees the PostgreSQL driver load')
  t.same(loaded.filter(isEmbedded), [], 'and nothing of the embedded database')
})
