import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { chromium } from 'playwright-core'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { offlineDatabase } from '../../src/db/database.ts'

// Loads /docs in a real headless Chromium and checks that the API reference renders its
// operations with no request leaving the machine and no Content-Security-Policy violation, and
// that "Try it out" calls the API from the page, a list parameter included.
// Usage: tsx test/browser/docs-page.ts [BASE_URL]   (without BASE_URL it serves the app itself)

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const EXPECTED_OPERATIONS = ['listBlogs', 'getBlog', 'getReadiness']

async function serveOwnApp (): Promise<{ baseUrl: string, stop: () => Promise<void> }> {
  const app = await buildApp({ config: loadConfig({}), database: offlineDatabase(), logger: pino({ level: 'silent' }), backgroundJobs: false })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return { baseUrl: `http://127.0.0.1:${port}`, stop: () => app.close() }
}

const own = process.argv[2] === undefined ? await serveOwnApp() : undefined
const baseUrl = process.argv[2] ?? own?.baseUrl ?? ''
const origin = new URL(baseUrl).origin

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
const problems: string[] = []
try {
  const page = await browser.newPage()
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
    problems.push(`request to another host: ${url}`)
    return route.abort()
  })

  const response = await page.goto(`${baseUrl}/docs`, { waitUntil: 'networkidle' })
  if (response?.status() !== 200) problems.push(`/docs answered ${response?.status()}`)
  await page.waitForSelector('.opblock', { timeout: 20_000 })
  const operationIds = await page.$$eval('.opblock .opblock-summary-operation-id', (nodes) => nodes.map((n) => n.textContent?.trim()))
  for (const id of EXPECTED_OPERATIONS) {
    if (!operationIds.includes(id)) problems.push(`operation ${id} is not shown (saw: ${operationIds.join(', ')})`)
  }
  const title = await page.locator('.info .title').first().textContent()
  // "Try it out": the page calls the API from the reference, under the page's own CSP (connect-src).
  const liveness = page.locator('[id$="-getLiveness"]').first()
  await liveness.locator('.opblock-summary').click()
  await liveness.locator('button.try-out__btn').click()
  await liveness.locator('button.execute').click()
  const tried = (await liveness.locator('.live-responses-table tbody .response-col_status').first().textContent({ timeout: 10_000 }).catch(() => undefined))?.trim()
  if (tried !== '200') problems.push(`"Try it out" on getLiveness showed ${tried ?? 'nothing'}, not 200`)
  // A list parameter as the reference renders it from the document (an array of an enum): a
  // multiple select, whose choices the page sends as one comma-separated value (style form,
  // explode false).
  const listPosts = page.locator('[id$="-listPosts"]').first()
  await listPosts.locator('.opblock-summary').click()
  await listPosts.locator('button.try-out__btn').click()
  await listPosts.locator('tr[data-param-name="formats"] select').selectOption(['html', 'plaintext'])
  await listPosts.locator('button.execute').click()
  const listed = (await listPosts.locator('.live-responses-table tbody .response-col_status').first().textContent({ timeout: 10_000 }).catch(() => undefined))?.trim()
  const listUrl = (await listPosts.locator('.request-url pre').first().textContent().catch(() => undefined)) ?? ''
  if (!/[?&]formats=html(,|%2C)plaintext(&|$)/.test(listUrl)) problems.push(`"Try it out" on listPosts with two formats called ${listUrl || 'nothing'}`)
  if (listed !== '200') problems.push(`"Try it out" on listPosts with two formats showed ${listed ?? 'nothing'}, not 200`)
  console.log(`docs page: "${title?.trim()}", ${operationIds.length} operations shown; "Try it out" answered ${tried}; listPosts with two formats ${listed} (${listUrl})`)
} finally {
  await browser.close()
  await own?.stop()
}

if (problems.length > 0) {
  console.error(`docs page check failed:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('docs page check passed: rendered offline, no CSP violations')
