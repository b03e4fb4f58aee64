import t from 'tap'
import { probeDatabaseUrl, runInFreshProcess, START_APP_AT_PROBE_URL } from './helpers/module-probe.ts'

// ICU's data sits in the node binary and is paged in on first use: one toLocaleString('en') maps
// some 6 MB of it into the process, a collation or a time-zone lookup a few more, and those
// pages count in the process's RSS from then on (README, "Memory"). Nothing on the read path needs
// locale rules: the API's text is stored as written and its dates are ISO 8601 or RFC 822 in UTC.
// Proven in a fresh process whose ICU entry points report their callers while it serves reads.

const REPORT_ICU_CALLS = `
  globalThis.icuCalls = []
  const note = (name) => globalThis.icuCalls.push(name + ' from ' + new Error().stack.split('\\n').slice(3, 6).map((line) => line.trim()).join(' < '))
  const trap = (owner, key, label) => {
    const original = owner[key]
    owner[key] = function (...args) { note(label); return original.apply(this, args) }
  }
  for (const key of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString', 'toString']) trap(Date.prototype, key, 'Date.prototype.' + key)
  for (const key of ['localeCompare', 'toLocaleLowerCase', 'toLocaleUpperCase', 'normalize']) trap(String.prototype, key, 'String.prototype.' + key)
  trap(Number.prototype, 'toLocaleString', 'Number.prototype.toLocaleString')
  trap(BigInt.prototype, 'toLocaleString', 'BigInt.prototype.toLocaleString')
  trap(Array.prototype, 'toLocaleString', 'Array.prototype.toLocaleString')
  for (const key of Object.getOwnPropertyNames(Intl)) {
    if (typeof Intl[key] !== 'function') continue
    Intl[key] = new Proxy(Intl[key], {
      construct (target, args, newTarget) { note('Intl.' + key); return Reflect.construct(target, args, newTarget) },
      apply (target, self, args) { note('Intl.' + key); return Reflect.apply(target, self, args) }
    })
  }`

t.test('serving reads calls nothing that pages in ICU data', async (t) => {
  const url = await probeDatabaseUrl(t)
  if (url === undefined) return
  const output = runInFreshProcess(`
    ${REPORT_ICU_CALLS}
    ${START_APP_AT_PROBE_URL}
    const { seedDemo } = await import('./src/demo/seed-demo.ts')
    const atStartup = globalThis.icuCalls.splice(0)
    await seedDemo(app.db)
    globalThis.icuCalls.length = 0 // the demo's own writes are not the read path
    const statuses = {}
    const get = async (url, headers = {}) => {
      const response = await app.inject({ url, headers })
      statuses[url] = response.statusCode
      return response
    }
    const post = (await get('/v1/posts?limit=1&blog=under-the-black-flag')).json().data[0]
    const author = post.authors[0].slug
    const tag = post.tags[0].slug
    for (const url of [
      '/v1/posts', '/v1/posts?q=flag', '/v1/posts?count=estimate', '/v1/posts/' + post.id, '/v1/posts/' + post.id + '/news-article',
      '/v1/blogs', '/v1/blogs/under-the-black-flag', '/v1/blogs/under-the-black-flag/posts/' + post.slug,
      '/v1/blogs/under-the-black-flag/posts', '/v1/blogs/under-the-black-flag/feed', '/v1/blogs/under-the-black-flag/feed?format=atom',
      '/v1/authors', '/v1/authors/' + author, '/v1/authors/' + author + '/posts', '/v1/authors/' + author + '/feed',
      '/v1/tags', '/v1/tags/' + tag, '/v1/tags/' + tag + '/posts', '/v1/tags/' + tag + '/feed?format=json',
      '/v1/feeds/latest', '/v1/feeds/latest?format=rss', '/v1/feeds/latest?format=atom', '/v1/feeds/latest?format=json', '/v1/feeds/breaking',
      '/v1/sitemap.xml', '/v1/news-sitemap.xml', '/v1/blogs/under-the-black-flag/sitemap.xml', '/v1/blogs/under-the-black-flag/news-sitemap.xml',
      '/openapi.json', '/healthz', '/readyz'
    ]) await get(url)
    await get('/v1/feeds/latest', { 'accept-encoding': 'br' })
    await get('/v1/posts', { 'accept-encoding': 'gzip' })
    await app.close()
    await database.close()
    process.stdout.write(JSON.stringify({ statuses, atStartup, icuCalls: globalThis.icuCalls }))`, { PROBE_URL: url })
  const { statuses, atStartup, icuCalls } = JSON.parse(output) as { statuses: Record<string, number>, atStartup: string[], icuCalls: string[] }
  t.same(atStartup, [], 'no ICU entry point was called while the application loaded and started')
  t.same(Object.entries(statuses).filter(([, status]) => status !== 200), [], 'every read answered 200')
  t.ok(Object.keys(statuses).length >= 30, 'the probe served the reads')
  t.same(icuCalls, [], 'none while it served reads')
})

t.test('the probe sees a call when there is one', async (t) => {
  const output = runInFreshProcess(`
    ${REPORT_ICU_CALLS}
    const { withThousandsSeparators } = await import('./src/content/common/fields.ts')
    process.stdout.write(JSON.stringify([withThousandsSeparators(1000000), (1000000).toLocaleString('en'), 'a'.localeCompare('b'), new Intl.DateTimeFormat('en').resolvedOptions().locale, globalThis.icuCalls.map((call) => call.split(' ')[0])]))`)
  t.same(JSON.parse(output), ['1,000,000', '1,000,000', -1, 'en', ['Number.prototype.toLocaleString', 'String.prototype.localeCompare', 'Intl.DateTimeFormat']])
})

t.test('withThousandsSeparators writes what toLocaleString(\'en\') writes', async (t) => {
  const { withThousandsSeparators } = await import('../src/content/common/fields.ts')
  for (const value of [0, 7, 12, 999, 1000, 12_345, 100_000, 999_999, 1_000_000, 12_345_678, Number.MAX_SAFE_INTEGER]) {
    t.equal(withThousandsSeparators(value), value.toLocaleString('en'), String(value))
  }
})
