import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { asyncContextAdvice } from '../src/db/client-presence.ts'
import { createTestDatabase, type TestDatabase } from './helpers/test-database.ts'
import { freePort } from './helpers/ports.ts'

// The real process entry: start, serve, and on SIGTERM close and exit 0.

t.test('the server starts, serves, and shuts down cleanly on SIGTERM', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const dataDir = await mkdtemp(path.join(tmpdir(), 'content-api-server-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  // Its output is a pipe here, as under a log collector: JSON lines (LOG_FORMAT=auto).
  const output = await startServeStop(t, testDb, dataDir, {})
  t.match(output, /^\{"level":30,.*"msg":"content API ready: /m, 'JSON lines when the output is not a terminal')
  // What a person at a terminal sees (LOG_FORMAT=pretty is what auto picks on a TTY).
  const pretty = await startServeStop(t, testDb, dataDir, { LOG_FORMAT: 'pretty' })
  t.match(pretty, /^\[\d{2}:\d{2}:\d{2}\] INFO: content API ready: http:\/\/localhost:\d+\/v1\/blogs, docs at http:\/\/localhost:\d+\/docs/m, 'readable lines')
  t.notMatch(pretty, /"level":/, 'no JSON')
})

async function startServeStop (t: Test, testDb: TestDatabase, dataDir: string, extraEnv: Record<string, string>): Promise<string> {
  const port = await freePort()
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'info', DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: '5000',
    ...(testDb.url === undefined ? {} : { DATABASE_URL: testDb.url }),
    ...extraEnv
  }
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { child.kill('SIGKILL') })

  let ready = false
  // Generous: a first embedded start runs initdb, slow on a busy machine.
  for (let i = 0; i < 360 && !ready && child.exitCode === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((res) => res.ok, () => false)
  }
  t.ok(ready, `became ready${ready ? '' : ` (exit code ${child.exitCode}): ${output.slice(-2000)}`}`)
  const blogs = await fetch(`http://127.0.0.1:${port}/v1/blogs`)
  t.equal(blogs.status, 200)
  if (testDb.url === undefined && extraEnv.LOG_FORMAT === undefined) {
    t.match(output, /using the embedded database \(PGlite\); set DATABASE_URL/, 'says which database and how to switch')
    t.match((await blogs.json() as { data: Array<{ title: string }> }).data.map((b) => b.title), ['Across The Steppe', 'Under The Black Flag'],
      'a new embedded database gets the demo content')
  } else if (testDb.url !== undefined) {
    t.match(output, /using PostgreSQL/)
    t.same((await blogs.json() as { data: unknown[] }).data, [], 'no demo content on PostgreSQL unless asked')
  }
  t.match(output, /content API ready: .*\/docs/)
  // This Node's word on AsyncLocalStorage, where it has one (Node 24 has none to give).
  if (asyncContextAdvice() === undefined) t.notMatch(output, /promise hooks/, 'no word on promise hooks')
  else t.match(output, /keeps AsyncLocalStorage with promise hooks/, 'a word on promise hooks')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exit code 0')
  t.match(output, /shutting down/)
  t.notMatch(output, /"level":50|"level":60|ERROR|FATAL/, 'no errors logged')
  return output
}
