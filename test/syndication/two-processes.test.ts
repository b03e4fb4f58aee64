import { spawn } from 'node:child_process'
import t, { type Test } from 'tap'
import { createTestDatabase, testServerUrl } from '../helpers/test-database.ts'
import { freePort } from '../helpers/ports.ts'

// Two real API processes on one PostgreSQL database, each with its own response cache: a post
// published through A shows in B's already-cached feed within a second (B hears the change
// through LISTEN/NOTIFY and drops the stale entries).

const ADMIN_KEY = 'twoprocs01_' + 'k'.repeat(40)

async function startServer (t: Test, databaseUrl: string): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, ADMIN_API_KEY: ADMIN_KEY, SEED_DEMO: 'false' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => { errors += chunk.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const base = `http://127.0.0.1:${port}`
  // Generous, for a busy machine; a process that exits is reported at once, with what it said.
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${errors.slice(-2000)}`)
    if (await fetch(`${base}/readyz`).then((res) => res.ok, () => false)) return base
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`server did not become ready in 100 s: ${errors.slice(-2000)}`)
}

t.test('a publish through process A is in process B\'s cached feed within a second', { skip: testServerUrl() === undefined ? 'two processes need a PostgreSQL server (the embedded database belongs to one process)' : false }, async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const [a, b] = await Promise.all([startServer(t, testDb.url as string), startServer(t, testDb.url as string)])
  const write = (path: string, body: unknown) => fetch(a + path, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  t.equal((await write('/v1/blogs', { slug: 'desk', title: 'The Desk' })).status, 201)

  const feedTitles = async (): Promise<string[]> => {
    const res = await fetch(`${b}/v1/feeds/latest`)
    return ((await res.json()) as { data: Array<{ title: string }> }).data.map((item) => item.title)
  }
  // B caches the feed at its second read (RESPONSE_CACHE_MIN_USES defaults to 2): the third is a
  // hit, as its metrics say. After the purge below, the feed is stored at its first read again.
  t.same(await feedTitles(), [])
  t.same(await feedTitles(), [])
  t.same(await feedTitles(), [])
  const metrics = await (await fetch(`${b}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text()
  t.match(metrics, /response_cache_lookups_total\{result="hit"\} [1-9]/, 'B served the feed from its cache')

  const published = await write('/v1/posts', { blog: 'desk', title: 'Breaking through', status: 'published' })
  t.equal(published.status, 201)
  const started = Date.now()
  let seen = false
  while (!seen && Date.now() - started < 5_000) {
    seen = (await feedTitles()).includes('Breaking through')
    if (!seen) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const took = Date.now() - started
  t.ok(seen, 'B shows the new post')
  t.ok(took < 1_000, `within a second of A acknowledging it (${took} ms)`)
})
