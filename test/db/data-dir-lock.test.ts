import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { lockDataDirectory } from '../../src/db/data-dir-lock.ts'
import { openPGlite } from '../../src/db/pglite.ts'

// The embedded database in one process at a time: a second process that opened it beside a
// running server (the README's `keys create` while `npm start` runs) wrote PostgreSQL's log and
// control file under it, and aborted in five runs of five beside one taking writes.

async function dataDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'content-api-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('the command line refuses a database a server has open, naming the process; closing gives it back', async (t) => {
  const dir = await dataDir(t)
  const database = await openPGlite(dir)
  const lockFile = path.join(dir, 'pglite.pid')
  t.equal((await readFile(lockFile, 'utf8')).trim(), String(process.pid), 'the lock names this process')
  const cli = (args: string[]) => promisify(execFile)(process.execPath, ['--import=tsx', 'src/cli.ts', ...args], { env: { PATH: process.env.PATH, DATA_DIR: dir }, timeout: 60_000 })
  const refused = await cli(['keys', 'list']).then(() => undefined, (error: { code: number, stderr: string }) => error)
  t.equal(refused?.code, 1, 'exit code 1')
  t.match(refused?.stderr, `is open in process ${process.pid}`)
  t.match(refused?.stderr, /stop the server \(or the command\) using it first/)
  t.match(refused?.stderr, lockFile, 'and says which file to delete if no such process runs')
  await t.rejects(openPGlite(dir), { name: 'DataDirectoryInUse', message: /open in this process already/ }, 'a second open in the same process is refused too')

  await database.close()
  t.notOk(existsSync(lockFile), 'closing gives the lock back')
  const reopened = await openPGlite(dir)
  t.equal((await readFile(lockFile, 'utf8')).trim(), String(process.pid), 'and the next open takes it')
  await reopened.close()
})

t.test('a lock whose process is gone is taken over; one whose process lives is not', async (t) => {
  const dir = await dataDir(t)
  const lockFile = path.join(dir, 'pglite.pid')
  // A process that has ended: its id in the file, as a kill -9 leaves it.
  const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
  await writeFile(lockFile, `${ended}\n`)
  const release = lockDataDirectory(dir)
  t.equal((await readFile(lockFile, 'utf8')).trim(), String(process.pid), 'taken over from a process that is gone')
  release()
  t.notOk(existsSync(lockFile))

  // This process's own id: left by an earlier process with the same id (a container's first
  // process after a restart). This process holds no lock, so it is stale.
  await writeFile(lockFile, `${process.pid}\n`)
  lockDataDirectory(dir)()
  t.pass('its own id, not held, is taken over')

  // A living process (the parent of this one, which outlives it).
  await writeFile(lockFile, `${process.ppid}\n`)
  t.throws(() => lockDataDirectory(dir), new RegExp(`is open in process ${process.ppid}`))
  t.equal((await readFile(lockFile, 'utf8')).trim(), String(process.ppid), 'and its lock is left as it was')

  // Made a moment ago and still empty: its process is between creating and writing it.
  await writeFile(lockFile, '')
  t.throws(() => lockDataDirectory(dir), /is open in another process, starting/)
  await rm(lockFile)
})
