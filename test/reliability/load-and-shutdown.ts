import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { compiledServerArgs } from '../helpers/compiled-server.ts'
import { freePort } from '../helpers/ports.ts'

// Load with faults and a graceful shutdown, against the real server process on 127.0.0.1.
//   tsx test/reliability/load-and-shutdown.ts        (DATABASE_URL: PostgreSQL; unset: embedded)
// 1. A bounded mixed read/write load (LOAD_SECONDS, default 60) with concurrent clients: no
//    5xx, and every acknowledged write reads back exactly as acknowledged.
// 2. PostgreSQL goes away in the middle of load (PostgreSQL only: connections refused, backends
//    cut) for a few seconds: requests fail fast with 503 + Retry-After, nothing else, the process
//    stays up, and it recovers by itself when the database returns.
// 3. SIGTERM in the middle of more load: requests in flight finish, new ones are refused, the
//    process exits 0 within SHUTDOWN_TIMEOUT_MS; after a restart no acknowledged write is
//    missing and every webhook event reaches the receiver.
// Prints its figures and exits non-zero on any failure. All traffic stays on 127.0.0.1.

const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 60)
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 16)
const PORT = await freePort()
const BASE = `http://127.0.0.1:${PORT}`
const ADMIN_KEY = 'loadtest01_' + 'K'.repeat(43)
const problems: string[] = []

function startServer (env: Record<string, string>): { child: ChildProcess, exited: Promise<number | null>, output: () => string } {
  let output = ''
  const child = spawn(process.execPath, compiledServerArgs(), { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}

async function waitReady (timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await fetch(`${BASE}/readyz`).then((r) => r.ok, () => false)) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('the server did not become ready')
}

const auth = { authorization: `Bearer ${ADMIN_KEY}` }
const json = { ...auth, 'content-type': 'application/json' }

interface Ack { id: string, title: string, body: string }
interface Stats { requests: number, byStatus: Map<number, number>, refused: number, acks: Ack[] }

/** One client: reads mostly, writes sometimes; records every acknowledged write. */
async function client (stop: () => boolean, stats: Stats, n: number): Promise<void> {
  let i = 0
  while (!stop()) {
    i++
    const roll = Math.random()
    try {
      let res: Response
      if (roll < 0.15) {
        const title = `Load ${n}-${i} ${Date.now()}`
        const body = `Written by client ${n}, request ${i}.`
        res = await fetch(`${BASE}/v1/posts`, { method: 'POST', headers: json, body: JSON.stringify({ blog: 'load', title, body_markdown: body, status: 'published', authors: ['loader'] }) })
        if (res.status === 201) {
          const data = (await res.json() as { data: { id: string } }).data
          stats.acks.push({ id: data.id, title, body })
        } else await res.arrayBuffer()
      } else if (roll < 0.2 && stats.acks.length > 0) {
        const ack = stats.acks[Math.floor(Math.random() * stats.acks.length)] as Ack
        const title = `${ack.title} (edited ${i})`
        res = await fetch(`${BASE}/v1/posts/${ack.id}`, { method: 'PATCH', headers: json, body: JSON.stringify({ title }) })
        if (res.status === 200) ack.title = title
        await res.arrayBuffer()
      } else {
        const urls = ['/v1/posts?limit=20', '/v1/feeds/latest?format=rss', '/v1/blogs/load/posts?limit=5', '/v1/authors/loader/feed', '/v1/posts?q=client', '/v1/changes?limit=50']
        res = await fetch(`${BASE}${urls[Math.floor(Math.random() * urls.length)]}`)
        await res.arrayBuffer()
      }
      stats.requests++
      stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1)
    } catch {
      // Refused or reset: only expected once shutdown has begun.
      stats.refused++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
}

async function verifyAcks (acks: Ack[]): Promise<number> {
  let checked = 0
  for (const ack of acks) {
    const res = await fetch(`${BASE}/v1/posts/${ack.id}`, { headers: auth })
    const post = res.ok ? (await res.json() as { data: { title: string, body_html: string } }).data : undefined
    if (post === undefined) problems.push(`acknowledged post ${ack.id} is missing (${res.status})`)
    else if (post.title !== ack.title || !post.body_html.includes(ack.body.replace('.', ''))) problems.push(`post ${ack.id} differs from what was acknowledged`)
    checked++
  }
  return checked
}

const fiveHundreds = (stats: Stats) => [...stats.byStatus].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0)

async function main (): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'content-api-load-'))
  const deliveries = new Map<string, number>()
  const receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const id = req.headers['webhook-id'] as string
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1)
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const env = {
    PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: dataDir, SEED_DEMO: 'false',
    ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '100', SHUTDOWN_TIMEOUT_MS: '10000',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {})
  }
  try {
    let server = startServer(env)
    await waitReady()
    await fetch(`${BASE}/v1/blogs`, { method: 'POST', headers: json, body: JSON.stringify({ title: 'Load', slug: 'load' }) })
    await fetch(`${BASE}/v1/authors`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'Loader', slug: 'loader' }) })
    const hook = await fetch(`${BASE}/v1/webhooks`, { method: 'POST', headers: json, body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, event_types: ['post.published'] }) })
    if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`)

    // 1. Load.
    const load: Stats = { requests: 0, byStatus: new Map(), refused: 0, acks: [] }
    const started = Date.now()
    const end = started + LOAD_SECONDS * 1000
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(() => Date.now() > end, load, n)))
    const seconds = (Date.now() - started) / 1000
    const verified = await verifyAcks(load.acks)
    if (fiveHundreds(load) > 0) problems.push(`${fiveHundreds(load)} responses were 5xx under load`)
    if (load.refused > 0) problems.push(`${load.refused} requests failed to connect under load`)
    console.log(`load: ${load.requests} requests in ${seconds.toFixed(1)} s (${Math.round(load.requests / seconds)}/s) by ${CLIENTS} clients; ` +
      `statuses ${JSON.stringify(Object.fromEntries(load.byStatus))}; 5xx: ${fiveHundreds(load)}; writes acknowledged and verified: ${verified}`)

    // 2. The database goes away under load, then comes back.
    if (process.env.DATABASE_URL) {
      const url = new URL(process.env.DATABASE_URL)
      const name = url.pathname.slice(1)
      url.pathname = '/postgres'
      const admin = new pg.Client({ connectionString: url.toString() })
      await admin.connect()
      const outage: Stats = { requests: 0, byStatus: new Map(), refused: 0, acks: [] }
      let stopOutage = false
      let slowest = 0
      const timed = async (n: number) => {
        while (!stopOutage) {
          const started = Date.now()
          let once = false
          // One request of the usual mix, then one list read, each timed.
          await client(() => { const done = once; once = true; return done }, outage, n).catch(() => {})
          const res = await fetch(`${BASE}/v1/posts?limit=5`).catch(() => undefined)
          if (res !== undefined) {
            await res.arrayBuffer()
            outage.requests++
            outage.byStatus.set(res.status, (outage.byStatus.get(res.status) ?? 0) + 1)
            if (res.status === 503 && res.headers.get('retry-after') === null) problems.push('a 503 without Retry-After')
          }
          slowest = Math.max(slowest, Date.now() - started)
        }
      }
      const outageClients = Promise.all(Array.from({ length: CLIENTS }, (_, n) => timed(200 + n)))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`)
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
      await new Promise((resolve) => setTimeout(resolve, 3000))
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`)
      const back = Date.now()
      let recoveredMs = -1
      while (Date.now() - back < 15_000) {
        const res = await fetch(`${BASE}/readyz`).catch(() => undefined)
        if (res?.ok === true) { recoveredMs = Date.now() - back; break }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      stopOutage = true
      await outageClients
      await admin.end()
      const other5xx = [...outage.byStatus].filter(([status]) => status >= 500 && status !== 503).reduce((sum, [, n]) => sum + n, 0)
      if (other5xx > 0) {
        const errors = server.output().split('\n').filter((line) => line.includes('"level":50')).slice(0, 3).map((line) => line.slice(0, 400))
        problems.push(`${other5xx} non-503 5xx responses during the outage:\n    ${errors.join('\n    ')}`)
      }
      if (recoveredMs < 0) problems.push('the API did not recover within 15 s of the database returning')
      if (slowest > 10_000) problems.push(`a request hung for ${slowest} ms during the outage`)
      if ((outage.byStatus.get(503) ?? 0) === 0) problems.push('no 503 was seen: the outage did not happen?')
      if (server.child.exitCode !== null) problems.push('the process died during the outage')
      console.log(`outage: 3 s without the database under ${CLIENTS} clients; statuses ${JSON.stringify(Object.fromEntries(outage.byStatus))}; ` +
        `slowest request ${slowest} ms; ready again ${recoveredMs} ms after the database returned`)
      load.acks.push(...outage.acks)
    }

    // 3. SIGTERM during load.
    const drain: Stats = { requests: 0, byStatus: new Map(), refused: 0, acks: [] }
    let stopDrain = false
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(() => stopDrain, drain, 100 + n)))
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const signalled = Date.now()
    server.child.kill('SIGTERM')
    const code = await server.exited
    const drainMs = Date.now() - signalled
    await new Promise((resolve) => setTimeout(resolve, 300))
    stopDrain = true
    await clients
    if (code !== 0) problems.push(`exit code ${code} after SIGTERM:\n${server.output().slice(-2000)}`)
    if (drainMs > 10_000) problems.push(`shutdown took ${drainMs} ms`)
    const fiveHundredsDuringDrain = [...drain.byStatus].filter(([status]) => status >= 500 && status !== 503).reduce((s, [, n]) => s + n, 0)
    if (fiveHundredsDuringDrain > 0) problems.push(`${fiveHundredsDuringDrain} non-503 5xx responses during shutdown`)
    console.log(`shutdown: SIGTERM with ${CLIENTS} clients busy; exit code ${code} after ${drainMs} ms; ` +
      `statuses ${JSON.stringify(Object.fromEntries(drain.byStatus))}; refused after close: ${drain.refused}`)

    // 4. Restart: nothing acknowledged is lost, and every publish reaches the webhook receiver.
    server = startServer(env)
    await waitReady()
    const all = [...load.acks, ...drain.acks]
    const verifiedAfter = await verifyAcks(all)
    const deadline = Date.now() + 30_000
    while (deliveries.size < all.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
    if (deliveries.size < all.length) problems.push(`${all.length - deliveries.size} of ${all.length} post.published webhooks never arrived`)
    console.log(`after restart: ${verifiedAfter} acknowledged writes verified; webhook events received: ${deliveries.size} of ${all.length} ` +
      `(${[...deliveries.values()].filter((n) => n > 1).length} delivered more than once, as at-least-once allows)`)
    server.child.kill('SIGTERM')
    await server.exited
  } finally {
    receiver.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().then(() => {
  if (problems.length > 0) {
    console.error(`load and shutdown check FAILED:\n  ${problems.slice(0, 20).join('\n  ')}`)
    process.exit(1)
  }
  console.log('load and shutdown check passed')
}, (error: unknown) => {
  console.error('load and shutdown check FAILED:', error)
  process.exit(1)
})
