import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { splitApiKey } from '../../src/access/api-keys/api-key-secret.ts'

const LIMITS = { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', RATE_LIMIT_WRITE: '100000' }

t.test('admin routes: create shows the key once, list never shows secrets, revoke stops the key at once', async (t) => {
  const { app, logs } = await buildTestApp(t, LIMITS)
  const admin = await newApiKey(app.db, ['admin'])
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })

  const created = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: auth(admin), payload: { name: 'Partner feed', scopes: ['content:read'] } })
  t.equal(created.statusCode, 201)
  const { key, id, prefix, scopes } = created.json().data
  t.match(key, new RegExp(`^${prefix}_[A-Za-z0-9_-]{43}$`))
  t.same(scopes, ['content:read'])
  t.equal(created.headers['cache-control'], 'no-store')
  const stored = await app.db.selectFrom('api_keys').select(['secret_hash']).where('id', '=', id).executeTakeFirstOrThrow()
  t.notOk(stored.secret_hash.includes(key.slice(prefix.length + 1)), 'only a hash is stored')
  t.match(stored.secret_hash, /^[0-9a-f]{64}$/)

  const listed = await app.inject({ url: '/v1/api-keys', headers: auth(admin) })
  t.equal(listed.statusCode, 200)
  t.notMatch(listed.body, key.slice(prefix.length + 1), 'the list never shows a secret')
  t.equal(listed.headers['cache-control'], 'private, no-store')

  t.equal((await app.inject({ url: '/v1/posts', headers: auth(key) })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: auth(admin) })).statusCode, 200)
  const afterRevoke = await app.inject({ url: '/v1/posts', headers: auth(key) })
  t.equal(afterRevoke.statusCode, 401, 'a revoked key stops working on the next request')
  t.match(afterRevoke.headers['www-authenticate'], /error="invalid_token"/)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: auth(admin) })).statusCode, 404, 'revoking twice')

  for (const bad of ['Bearer', 'Basic dXNlcjpwYXNz', `Bearer ${prefix}_wrongsecretwrongsecretwrongsecretwrong1`, 'Bearer nonsense', `Bearer ${key}x`]) {
    const res = await app.inject({ url: '/v1/posts', headers: { authorization: bad } })
    t.equal(res.statusCode, 401, bad.slice(0, 20))
    t.equal(res.headers['content-type'], 'application/problem+json')
  }
  const bodies = [{ name: '', scopes: ['admin'] }, { name: 'x', scopes: [] }, { name: 'x', scopes: ['root'] }, { name: 'x', scopes: ['admin'], extra: 1 }]
  for (const payload of bodies) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/api-keys', headers: auth(admin), payload })).statusCode, 400, JSON.stringify(payload))
  }
  t.notMatch(JSON.stringify(logs), key.slice(prefix.length + 1), 'no secret in the logs')
  // The whole secret: it is base64url and may hold `_` itself, and a fragment of it (even an
  // empty one) would turn up in any log by chance.
  const adminSecret = splitApiKey(admin)?.secret as string
  t.equal(adminSecret.length, 43)
  t.notMatch(JSON.stringify(logs), adminSecret, 'no secret in the logs')
})

t.test('last_used_at is recorded without a write per request: in a batch, at the latest on close', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const key = await newApiKey(app.db, ['content:read'])
  const [prefix] = key.split('_')
  for (let i = 0; i < 5; i++) await app.inject({ url: '/v1/blogs', headers: { authorization: `Bearer ${key}` } })
  const before = await app.db.selectFrom('api_keys').select('last_used_at').where('prefix', '=', prefix as string).executeTakeFirstOrThrow()
  t.equal(before.last_used_at, null, 'not written on each request')
  await app.close()
  const after = await app.db.selectFrom('api_keys').select('last_used_at').where('prefix', '=', prefix as string).executeTakeFirstOrThrow()
  t.ok(after.last_used_at instanceof Date && Date.now() - after.last_used_at.getTime() < 60_000, 'written when the batch flushed')
})

t.test('a bootstrap admin key from ADMIN_API_KEY works, and is never logged', async (t) => {
  const bootstrap = 'bootstrap01_' + 'S'.repeat(43)
  const { app, logs, testDb } = await buildTestApp(t, { ...LIMITS, ADMIN_API_KEY: bootstrap })
  const { ensureBootstrapKey } = await import('../../src/access/api-keys/api-keys.service.ts')
  await ensureBootstrapKey(testDb.database.db, bootstrap)
  await ensureBootstrapKey(testDb.database.db, bootstrap)
  t.equal((await app.inject({ url: '/v1/api-keys', headers: { authorization: `Bearer ${bootstrap}` } })).statusCode, 200)
  t.notMatch(JSON.stringify(logs), 'SSSSSSSSSS')
})

t.test('the Authorization header as RFC 6750 and 9110 write it: the scheme in any case, one or more spaces', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const admin = await newApiKey(app.db, ['admin'])
  const status = async (authorization: string) => (await app.inject({ url: '/v1/api-keys', headers: { authorization } })).statusCode
  for (const header of [`Bearer ${admin}`, `bearer ${admin}`, `BEARER ${admin}`, `Bearer  ${admin}`, `Bearer    ${admin}`]) t.equal(await status(header), 200, JSON.stringify(header.slice(0, 12)))
  // Not the Bearer scheme, or no single token after it.
  for (const header of [`Bearer\t${admin}`, `Basic ${Buffer.from(`${admin}:`).toString('base64')}`, 'Bearer', `Token ${admin}`, admin, `Bearer ${admin} ${admin}`]) {
    t.equal(await status(header), 401, JSON.stringify(header.slice(0, 12)))
  }
})

t.test('the CLI creates a key and prints it alone on the last line; list and revoke work', { skip: process.env.TEST_DATABASE_URL || process.env.DATABASE_URL ? false : 'the CLI talks to PostgreSQL here; the embedded path is covered by the routes' }, async (t) => {
  const { testDb, app } = await buildTestApp(t, LIMITS)
  const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import=tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH, DATABASE_URL: testDb.url }, timeout: 30_000
  })
  const created = await run(['keys', 'create', '--name', 'From CLI', '--scopes', 'content:read,content:preview'])
  const lines = created.stdout.trim().split('\n')
  const key = lines.at(-1) as string
  t.match(key, /^[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
  t.equal((await app.inject({ url: '/v1/posts?status=draft', headers: { authorization: `Bearer ${key}` } })).statusCode, 200)
  const listed = await run(['keys', 'list'])
  t.match(listed.stdout, /From CLI/)
  t.notMatch(listed.stdout, key.slice(13))
  const id = listed.stdout.split('\n').find((line) => line.includes('From CLI'))?.split('\t')[0] as string
  await run(['keys', 'revoke', id])
  t.equal((await app.inject({ url: '/v1/posts', headers: { authorization: `Bearer ${key}` } })).statusCode, 401)
  const bad = await run(['keys', 'create', '--name', 'x', '--scopes', 'root']).then(() => undefined, (error: { code: number, stderr: string }) => error)
  t.equal(bad?.code, 1)
  t.match(bad?.stderr, /scopes/)
})

t.test('preview: drafts and scheduled posts for content:preview keys only, never publicly cached', async (t) => {
  const { app } = await buildTestApp(t, LIMITS)
  const blog = await newBlog(app.db, { slug: 'pv' })
  const draft = await newPost(app.db, { blogId: blog.id, slug: 'draft-one', status: 'draft' })
  const future = await newPost(app.db, { blogId: blog.id, slug: 'future-one', status: 'scheduled', publishedAt: new Date(Date.now() + 86_400_000) })
  await newPost(app.db, { blogId: blog.id, slug: 'live-one' })
  await newPost(app.db, { blogId: blog.id, slug: 'gone', deletedAt: new Date() })
  const preview = await newApiKey(app.db, ['content:preview'])
  const reader = await newApiKey(app.db, ['content:read'])
  const as = (key: string, url: string) => app.inject({ url, headers: { authorization: `Bearer ${key}` } })

  const all = await as(preview, '/v1/posts')
  t.same(all.json().data.map((p: { slug: string }) => p.slug).sort(), ['draft-one', 'future-one', 'live-one'])
  t.equal(all.headers['cache-control'], 'private, no-store')
  t.same((await as(preview, '/v1/blogs/pv/posts?status=draft,scheduled')).json().data.map((p: { slug: string }) => p.slug).sort(), ['draft-one', 'future-one'])
  t.equal((await as(preview, `/v1/posts/${draft.id}`)).json().data.status, 'draft')
  t.equal((await as(preview, '/v1/blogs/pv/posts/future-one')).json().data.status, 'scheduled')

  t.same((await as(reader, '/v1/posts')).json().data.map((p: { slug: string }) => p.slug), ['live-one'])
  t.equal((await as(reader, `/v1/posts/${future.id}`)).statusCode, 404)
  t.equal((await as(reader, '/v1/posts?status=draft')).statusCode, 403)
  const anonymous = await app.inject({ url: '/v1/posts?status=draft' })
  t.equal(anonymous.statusCode, 401, 'without a key: 401, as for any operation that needs one')
  t.match(anonymous.headers['www-authenticate'], /^Bearer /)
  const publicList = await app.inject({ url: '/v1/posts' })
  t.match(publicList.headers['cache-control'], /^public/)
  t.match(publicList.headers.vary, /Authorization/)

  // Paging through a preview list that mixes drafts (no publish time) with published posts.
  for (let i = 0; i < 7; i++) await newPost(app.db, { blogId: blog.id, status: i % 2 === 0 ? 'draft' : 'published' })
  const seen: string[] = []
  let url: string | null = '/v1/posts?limit=3'
  while (url !== null) {
    const page: { data: Array<{ id: string }>, links: { next: string | null } } = (await as(preview, url)).json()
    seen.push(...page.data.map((p) => p.id))
    url = page.links.next?.replace('http://api.test', '') ?? null
  }
  t.equal(seen.length, 10)
  t.equal(new Set(seen).size, 10, 'every post once')
})

t.test('rate limits: per key or IP, by scope, with RateLimit headers and a 429 problem', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '3', RATE_LIMIT_READ: '5', RATE_LIMIT_WRITE: '7' })
  const reader = await newApiKey(app.db, ['content:read'])
  const statuses = async (count: number, headers: Record<string, string> = {}) => {
    const out: number[] = []
    for (let i = 0; i < count; i++) out.push((await app.inject({ url: '/v1/blogs', headers })).statusCode)
    return out
  }
  const anonymous = await app.inject({ url: '/v1/blogs' })
  t.equal(anonymous.headers['ratelimit-limit'], '3')
  t.equal(anonymous.headers['ratelimit-remaining'], '2')
  t.same(await statuses(3), [200, 200, 429])
  const limited = await app.inject({ url: '/v1/blogs' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.headers['content-type'], 'application/problem+json')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  t.match(limited.json(), { code: 'rate_limited', status: 429 })
  t.same(await statuses(6, { authorization: `Bearer ${reader}` }), [200, 200, 200, 200, 200, 429], 'a key has its own, larger budget')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'probes are never limited')
})

t.test('failed authentication is rate-limited per client: past the limit, 429 before any key is looked up', async (t) => {
  const { app } = await buildTestApp(t, { ...LIMITS, RATE_LIMIT_AUTH_FAILURES: '3' })
  const good = await newApiKey(app.db, ['content:read'])
  const [prefix] = good.split('_')
  const attempt = (authorization: string, remoteAddress = '203.0.113.7') => app.inject({ url: '/v1/blogs', headers: { authorization }, remoteAddress })
  // Every way of failing counts: malformed headers, unknown prefixes, wrong secrets.
  const failures = [`Basic dXNlcjpwYXNz`, `Bearer nope_${'x'.repeat(40)}`, `Bearer ${prefix}_${'w'.repeat(43)}`]
  for (const authorization of failures) t.equal((await attempt(authorization)).statusCode, 401, authorization.slice(0, 20))
  const limited = await attempt(`Bearer ${prefix}_${'z'.repeat(43)}`)
  t.equal(limited.statusCode, 429, 'the next guess is refused')
  t.equal(limited.headers['content-type'], 'application/problem+json')
  t.match(limited.json(), { code: 'too_many_failed_authentications' })
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  t.equal((await attempt(`Bearer ${good}`)).statusCode, 429, 'for a minute that address gets no answer about any key')
  t.equal((await attempt(`Bearer ${good}`, '198.51.100.9')).statusCode, 200, 'another client is not affected')
  t.equal((await app.inject({ url: '/v1/blogs', remoteAddress: '203.0.113.7' })).statusCode, 200, 'reading without a key still works')
})

t.test('forwarded client addresses are believed only from trusted proxies (TRUST_PROXY)', async (t) => {
  const request = (app: Awaited<ReturnType<typeof buildTestApp>>['app'], client: string) =>
    app.inject({ url: '/v1/blogs', remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': client } })

  await t.test('off by default: every client behind the proxy shares the proxy\'s bucket, and a forged header buys nothing', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '2' })
    t.same([(await request(app, '192.0.2.1')).statusCode, (await request(app, '192.0.2.2')).statusCode, (await request(app, '192.0.2.3')).statusCode], [200, 200, 429])
  })
  await t.test('trusting the proxy\'s address: each forwarded client has its own bucket', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '2', TRUST_PROXY: '10.0.0.0/8' })
    t.same([(await request(app, '192.0.2.1')).statusCode, (await request(app, '192.0.2.1')).statusCode, (await request(app, '192.0.2.1')).statusCode], [200, 200, 429])
    t.equal((await request(app, '192.0.2.2')).statusCode, 200, 'another client behind the same proxy')
    // 192.0.2.1 has used its budget; a client that is no trusted proxy claims to be it.
    const direct = await app.inject({ url: '/v1/blogs', remoteAddress: '198.51.100.1', headers: { 'x-forwarded-for': '192.0.2.1' } })
    t.equal(direct.statusCode, 200, 'a client that is not a trusted proxy cannot forge its address (into another\'s bucket)')
  })
  await t.test('a hop count works the same way', async (t) => {
    const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '1', TRUST_PROXY: '1' })
    t.same([(await request(app, '192.0.2.1')).statusCode, (await request(app, '192.0.2.2')).statusCode], [200, 200])
  })
})

const auth = (key: string) => ({ authorization: `Bearer ${key}` })

t.test('the bootstrap key: a revocation survives restarts, and a prefix another key holds is refused at start', async (t) => {
  const { ensureBootstrapKey, BootstrapKeyError } = await import('../../src/access/api-keys/api-keys.service.ts')
  const { prepareDatabase } = await import('../../src/bootstrap.ts')
  const { loadConfig } = await import('../../src/config.ts')
  const bootstrap = 'bootstrap02_' + 'R'.repeat(43)
  const { app, testDb } = await buildTestApp(t, LIMITS)
  t.equal(await ensureBootstrapKey(app.db, bootstrap), 'created')
  t.equal(await ensureBootstrapKey(app.db, bootstrap), 'active', 'a second start finds it')
  const listed = (await app.inject({ url: '/v1/api-keys', headers: auth(bootstrap) })).json().data as Array<{ id: string, prefix: string }>
  const own = listed.find((k) => k.prefix === 'bootstrap02')
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${own?.id}`, headers: auth(bootstrap) })).statusCode, 200, 'revoked through the API')

  // The process starts again with the same ADMIN_API_KEY.
  if (testDb.url !== undefined) {
    const warnings: Array<Record<string, unknown>> = []
    const log = { info () {}, warn (obj: Record<string, unknown>, msg: string) { warnings.push({ ...obj, msg }) } }
    const database = await prepareDatabase(loadConfig({ DATABASE_URL: testDb.url, ADMIN_API_KEY: bootstrap, SEED_DEMO: 'false' }), log)
    await database.close()
    t.match(warnings, [{ variable: 'ADMIN_API_KEY', msg: /revoked and stays revoked/ }], 'the start warns, naming the variable')
  }
  t.equal(await ensureBootstrapKey(app.db, bootstrap), 'revoked')
  t.equal((await app.inject({ url: '/v1/blogs', headers: auth(bootstrap) })).statusCode, 401, 'the key stays revoked')

  const other = await newApiKey(app.db, ['content:read'])
  const [prefix] = other.split('_')
  await t.rejects(ensureBootstrapKey(app.db, `${prefix}_${'Q'.repeat(43)}`), BootstrapKeyError, 'a prefix that belongs to another key is refused')
  t.equal((await app.inject({ url: '/v1/blogs', headers: auth(other) })).statusCode, 200, 'and that key is untouched')
})
