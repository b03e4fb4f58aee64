import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A Ghost key travels in the query string (`?key=`), and the access log writes each request's
// URL. The log masked `key=` as written, while the query parser decodes names: `?%6Bey=<key>`
// was taken as the key and logged whole. Every spelling the parser reads as `key`, and every
// value it takes, is masked; a wrong key as much as a right one.

t.test('a key in the query string reaches no log line, however it is spelled', async (t) => {
  const { app, logs } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_AUTH_FAILURES: '100000' })
  await seedDemo(app.db)
  const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  const wrong = 'f'.repeat(26)
  const spellings = (value: string) => [
    `key=${value}`, `%6Bey=${value}`, `k%65y=${value}`, `%4B%45%59=${value}`, `KEY=${value}`, `key[]=${value}`, `key%5B%5D=${value}`,
    `limit=1&key=${value}`, `key=${value}&key=${value}`, `key=${encodeURIComponent(value).replace(/[0-9a-f]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
    `key+=${value}`, `key=${value}&`, `&&key=${value}`
  ]
  const taken: string[] = []
  for (const path of ['/ghost/api/content/posts/', '/sites/under-the-black-flag/ghost/api/content/tags/', '/v1/posts']) {
    for (const value of [key, wrong]) {
      for (const query of spellings(value)) {
        const res = await app.inject({ url: `${path}?${query}` })
        if (res.statusCode === 200 && value === key && path.includes('/ghost/')) taken.push(query.replace(key, 'K'))
      }
    }
  }
  // The spellings the parser reads as the key are the ones the mask must find.
  t.ok(taken.includes('%6Bey=K') && taken.includes('key=K'), `taken: ${taken.join(' ')}`)
  const logged = JSON.stringify(logs)
  t.notMatch(logged, key, 'the key is in no log line')
  t.notMatch(logged, wrong, 'nor a wrong one')
  t.notMatch(logged, /%(3[0-9]|6[1-6])%/, 'nor the key percent-encoded')
  const urls = logs.map((line) => (line.req as { url?: string } | undefined)?.url).filter((url): url is string => url !== undefined)
  t.ok(urls.length >= 3 * 2 * spellings(key).length, `${urls.length} requests logged with their URL`)
  t.ok(urls.some((url) => url.includes('%6Bey=[redacted]')), 'masked where it was')
  t.ok(urls.some((url) => url.startsWith('/ghost/api/content/posts/?limit=1&key=[redacted]')), 'the rest of the URL kept')
})
