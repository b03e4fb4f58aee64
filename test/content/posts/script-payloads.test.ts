import { DOMParser } from '@xmldom/xmldom'
import t from 'tap'
import { createApiKey } from '../../../src/access/api-keys/api-keys.service.ts'
import { withAbsoluteUrls } from '../../../src/content/posts/absolute-urls.ts'
import { prepareBody, prepareBodyHtml } from '../../../src/content/posts/post-body.ts'
import { XML_INVALID } from '../../../src/http/stored-text.ts'
import { setUpWriter } from '../../helpers/post-writes.ts'
import { harmfulParts, oracleCounts, scriptPayloads } from '../../helpers/script-payloads.ts'

// Whole families of script payloads (test/helpers/script-payloads.ts: some 27,000) against every
// place an article's HTML comes out: as stored (the JSON API), and with its relative links
// resolved (the feeds and Ghost's `html`), judged by parse5 and the URL Standard as a browser
// would read them. post-bodies.test.ts keeps the classic list and its pattern check; this one
// found that resolving links could turn a harmless relative one into a script
// (`href="&nbsp;javascript:…"`: trimmed with JavaScript's wider idea of whitespace first).

const BASE = 'https://news.example.com/desk/2024/05/the-story'
const payloads = scriptPayloads()

t.test('every payload, as HTML and as Markdown, comes out harmless as stored and with its links resolved', async (t) => {
  const before = oracleCounts.urls
  const harmful = new Map<string, string[]>()
  // Some 54,000 outputs, a few thousand of them distinct: each distinct one is judged once.
  const judged = new Map<string, string[]>()
  const judge = (text: string) => judged.get(text) ?? judged.set(text, harmfulParts(text, BASE)).get(text)!
  for (const { family, html } of payloads) {
    for (const field of ['html', 'markdown'] as const) {
      // The stored HTML without the text and word count prepareBody adds, which this file does not check.
      const stored = prepareBodyHtml(field === 'html' ? { html: `<p>Before</p>${html}<p>After</p>` } : { markdown: `Before\n\n${html}\n\nAfter` })
      for (const [output, text] of [['stored', stored], ['links resolved', withAbsoluteUrls(stored, BASE)]] as const) {
        const found = judge(text)
        const key = `${family}, ${field}, ${output}`
        if (found.length > 0 && (harmful.get(key)?.length ?? 0) < 3) harmful.set(key, [...harmful.get(key) ?? [], `${JSON.stringify(html)} -> ${JSON.stringify(text)}: ${found.join('; ')}`])
      }
    }
  }
  t.same(Object.fromEntries(harmful), {}, 'nothing that runs script or frames another site (up to three examples a family and output)')
  const count = (family: string) => payloads.filter((p) => p.family === family).length
  t.ok(count('script URLs') > 20_000 && count('parser differentials') > 1_000 && count('iframe hosts') >= 30 && count('new windows') >= 90, 'the corpus is whole')
  // Most script URLs come out as relative references or absolute links: the oracle resolved them.
  t.ok(judged.size > 10_000 && oracleCounts.urls - before > 20_000, `${judged.size} distinct outputs judged; the oracle resolved ${oracleCounts.urls - before} URLs in them`)
})

t.test('through the API: the JSON body, the feeds and Ghost\'s html carry none of it', async (t) => {
  const { app, send } = await setUpWriter(t, { WEBSITE_URL: 'https://news.example.com', PUBLIC_BASE_URL: '' })
  const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  // Payloads the API refuses outright (characters XML cannot carry) are harmless by that; the
  // rest go in bodies of some 60,000 characters, each payload in a paragraph of its own.
  const accepted = payloads.filter(({ html }) => !new RegExp(XML_INVALID.source).test(html))
  const bodies: string[][] = [[]]
  let length = 0
  for (const { html } of accepted) {
    if (length > 60_000) { bodies.push([]); length = 0 }
    bodies.at(-1)!.push(html)
    length += html.length
  }
  const slugs: string[] = []
  const storedLength = new Map<string, number>()
  for (const [i, parts] of bodies.entries()) {
    for (const field of ['body_html', 'body_markdown'] as const) {
      const slug = `payloads-${i}-${field === 'body_html' ? 'html' : 'markdown'}`
      const body = field === 'body_html' ? parts.map((html) => `<p>${html}</p>`).join('\n') : parts.join('\n\n')
      const res = await send('POST', '/v1/posts', { blog: 'desk', slug, title: slug, [field]: body, status: 'published', published_at: new Date(Date.now() - 60_000 * (slugs.length + 1)).toISOString() })
      t.equal(res.statusCode, 201, `${slug}: ${res.body.slice(0, 200)}`)
      const post = res.json().data as { url: string, body_html: string }
      t.same(harmfulParts(post.body_html, post.url), [], `${slug}: the JSON body`)
      storedLength.set(post.url, post.body_html.length)
      const ghost = await app.inject({ url: `/sites/desk/ghost/api/content/posts/slug/${slug}/?key=${key}&formats=html` })
      t.equal(ghost.statusCode, 200, `${slug}: Ghost`)
      const ghostPost = ghost.json().posts[0] as { url: string, html: string }
      t.same(harmfulParts(ghostPost.html, ghostPost.url), [], `${slug}: Ghost's html`)
      slugs.push(slug)
    }
  }
  t.ok(slugs.length >= 40, `${slugs.length} posts`)

  const feed = async (format: string) => (await app.inject({ url: `/v1/feeds/latest?format=${format}&content=full&limit=100` })).body
  const xml = (text: string) => new DOMParser().parseFromString(text, 'text/xml')
  const items: Array<{ format: string, url: string, html: string }> = []
  for (const item of Array.from(xml(await feed('rss')).getElementsByTagName('item'))) {
    items.push({ format: 'RSS', url: item.getElementsByTagName('link')[0]?.textContent ?? '', html: item.getElementsByTagNameNS('http://purl.org/rss/1.0/modules/content/', 'encoded')[0]?.textContent ?? '' })
  }
  for (const entry of Array.from(xml(await feed('atom')).getElementsByTagName('entry'))) {
    const alternate = Array.from(entry.getElementsByTagName('link')).find((link) => link.getAttribute('rel') === 'alternate')
    items.push({ format: 'Atom', url: alternate?.getAttribute('href') ?? '', html: entry.getElementsByTagName('content')[0]?.textContent ?? '' })
  }
  for (const item of JSON.parse(await feed('jsonfeed')).items as Array<{ url: string, content_html: string }>) items.push({ format: 'JSON Feed', url: item.url, html: item.content_html })
  for (const item of JSON.parse(await feed('json')).data as Array<{ url: string, content_html: string }>) items.push({ format: 'JSON feed', url: item.url, html: item.content_html })
  for (const format of ['RSS', 'Atom', 'JSON Feed', 'JSON feed']) t.equal(items.filter((item) => item.format === format).length, slugs.length, `${format}: every post`)
  for (const { format, url, html } of items) {
    // The whole body, not an excerpt (resolving links may drop an attribute or lengthen one).
    t.ok(html.length > (storedLength.get(url) ?? Infinity) / 2, `${format}: ${url} has its content`)
    t.same(harmfulParts(html, url), [], `${format}: ${url}`)
  }
})

t.test('what a library says about a bad srcset stays out of the API\'s log stream', async (t) => {
  // A forged log entry after a newline: parse-srcset printed the whole value to standard output.
  const srcset = 'https://i.example/a.jpg 1x 2x,\n{"level":50,"msg":"forged"} 3q'
  const printed: unknown[][] = []
  const log = console.log
  console.log = (...args: unknown[]) => { printed.push(args) }
  try {
    prepareBody({ html: `<img srcset="${srcset}">` })
    withAbsoluteUrls(`<img srcset="${srcset.replaceAll('"', '&quot;')}">`, BASE)
  } finally {
    console.log = log
  }
  t.same(printed, [], 'nothing printed while sanitizing and resolving, in this thread')

  // The API renders bodies in worker threads, whose output goes to the process's standard output.
  const { send } = await setUpWriter(t)
  const written: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk))
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest)
  }) as typeof process.stdout.write
  let status: number | undefined
  try {
    // No assertion in here: tap writes its own report to this stream.
    status = (await send('POST', '/v1/posts', { blog: 'desk', title: 'Bad srcset', body_html: `<p>x</p><img srcset="${srcset.replaceAll('"', '&quot;')}">` })).statusCode
    // A worker's output reaches this thread's stream asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 300))
  } finally {
    process.stdout.write = write
  }
  t.equal(status, 201)
  // What the library printed, unescaped (tap's own report, written to the same stream, escapes quotes).
  t.same(written.filter((text) => text.includes('Invalid srcset descriptor') || text.includes('{"level":50,"msg":"forged"}')), [], 'nothing from the render thread')
})
