import { sql } from 'kysely'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { NAUGHTY, PROTOTYPE_NAMES } from '../helpers/naughty-strings.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// The Big List of Naughty Strings (test/helpers/naughty-strings.ts) and Object.prototype's names
// as every name and value a client sends in /v1 and Ghost queries and paths. It found Ghost's
// `order=valueOf` and `filter=constructor:x` answered with a 500: field names looked up on plain
// objects found Object.prototype's functions. (As texts editors write: naughty-strings.test.ts.)

t.test('no naughty string or Object.prototype name, as a value or a name in a query or a path, is a 5xx', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000' })
  const ghostKey = (await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')).key
  // Statistics as a server's autovacuum keeps them (this machine's PostgreSQL runs without it).
  await sql`ANALYZE`.execute(app.db)
  const enc = encodeURIComponent
  const nqlQuoted = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`
  let requests = 0
  const failures: string[] = []
  const expectNo5xx = async (url: string, ghost: boolean) => {
    requests++
    const res = await app.inject({ url })
    if (res.statusCode >= 500) failures.push(`${res.statusCode} ${url.slice(0, 160)}: ${res.body.slice(0, 160)}`)
    else if (res.statusCode >= 400) {
      const body = res.json() as { errors?: Array<{ message?: string }>, type?: string, detail?: string }
      const explained = ghost ? typeof body.errors?.[0]?.message === 'string' : typeof body.type === 'string' && typeof body.detail === 'string'
      if (!explained) failures.push(`${res.statusCode} without an explanation: ${url.slice(0, 160)}: ${res.body.slice(0, 160)}`)
    }
  }
  for (const text of [...NAUGHTY, ...PROTOTYPE_NAMES]) {
    for (const name of ['q', 'tag', 'author']) await expectNo5xx(`/v1/posts?${name}=${enc(text)}`, false)
    await expectNo5xx(`/v1/blogs/${enc(text)}/posts/${enc(text)}`, false)
    await expectNo5xx(`/v1/tags/${enc(text)}`, false)
    const ghost = `/ghost/api/content/posts/?key=${ghostKey}`
    await expectNo5xx(`${ghost}&filter=${enc(`tag:${nqlQuoted(text)}`)}`, true)
    await expectNo5xx(`${ghost}&filter=${enc(text)}`, true)
    await expectNo5xx(`${ghost}&order=${enc(text)}`, true)
    await expectNo5xx(`/ghost/api/content/posts/slug/${enc(text)}/?key=${ghostKey}`, true)
  }
  // Object.prototype's names where Ghost's API takes a field's name: a filter's, an order's.
  for (const resource of ['posts', 'pages', 'authors', 'tags']) {
    for (const name of PROTOTYPE_NAMES) {
      for (const [param, value] of [['filter', `${name}:x`], ['order', `${name} asc`]] as const) {
        requests++
        const res = await app.inject({ url: `/ghost/api/content/${resource}/?key=${ghostKey}&${param}=${enc(value)}` })
        if (res.statusCode !== 400 || !(res.json().errors?.[0]?.message as string ?? '').includes(name)) {
          failures.push(`${resource} ${param}=${value}: ${res.statusCode} ${res.body.slice(0, 160)}`)
        }
      }
    }
  }
  t.same(failures, [], `${requests} requests: no 5xx, each 4xx explained; a field named after Object.prototype is a 400 naming it`)
})
