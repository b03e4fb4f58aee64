import t from 'tap'
import { modulesLoadedBy, probeDatabaseUrl } from '../helpers/module-probe.ts'

// The embedded database's module is 27 MB of a process's memory and 0.3 s of its start: a
// process on PostgreSQL must never load it. Proven in a fresh process that reports every module
// it resolves (module-probe.ts), so an import added anywhere, at any depth, fails this test.

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
  const url = await probeDatabaseUrl(t)
  if (url === undefined) return
  const loaded = modulesLoadedBy(`
    const { openDatabase } = await import('./src/db/database.ts')
    const database = await openDatabase({ kind: 'postgres', url: process.env.PROBE_URL, poolSize: 2, replicaUrls: [], maxReplicaLagSeconds: 5, statementTimeoutMs: 30_000 })
    await database.close()`, { PROBE_URL: url })
  t.ok(loaded.some((url) => url.endsWith('/src/db/postgres.ts')), 'the probe sees the PostgreSQL driver load')
  t.same(loaded.filter(isEmbedded), [], 'and nothing of the embedded database')
})
