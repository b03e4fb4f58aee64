import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { withAbsoluteUrls } from '../../src/content/posts/absolute-urls.ts'
import { prepareBody } from '../../src/content/posts/post-body.ts'
import { scriptPayloads } from '../helpers/script-payloads.ts'

// The script payloads of test/helpers/script-payloads.ts, sanitized as the API stores them and
// with their links resolved as the feeds and Ghost's html send them, loaded into a real headless
// Chromium: once as a page's body (scripts run, as on a server-rendered page) and once as a div's
// innerHTML (a frontend's component). The browser is the judge the tap suite's parse5 oracle
// stands in for: no dialog opens (the payloads call alert, confirm, prompt or print), no handler
// or element that runs script is in the DOM, every link, image, frame and citation the browser
// resolved leads to http, https or mailto (frames: the embed hosts over https), and a link that
// opens a new window has noopener or noreferrer as the browser reads its rel.
// Three controls, unsanitized, must be caught, or the check proves nothing.
// Usage: tsx test/browser/article-html.ts

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const BASE = 'https://news.example.com/desk/2024/05/the-story'
const BATCH = 1_500

const outputs = new Set<string>()
for (const { html } of scriptPayloads()) {
  for (const input of [{ html }, { markdown: `Before\n\n${html}\n\nAfter` }]) {
    const stored = prepareBody(input).bodyHtml
    outputs.add(stored).add(withAbsoluteUrls(stored, BASE))
  }
}
const CONTROLS = ['<img src=x onerror=alert(1)>', '<a href="&#x6a;avascript:alert(1)">x</a>', '<a href="https://x.example/" target=" _self" rel="noopener&nbsp;x">x</a>']

const PAGE_SCRIPT = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'article-html.page.js'), 'utf8')
/** The page script's functions (article-html.page.js); the functions passed to evaluate run in the page, where only its globals exist. */
interface PageFunctions { judgeArticleHtml: () => string[], insertFragments: (fragments: string[], start: number) => void }

async function check (page: Page, batch: string[], start: number): Promise<string[]> {
  const dialogs: string[] = []
  const onDialog = (dialog: { message: () => string, dismiss: () => Promise<void> }) => { dialogs.push(`dialog: ${dialog.message()}`); void dialog.dismiss() }
  page.on('dialog', onDialog)
  try {
    // As a page's body: its scripts, if any were left, would run.
    const body = batch.map((html, i) => `<div data-output="${start + i}">${html}</div>`).join('\n')
    await page.setContent(`<!DOCTYPE html><html><head><base href="${BASE}"><script>${PAGE_SCRIPT}</script></head><body>${body}</body></html>`, { waitUntil: 'load' })
    const asPage = await page.evaluate(() => (globalThis as unknown as PageFunctions).judgeArticleHtml())
    // As innerHTML: scripts do not run, but handlers do.
    await page.evaluate(([fragments, first]) => { (globalThis as unknown as PageFunctions).insertFragments(fragments, first) }, [batch, start] as const)
    await page.waitForTimeout(200)
    const asFragment = await page.evaluate(() => (globalThis as unknown as PageFunctions).judgeArticleHtml())
    return [...dialogs, ...asPage, ...asFragment]
  } finally {
    page.off('dialog', onDialog)
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
let failed = false
try {
  const page = await browser.newPage()
  // Nothing leaves the machine: images, frames and navigations are refused.
  await page.route('**/*', (route) => route.abort())

  const controls = await check(page, CONTROLS, 0)
  const caught = CONTROLS.every((_, i) => controls.some((problem) => problem.startsWith(`${i}:`))) && controls.some((problem) => problem.startsWith('dialog'))
  if (!caught) {
    failed = true
    console.error(`the controls were not caught: ${JSON.stringify(controls)}`)
  }

  const all = [...outputs]
  const problems: string[] = []
  for (let start = 0; start < all.length; start += BATCH) problems.push(...await check(page, all.slice(start, start + BATCH), start))
  if (problems.length > 0) {
    failed = true
    const shown = problems.slice(0, 20).map((problem) => {
      const index = Number(/^(?:innerHTML )?(\d+):/.exec(problem)?.[1])
      return `${problem}\n    in ${JSON.stringify(all[index] ?? '').slice(0, 200)}`
    })
    console.error(`article HTML check failed (${problems.length} problems; the first 20):\n  ${shown.join('\n  ')}`)
  }
  console.log(`article HTML in Chromium: ${all.length} distinct outputs of ${scriptPayloads().length} payloads, as a page and as innerHTML; ${problems.length} problems; controls ${caught ? 'caught' : 'NOT caught'}`)
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
