import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { chromium } from 'playwright-core'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { openDatabase } from '../../src/db/database.ts'
import { migrateToLatest } from '../../src/db/migrator.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'

// A frontend on another origin, in a real headless Chromium: the browser, not the server,
// decides what a cross-origin page may send and read. The page (one origin) calls the API
// (another port, so another origin) as a frontend and an editor's web tool would: anonymous and
// keyed reads (a key means a preflight), a conditional read through the browser's own HTTP
// cache, a create sent twice with an Idempotency-Key, a bad key, Ghost's client route, a JSON
// Merge Patch and a body type refused with 415, and the rate limit. Each response header the API sends for a client to act on must be readable by
// the page's JavaScript. Usage: tsx test/browser/cross-origin.ts

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

interface Answer { what: string, status: number, headers: Record<string, string | null> }
/** cross-origin.page.js's function; what evaluate runs is in the page, where only its globals exist. */
interface PageFunctions { crossOriginRequests: (args: { api: string, writer: string, ghostKey: string }) => Promise<Answer[]> }

const dataDir = await mkdtemp(path.join(tmpdir(), 'content-api-cors-'))
const pageServer = createServer((_request, response) => { response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>frontend</title>') })
await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve))
const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`

const database = await openDatabase({ kind: 'embedded', dataDir })
await migrateToLatest(database.db)
await seedDemo(database.db)
const writer = (await createApiKey(database.db, 'web CMS', ['content:write'])).key
const ghostKey = (await createApiKey(database.db, 'Ghost frontend', ['content:read'], 'ghost')).key
const app = await buildApp({ config: loadConfig({ CORS_ORIGINS: pageOrigin, RATE_LIMIT_ANONYMOUS: '30' }), database, logger: pino({ level: 'silent' }), backgroundJobs: false })
let notModified = 0
app.addHook('onResponse', async (_request, reply) => { if (reply.statusCode === 304) notModified++ })
await app.listen({ host: '127.0.0.1', port: 0 })
const api = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] })
const problems: string[] = []
try {
  const page = await browser.newPage()
  page.on('console', (message) => { if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`) })
  await page.goto(pageOrigin)
  await page.addScriptTag({ path: fileURLToPath(new URL('cross-origin.page.js', import.meta.url)) })
  const seen = await page.evaluate((args) => (globalThis as unknown as PageFunctions).crossOriginRequests(args), { api, writer, ghostKey })

  const expect = (what: string, status: number, names: string[]) => {
    const answer = seen.find((s) => s.what === what)
    if (answer === undefined) return problems.push(`${what}: not answered`)
    if (answer.status !== status) problems.push(`${what}: status ${answer.status}, expected ${status}`)
    for (const name of names) if (answer.headers[name] === null) problems.push(`${what}: ${name} not readable`)
  }
  expect('anonymous read', 200, ['ETag', 'Last-Modified', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'])
  expect('the same, revalidated by the browser', 200, ['ETag', 'X-Request-Id'])
  expect('keyed read (preflighted)', 200, ['ETag', 'RateLimit-Remaining'])
  expect('create', 201, ['Location', 'ETag'])
  expect('create again', 201, ['Location', 'Idempotent-Replayed'])
  expect('bad key', 401, ['WWW-Authenticate', 'X-Request-Id'])
  expect('Ghost', 200, ['Content-Version'])
  expect('merge patch', 200, ['ETag'])
  expect('unsupported body type', 415, ['Accept', 'Accept-Patch', 'X-Request-Id'])
  expect('anonymous until limited', 429, ['Retry-After', 'RateLimit-Remaining'])
  if (notModified === 0) problems.push('the browser\'s revalidation got no 304 from the API')
  console.log(`cross-origin in Chromium: ${seen.length} requests from ${pageOrigin} to ${api}; ${notModified} answered 304 to the browser's own revalidation`)
} finally {
  await browser.close()
  await app.close()
  pageServer.close()
  await rm(dataDir, { recursive: true, force: true })
}
if (problems.length > 0) {
  console.error(`cross-origin check failed:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('cross-origin check passed: every header a client acts on is readable')
