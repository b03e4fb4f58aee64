import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { sql } from 'kysely'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
import { migrateToLatest } from '../src/db/migrator.ts'
import { encodeCursor } from '../src/http/pagination.ts'
import { POST_CURSOR } from '../src/content/posts/posts.service.ts'
import { wordOfRank } from './dataset.ts'
import { existingBenchPosts, generate, type GenerateResult } from './generate.ts'
import { compiledServerArgs } from '../test/helpers/compiled-server.ts'

// `npm run bench`: makes (or reuses) the dataset, then measures each scenario against a bare
// Fastify process answering the same bytes, alternately, in the same run. Prints a table and
// writes bench/results/<profile>.json. Exits 1 on any error or unexpected status, never on
// speed: absolute times on a shared machine are not a verdict, ratios are the report.

const ROOT = path.resolve(import.meta.dirname, '..')
const PROFILES = {
  full: { posts: 1_000_000, duration: 16 },
  ci: { posts: 50_000, duration: 6 },
  embedded: { posts: 10_000, duration: 6 }
} as const

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string' },
    posts: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '50' },
    regenerate: { type: 'boolean', default: false },
    only: { type: 'string' }
  }
})

const databaseUrl = process.env.DATABASE_URL || undefined
const profileName = (args.profile ?? (databaseUrl === undefined ? 'embedded' : 'full')) as keyof typeof PROFILES
if (!(profileName in PROFILES)) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`)
const profile = PROFILES[profileName]
const posts = Number(args.posts ?? profile.posts)
const duration = Number(args.duration ?? profile.duration)
const connections = Number(args.connections)
const dataDir = path.join(ROOT, 'bench', '.data')
const log = (line: string) => process.stdout.write(`${line}\n`)

type Variant = 'cached' | 'uncached'
interface Scenario {
  name: string
  variant: Variant
  path: string
  headers?: Record<string, string>
  /** Several paths taken in turn (the full-text query rotates its terms). */
  paths?: string[]
  connections?: number
  expectStatus?: number
}

interface Measured { rps: number, p50: number, p99: number, errors: number, unexpected: number, bytes: number }
interface Row { scenario: Scenario, api: Measured, baseline: Measured, ratio: number, peakRssMb: number }

async function prepareDataset (): Promise<{ generated?: GenerateResult, fixtures: Fixtures }> {
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl ?? '', DATA_DIR: dataDir, SEED_DEMO: 'false' })
  const database = await openDatabase(config.database)
  try {
    await migrateToLatest(database.db)
    const existing = await existingBenchPosts(database.db)
    if (existing === undefined) {
      throw new Error('This database holds content that is not the benchmark\'s. Point DATABASE_URL at a database of its own (it is emptied).')
    }
    let generated: GenerateResult | undefined
    if (existing !== posts || args.regenerate) {
      log(`generating the dataset (${existing.toLocaleString('en')} posts there, ${posts.toLocaleString('en')} wanted)`)
      generated = await generate(database, { posts, url: databaseUrl, log })
      log(`loaded ${posts.toLocaleString('en')} posts in ${generated.loadSeconds.toFixed(1)} s + indexes ${generated.indexSeconds.toFixed(1)} s: ${generated.postsPerSecond.toLocaleString('en')} posts/s overall`)
    } else {
      log(`reusing the dataset: ${existing.toLocaleString('en')} posts`)
    }
    return { ...(generated === undefined ? {} : { generated }), fixtures: await pickFixtures(database.db) }
  } finally {
    await database.close()
  }
}

interface Fixtures { blog: string, postPath: string, sitemapPage: string, author: string, tag: string, deepCursor: string, terms: string[] }

async function pickFixtures (db: Awaited<ReturnType<typeof openDatabase>>['db']): Promise<Fixtures> {
  const visible = sql`p.status IN ('published', 'scheduled') AND p.deleted_at IS NULL AND p.published_at <= now()`
  const post = (await sql<{ blog: string, slug: string, month: string }>`
    SELECT b.slug AS blog, p.slug, to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM posts p JOIN blogs b ON b.id = p.blog_id WHERE ${visible}
    ORDER BY p.published_at DESC, p.id DESC OFFSET 500 LIMIT 1`.execute(db)).rows[0]
  const author = (await sql<{ slug: string }>`
    SELECT a.slug FROM post_authors pa JOIN authors a ON a.id = pa.author_id GROUP BY a.slug ORDER BY count(*) DESC LIMIT 1`.execute(db)).rows[0]
  const tag = (await sql<{ slug: string }>`
    SELECT t.slug FROM post_tags pt JOIN tags t ON t.id = pt.tag_id GROUP BY t.slug ORDER BY count(*) DESC LIMIT 1`.execute(db)).rows[0]
  const total = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM posts p WHERE ${visible}`.execute(db)).rows[0]?.n)
  // Page 5,000 of 20 when there are that many public posts; otherwise the deepest page there is.
  const depth = Math.min(4_999 * 20, Math.max(0, total - 21))
  const deep = (await sql<{ published_at: Date, id: string }>`
    SELECT p.published_at, p.id FROM posts p WHERE ${visible}
    ORDER BY p.published_at DESC, p.id DESC OFFSET ${depth - 1} LIMIT 1`.execute(db)).rows[0]
  if (post === undefined || author === undefined || tag === undefined || deep === undefined) throw new Error('the dataset is too small')
  return {
    blog: post.blog,
    postPath: `/v1/blogs/${post.blog}/posts/${post.slug}`,
    sitemapPage: `/v1/blogs/${post.blog}/sitemap.xml?month=${post.month}`,
    author: author.slug,
    tag: tag.slug,
    deepCursor: encodeCursor(POST_CURSOR, ['newest', deep.published_at.toISOString(), deep.id, null]),
    // From everywhere to rare: vocabulary ranks 20 to 10,000 of the Zipf-distributed words.
    terms: [
      wordOfRank(20), wordOfRank(300), wordOfRank(1_000), wordOfRank(3_000), wordOfRank(10_000),
      `${wordOfRank(20)} ${wordOfRank(1_000)}`, `"${wordOfRank(5)} ${wordOfRank(6)}"`, `${wordOfRank(300)} -${wordOfRank(20)}`
    ].map(encodeURIComponent)
  }
}

function scenarios (f: Fixtures): Scenario[] {
  return [
    { name: 'latest feed, JSON', variant: 'cached', path: '/v1/feeds/latest' },
    { name: 'latest feed, RSS', variant: 'cached', path: '/v1/feeds/latest?format=rss' },
    { name: 'blog feed', variant: 'cached', path: `/v1/blogs/${f.blog}/feed` },
    { name: 'author feed', variant: 'cached', path: `/v1/authors/${f.author}/feed` },
    { name: 'tag feed', variant: 'cached', path: `/v1/tags/${f.tag}/feed` },
    { name: '304 revalidation', variant: 'cached', path: '/v1/feeds/latest', expectStatus: 304 },
    { name: 'post by blog+slug', variant: 'cached', path: f.postPath },
    { name: 'latest feed, JSON, cache off', variant: 'uncached', path: '/v1/feeds/latest' },
    { name: 'post by blog+slug, cache off', variant: 'uncached', path: f.postPath },
    { name: '/v1/posts page 1, cache off', variant: 'uncached', path: '/v1/posts' },
    { name: '/v1/posts page 5,000, cache off', variant: 'uncached', path: `/v1/posts?cursor=${f.deepCursor}` },
    // Crawlers fetch sitemaps a few at a time, not fifty: 4 connections.
    { name: 'sitemap index, cache off', variant: 'uncached', path: '/v1/sitemap.xml', connections: 4 },
    { name: 'blog sitemap page, cache off', variant: 'uncached', path: f.sitemapPage, connections: 4 },
    { name: 'news sitemap, cache off', variant: 'uncached', path: '/v1/news-sitemap.xml', connections: 4 },
    { name: 'full-text query, cache off', variant: 'uncached', path: `/v1/posts?q=${f.terms[0]}`, paths: f.terms.map((term) => `/v1/posts?q=${term}`), connections: 8 }
  ]
}

// ---- processes -------------------------------------------------------------------------

async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

interface Proc { child: ChildProcess, base: string }

async function startProcess (script: string, env: Record<string, string>): Promise<Proc> {
  const port = await freePort()
  // The API runs as production runs it, compiled; the baseline through tsx (it does nothing per request).
  const args = script === 'src/server.ts' ? compiledServerArgs() : ['--import', 'tsx', script]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`)
    const ok = await fetch(`${base}/readyz`).then((res) => res.status === 200 || res.status === 404, () => false)
    if (ok) return { child, base }
    if (Date.now() > deadline) throw new Error(`${script} did not start`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function stopProcess (proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null) return
  const exited = new Promise((resolve) => proc.child.once('exit', resolve))
  proc.child.kill('SIGTERM')
  await exited
}

async function peakRssMb (pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const match = /VmHWM:\s+(\d+) kB/.exec(status)
  return match === null ? NaN : Number(match[1]) / 1024
}

// ---- measuring -------------------------------------------------------------------------

async function measure (base: string, scenario: Scenario, headers: Record<string, string>, seconds: number): Promise<Measured> {
  const result = await autocannon({
    url: base,
    connections: scenario.connections ?? connections,
    duration: seconds,
    headers,
    requests: (scenario.paths ?? [scenario.path]).map((p) => ({ method: 'GET' as const, path: p }))
  })
  const expected = String(scenario.expectStatus ?? 200)
  const statuses = result.statusCodeStats as unknown as Record<string, { count: number }>
  const unexpected = Object.entries(statuses).reduce((sum, [code, stat]) => sum + (code === expected ? 0 : stat.count), 0)
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    unexpected,
    bytes: result.throughput.average
  }
}

async function runScenario (api: Proc, baseline: Proc, scenario: Scenario): Promise<Row> {
  // The API's real answer for this request, handed to the baseline to repeat byte for byte.
  const first = await fetch(api.base + scenario.path)
  const body = Buffer.from(await first.arrayBuffer())
  const etag = first.headers.get('etag') ?? ''
  const headers: Record<string, string> = scenario.expectStatus === 304 ? { 'if-none-match': etag } : {}
  const probe = await fetch(api.base + scenario.path, { headers })
  if (probe.status !== (scenario.expectStatus ?? 200)) throw new Error(`${scenario.name}: ${scenario.path} answered ${probe.status}`)
  await fetch(`${baseline.base}/__response`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: probe.status, contentType: first.headers.get('content-type'), etag, bodyBase64: scenario.expectStatus === 304 ? '' : body.toString('base64') })
  })
  // Warm both (JIT, pool, cache), then alternate in short rounds: the machine's speed drifts
  // (shared cores), and a drift then falls on both sides alike instead of on one.
  await measure(baseline.base, scenario, headers, 1)
  await measure(api.base, scenario, headers, 2)
  const apiRounds: Measured[] = []
  const baselineRounds: Measured[] = []
  for (let round = 0; round < ROUNDS; round++) {
    baselineRounds.push(await measure(baseline.base, scenario, headers, duration / ROUNDS))
    apiRounds.push(await measure(api.base, scenario, headers, duration / ROUNDS))
  }
  const apiResult = combine(apiRounds)
  const baselineResult = combine(baselineRounds)
  return { scenario, api: apiResult, baseline: baselineResult, ratio: apiResult.rps / baselineResult.rps, peakRssMb: await peakRssMb(api.child.pid) }
}

const ROUNDS = 4

/** Rounds of equal length: mean rate, median p50, worst p99, all errors. */
function combine (rounds: Measured[]): Measured {
  const sum = (pick: (m: Measured) => number) => rounds.reduce((total, m) => total + pick(m), 0)
  const p50s = rounds.map((m) => m.p50).sort((a, b) => a - b)
  return {
    rps: sum((m) => m.rps) / rounds.length,
    p50: p50s[Math.floor(p50s.length / 2)] as number,
    p99: Math.max(...rounds.map((m) => m.p99)),
    errors: sum((m) => m.errors),
    unexpected: sum((m) => m.unexpected),
    bytes: sum((m) => m.bytes) / rounds.length
  }
}

// ---- targets ---------------------------------------------------------------------------

function targetsFor (rows: Row[]): Array<{ target: string, value: string, met: boolean }> {
  const row = (name: string) => rows.find((r) => r.scenario.name === name)
  const out: Array<{ target: string, value: string, met: boolean }> = []
  const ratio = (name: string, min: number) => {
    const r = row(name)
    if (r !== undefined) out.push({ target: `${name}: ≥ ${min} of baseline req/s`, value: r.ratio.toFixed(2), met: r.ratio >= min })
  }
  ratio('latest feed, JSON', 0.7)
  const latest = row('latest feed, JSON')
  if (latest !== undefined) out.push({ target: `latest feed, JSON: p99 < 25 ms at ${connections} connections`, value: `${latest.api.p99} ms`, met: latest.api.p99 < 25 })
  for (const name of ['latest feed, RSS', 'blog feed', 'author feed', 'tag feed']) ratio(name, 0.6)
  ratio('304 revalidation', 0.8)
  ratio('post by blog+slug, cache off', 0.25)
  ratio('/v1/posts page 1, cache off', 0.25)
  const page1 = row('/v1/posts page 1, cache off')
  const deep = row('/v1/posts page 5,000, cache off')
  if (page1 !== undefined && deep !== undefined) {
    out.push({ target: 'page 5,000 p50 within 1.2x of page 1 p50', value: `${deep.api.p50} vs ${page1.api.p50} ms`, met: deep.api.p50 <= page1.api.p50 * 1.2 + 0.5 })
  }
  const search = row('full-text query, cache off')
  if (search !== undefined) out.push({ target: 'full-text query: p99 < 150 ms at 8 connections', value: `${search.api.p99} ms`, met: search.api.p99 < 150 })
  const peak = Math.max(...rows.map((r) => r.peakRssMb))
  out.push({ target: 'API peak RSS < 300 MB', value: `${peak.toFixed(0)} MB`, met: peak < 300 })
  const failures = rows.reduce((sum, r) => sum + r.api.errors + r.api.unexpected, 0)
  out.push({ target: 'zero errors and unexpected statuses', value: String(failures), met: failures === 0 })
  return out
}

function table (rows: Row[]): string {
  const head = ['scenario', 'API req/s', 'base req/s', 'ratio', 'API p50', 'API p99', 'base p99', 'errors', 'peak RSS']
  const lines = rows.map((r) => [
    r.scenario.name, r.api.rps.toFixed(0), r.baseline.rps.toFixed(0), r.ratio.toFixed(2), `${r.api.p50} ms`, `${r.api.p99} ms`,
    `${r.baseline.p99} ms`, String(r.api.errors + r.api.unexpected), `${r.peakRssMb.toFixed(0)} MB`
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const format = (cells: string[]) => '| ' + cells.map((c, i) => i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)).join(' | ') + ' |'
  return [format(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...lines.map(format)].join('\n')
}

// ---- main ------------------------------------------------------------------------------

const { generated, fixtures } = await prepareDataset()
const apiEnv = {
  DATABASE_URL: databaseUrl ?? '',
  DATA_DIR: dataDir,
  SEED_DEMO: 'false',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'production',
  RATE_LIMIT_ANONYMOUS: '1000000',
  RATE_LIMIT_READ: '1000000'
}
const baseline = await startProcess('bench/baseline.ts', {})
const rows: Row[] = []
try {
  const all = scenarios(fixtures).filter((s) => args.only === undefined || s.name.includes(args.only))
  for (const variant of ['cached', 'uncached'] as const) {
    const selected = all.filter((s) => s.variant === variant)
    if (selected.length === 0) continue
    // One API process at a time: the embedded database allows one, and the peak RSS is then that variant's own.
    const api = await startProcess('src/server.ts', { ...apiEnv, RESPONSE_CACHE_MAX_MB: variant === 'cached' ? '64' : '0' })
    try {
      for (const scenario of selected) {
        const row = await runScenario(api, baseline, scenario)
        rows.push(row)
        log(`${scenario.name}: ${row.api.rps.toFixed(0)} req/s vs ${row.baseline.rps.toFixed(0)} (${row.ratio.toFixed(2)}), p50 ${row.api.p50} ms, p99 ${row.api.p99} ms`)
      }
    } finally {
      await stopProcess(api)
    }
  }
} finally {
  await stopProcess(baseline)
}

const targets = targetsFor(rows)
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL'}`
log('')
log(`profile ${profileName}: ${posts.toLocaleString('en')} posts, ${duration} s per run, ${connections} connections; ${machine}`)
log(table(rows))
log('')
for (const t of targets) log(`${t.met ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.value}`)
await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true })
const out = path.join(ROOT, 'bench', 'results', `${profileName}.json`)
await writeFile(out, JSON.stringify({ profile: profileName, posts, duration, connections, machine, at: new Date().toISOString(), generated, rows, targets }, null, 2) + '\n')
log(`\nwritten to ${path.relative(ROOT, out)}`)
const failures = rows.reduce((sum, r) => sum + r.api.errors + r.api.unexpected, 0)
if (failures > 0) {
  log(`${failures} errors or unexpected statuses`)
  process.exitCode = 1
}
