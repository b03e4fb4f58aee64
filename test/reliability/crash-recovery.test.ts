import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { compiledServerArgs } from '../helpers/compiled-server.ts'
import { freePort } from '../helpers/ports.ts'
import { createTestDatabase } from '../helpers/test-database.ts'

// Never losing content includes the process dying mid-write: the OOM killer, a deploy that
// kills instead of stopping, a crash. The compiled server (npm start's flags) takes writes from
// four clients at once, is killed with SIGKILL at a moment no code chose, and is started again on
// the same data, three times. Every write it acknowledged must be there as acknowledged, and
// nothing half-written: each post the API lists is in the change log and readable, and the log
// names no post that is not there. On the embedded database (DATA_DIR) this is PGlite's own
// recovery from a data directory left open, and the data-directory lock of a process that is
// gone; on PostgreSQL, transactions cut off mid-way.

const KEY = `crashadmin_${'k'.repeat(43)}`
const WRITERS = 4
const CRASHES = 3

interface Server { child: ChildProcess, base: string, output: () => string, exited: Promise<unknown> }

async function startServer (t: Test, env: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, compiledServerArgs(), {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', ADMIN_API_KEY: KEY, RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_READ: '1000000', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  t.teardown(() => { child.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  // Generous: a first embedded start runs initdb, slow on a busy machine.
  for (let i = 0; i < 480 && child.exitCode === null; i++) {
    if (await fetch(`${base}/readyz`).then((res) => res.ok, () => false)) return { child, base, output: () => output, exited }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the server did not become ready (exit code ${child.exitCode}): ${output.slice(-2000)}`)
}

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

async function allPostIds (base: string): Promise<Set<string>> {
  const ids = new Set<string>()
  let next: string | null = `${base}/v1/posts?limit=100`
  while (next !== null) {
    const res = await fetch(next, { headers })
    if (res.status !== 200) throw new Error(`${next}: ${res.status} ${await res.text()}`)
    const page = await res.json() as { data: Array<{ id: string }>, links: { next: string | null } }
    for (const post of page.data) ids.add(post.id)
    // The link carries the public address; the next page is asked of this server all the same.
    const link = page.links.next === null ? undefined : new URL(page.links.next)
    next = link === undefined ? null : base + link.pathname + link.search
  }
  return ids
}

/** The posts a sync client that read the whole log (drafts included) believes exist. */
async function postsInChangeLog (base: string): Promise<Set<string>> {
  const ids = new Set<string>()
  let since: string | undefined
  for (;;) {
    const url = `${base}/v1/changes?visibility=all&types=post&limit=500${since === undefined ? '' : `&since=${since}`}`
    const res = await fetch(url, { headers })
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`)
    const page = await res.json() as { data: Array<{ id: string, op: string }>, meta: { next_cursor: string } }
    for (const change of page.data) {
      if (change.op === 'upsert') ids.add(change.id)
      else ids.delete(change.id)
    }
    if (page.data.length === 0) return ids
    since = page.meta.next_cursor
  }
}

t.test('killed mid-write three times, the API comes back with every acknowledged write and nothing half-written', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const dataDir = await mkdtemp(path.join(tmpdir(), 'content-api-crash-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const env: Record<string, string> = testDb.url === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: testDb.url }

  let server = await startServer(t, env)
  const blog = await fetch(`${server.base}/v1/blogs`, { method: 'POST', headers, body: JSON.stringify({ title: 'Crash Desk', slug: 'crash-desk' }) })
  t.equal(blog.status, 201, 'a blog to write into')

  /** What each post must read as: the last title acknowledged, or one sent when the process died. */
  const expected = new Map<string, { acknowledged: string, inFlight: Set<string> }>()
  let sequence = 0
  for (let crash = 1; crash <= CRASHES; crash++) {
    const base = server.base
    let stopping = false
    const writer = async (w: number) => {
      while (!stopping) {
        const title = `Crash ${crash}, writer ${w}, write ${sequence++}`
        const existing = [...expected.keys()]
        // Every third write edits an acknowledged post; the rest create, with an article body.
        const target = sequence % 3 === 0 && existing.length > 0 ? existing[sequence % existing.length] : undefined
        if (target !== undefined) expected.get(target)?.inFlight.add(title)
        const res = await (target === undefined
          ? fetch(`${base}/v1/posts`, { method: 'POST', headers, body: JSON.stringify({ blog: 'crash-desk', title, status: 'published', body_markdown: `## ${title}\n\n${'A paragraph of the report. '.repeat(200)}` }) })
          : fetch(`${base}/v1/posts/${target}`, { method: 'PATCH', headers, body: JSON.stringify({ title }) })
        ).catch(() => undefined)
        if (res === undefined) return
        if (res.status !== 200 && res.status !== 201) {
          // An answer other than success before the kill is a failure of its own.
          t.fail(`${target === undefined ? 'POST' : 'PATCH'} answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
          return
        }
        const post = (await res.json() as { data: { id: string, title: string } }).data
        const entry = expected.get(post.id) ?? { acknowledged: post.title, inFlight: new Set<string>() }
        entry.acknowledged = post.title
        entry.inFlight.delete(post.title)
        expected.set(post.id, entry)
      }
    }
    const enough = expected.size + 12
    let writing = WRITERS
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w).finally(() => { writing-- }))
    // After a dozen more posts, however fast the machine, at a moment that differs from run to run.
    while (expected.size < enough && writing > 0) await new Promise((resolve) => setTimeout(resolve, 20))
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 500))
    server.child.kill('SIGKILL')
    stopping = true
    await Promise.all(writers)
    await server.exited

    server = await startServer(t, env)
    const listed = await allPostIds(server.base)
    const logged = await postsInChangeLog(server.base)
    const lost: string[] = []
    const wrong: string[] = []
    for (const [id, { acknowledged, inFlight }] of expected) {
      const res = await fetch(`${server.base}/v1/posts/${id}`, { headers })
      if (res.status !== 200) { lost.push(`${id}: ${res.status}`); continue }
      const post = (await res.json() as { data: { title: string, body_html: string } }).data
      if (post.title !== acknowledged && !inFlight.has(post.title)) wrong.push(`${id}: "${post.title}", acknowledged "${acknowledged}"`)
      else if (!post.body_html.includes('A paragraph of the report.')) wrong.push(`${id}: its body is gone`)
    }
    t.comment(`crash ${crash}: ${expected.size} posts acknowledged so far`)
    t.same(lost, [], `crash ${crash}: no acknowledged post lost`)
    t.same(wrong, [], 'each as last acknowledged (or as the edit in flight at the kill)')
    t.same([...listed].filter((id) => !logged.has(id)), [], 'every post listed is in the change log')
    t.same([...logged].filter((id) => !listed.has(id)), [], 'the change log names no post that is not there')
    // The rest: posts whose create was committed but not answered before the kill (and on the
    // embedded database, the demo's).
    const unreadable: string[] = []
    const unanswered = [...listed].filter((id) => !expected.has(id))
    for (const id of unanswered) {
      const res = await fetch(`${server.base}/v1/posts/${id}`, { headers })
      if (res.status !== 200) unreadable.push(`${id}: ${res.status}`)
    }
    t.same(unreadable, [], `posts listed that no answer acknowledged (${unanswered.length}): each can be read`)
  }
  const exited = server.exited
  server.child.kill('SIGTERM')
  t.equal(await exited, 0, 'and the last one stops cleanly')
  t.notMatch(server.output(), /"level":(50|60)/, 'with no error logged after the restarts')
})
