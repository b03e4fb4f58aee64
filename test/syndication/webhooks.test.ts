import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { claimDueDeliveries, insertWebhook } from '../../src/syndication/webhooks/webhooks.repository.ts'
import { deliverDue, fanOut, pruneOldDeliveries, retryDelay } from '../../src/syndication/webhooks/dispatcher.ts'
import { isInternalAddress, refusedTarget, type Resolver } from '../../src/syndication/webhooks/targets.ts'
import { uuidv7 } from 'uuidv7'
import pino from 'pino'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

const ENV = {
  RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000',
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_MAX_ATTEMPTS: '5'
}

/** A receiver on 127.0.0.1 that answers with the statuses given, in turn, then 200. */
async function receiver (t: Test, statuses: number[] = []) {
  const received: Array<{ headers: IncomingHttpHeaders, body: string, answered: number }> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => {
      const answered = statuses.shift() ?? 200
      received.push({ headers: req.headers, body, answered })
      res.writeHead(answered).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

async function until (check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

t.test('a signed event reaches a receiver that fails twice, exactly once as a success, with a delivery log', async (t) => {
  const { app } = await buildTestApp(t, ENV, { backgroundJobs: true })
  const admin = await newApiKey(app.db, ['admin'])
  const auth = { authorization: `Bearer ${admin}` }
  const target = await receiver(t, [500, 500])
  const created = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: { url: target.url, event_types: ['post.published'] } })
  t.equal(created.statusCode, 201)
  const { id, secret } = created.json().data
  t.match(secret, /^whsec_/)
  t.notOk((await app.inject({ url: `/v1/webhooks/${id}`, headers: auth })).body.includes(secret), 'the secret is shown once')

  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth, payload: { title: 'Hooks', slug: 'hooks' } })
  const post = (await app.inject({ method: 'POST', url: '/v1/posts', headers: auth, payload: { blog: 'hooks', title: 'Hello partners', status: 'published' } })).json().data
  await until(() => target.received.some((r) => r.answered === 200))

  t.same(target.received.map((r) => r.answered), [500, 500, 200], 'retried after each failure')
  const verifier = new Webhook(secret)
  for (const attempt of target.received) {
    const event = verifier.verify(attempt.body, attempt.headers as Record<string, string>) as { type: string, data: { id: string, title: string } }
    t.equal(event.type, 'post.published')
    t.equal(event.data.id, post.id)
    t.equal(event.data.title, 'Hello partners')
  }
  t.equal(new Set(target.received.map((r) => r.headers['webhook-id'])).size, 1, 'one delivery id across attempts')
  t.throws(() => verifier.verify(target.received[0]!.body + ' ', target.received[0]!.headers as Record<string, string>), 'a changed body fails verification')

  // The receiver has the 200 a moment before the dispatcher records it (seen on a busy machine).
  const deliveries = async () => (await app.inject({ url: `/v1/webhooks/${id}/deliveries`, headers: auth })).json().data
  await until(async () => (await deliveries())[0]?.status !== 'pending')
  const log = await deliveries()
  t.equal(log.length, 1)
  t.match(log[0], { event: 'post.published', status: 'succeeded', attempts: 3, last_status_code: 200, last_error: null })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(target.received.filter((r) => r.answered === 200).length, 1, 'exactly one success')

  // Sending again on request.
  const retried = await app.inject({ method: 'POST', url: `/v1/webhooks/${id}/deliveries/${log[0].id}/retry`, headers: auth })
  t.equal(retried.statusCode, 202)
  await until(() => target.received.length === 4)
  t.equal(target.received[3]!.headers['webhook-id'], log[0].id)
})

t.test('events filter, failures end as failed, deleting a webhook stops it', async (t) => {
  const { app } = await buildTestApp(t, { ...ENV, WEBHOOK_MAX_ATTEMPTS: '2' })
  const admin = await newApiKey(app.db, ['admin'])
  const auth = { authorization: `Bearer ${admin}` }
  const target = await receiver(t, [503, 503, 503])
  const blogsOnly = (await app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: { url: target.url, event_types: ['blog.*'] } })).json().data
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth, payload: { title: 'Only blogs', slug: 'ob' } })
  await app.inject({ method: 'POST', url: '/v1/posts', headers: auth, payload: { blog: 'ob', title: 'Ignored', status: 'published' } })
  t.equal(await fanOut(app.db, app.config), 1, 'one delivery: the blog, not the post')
  for (let i = 0; i < 2; i++) {
    await deliverDue(app.db, app.config.webhooks)
    await app.db.updateTable('webhook_deliveries').set({ next_attempt_at: new Date(0) }).where('status', '=', 'pending').execute()
  }
  const log = (await app.inject({ url: `/v1/webhooks/${blogsOnly.id}/deliveries`, headers: auth })).json().data
  t.match(log, [{ event: 'blog.created', status: 'failed', attempts: 2, last_status_code: 503 }])
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/webhooks/${blogsOnly.id}`, headers: auth })).statusCode, 204)
  t.equal((await app.inject({ url: `/v1/webhooks/${blogsOnly.id}`, headers: auth })).statusCode, 404)
  for (const payload of [{ url: 'ftp://x', event_types: ['*'] }, { url: target.url, event_types: [] }, { url: target.url, event_types: ['post.exploded'] }, { url: target.url, event_types: ['*'], secret: 'mine' }]) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload })).statusCode, 400, JSON.stringify(payload))
  }
  t.ok(retryDelay(1, 1000) >= 500 && retryDelay(1, 1000) <= 1000)
  t.ok(retryDelay(5, 1000) >= 8000 && retryDelay(5, 1000) <= 16000, 'exponential, with jitter')
})

t.test('private and loopback targets are refused unless the operator allows them', async (t) => {
  const { app } = await buildTestApp(t, { ...ENV, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' })
  const admin = await newApiKey(app.db, ['admin'])
  for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://192.168.0.10/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://[fd00::1]/x']) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${admin}` }, payload: { url, event_types: ['*'] } })
    t.equal(res.statusCode, 422, url)
    t.equal(res.json().code, 'webhook_target_refused')
  }
  t.ok(isInternalAddress('172.20.0.1'))
  t.notOk(isInternalAddress('93.184.216.34'))
  t.ok(isInternalAddress('::ffff:127.0.0.1'))
  t.notOk(isInternalAddress('2606:4700::1111'))
})

t.test('restarting the API mid-way loses no delivery', async (t) => {
  const first = await buildTestApp(t, ENV)
  const { app, testDb } = first
  const admin = await newApiKey(app.db, ['admin'])
  const auth = { authorization: `Bearer ${admin}` }
  const target = await receiver(t)
  await app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: { url: target.url, event_types: ['*'] } })
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth, payload: { title: 'R', slug: 'r' } })
  await app.inject({ method: 'POST', url: '/v1/posts', headers: auth, payload: { blog: 'r', title: 'Before the crash', status: 'published' } })
  // Process one fans out and claims the deliveries, then dies before sending (no answer recorded).
  await fanOut(app.db, app.config)
  const claimed = await claimDueDeliveries(app.db, 10, 200)
  t.equal(claimed.length, 2)
  await app.close()
  t.equal(target.received.length, 0)

  // Process two starts on the same database: once the lease runs out, it delivers everything.
  const config = loadConfig({ ...ENV, PUBLIC_BASE_URL: 'http://api.test', LOG_LEVEL: 'silent' })
  const second = await buildApp({ config, database: testDb.database, logger: pino({ level: 'silent' }), backgroundJobs: true })
  t.teardown(() => second.close())
  await second.ready()
  await until(() => target.received.length >= 2)
  t.same(target.received.map((r) => JSON.parse(r.body).type).sort(), ['blog.created', 'post.published'])
})

t.test('webhook targets: the address checked is the address connected to (DNS rebinding), and every special-purpose range is refused', async (t) => {
  const { app } = await buildTestApp(t, { ...ENV, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' })
  const admin = await newApiKey(app.db, ['admin'])
  const target = await receiver(t)
  const port = new URL(target.url).port
  const url = `http://rebind.example:${port}/hook`
  // A resolver that answers a public address the first time and loopback after that.
  const calls: string[] = []
  const rebinding: Resolver = (hostname, _options, callback) => {
    calls.push(hostname)
    callback(null, [calls.length === 1 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 }])
  }
  t.equal(await refusedTarget(url, false, rebinding), undefined, 'accepted when it was checked (public answer)')
  await insertWebhook(app.db, { id: uuidv7(), url, description: '', event_types: ['*'], secret: 'whsec_' + Buffer.alloc(24).toString('base64'), is_active: true })
  await app.inject({ method: 'POST', url: '/v1/blogs', headers: { authorization: `Bearer ${admin}` }, payload: { title: 'Rebound', slug: 'rebound' } })
  t.equal(await fanOut(app.db, app.config), 1)
  t.equal(await deliverDue(app.db, app.config.webhooks, { resolver: rebinding }), 1)
  t.equal(target.received.length, 0, 'nothing reached the loopback listener')
  t.same(calls, ['rebind.example', 'rebind.example'], 'one lookup at creation, one for the connection itself: no second lookup to slip past')
  const [delivery] = await app.db.selectFrom('webhook_deliveries').select(['last_status_code', 'last_error', 'status']).execute()
  t.equal(delivery?.last_status_code, null, 'the delivery log shows no status from the internal service')
  t.match(delivery?.last_error, /private or loopback/)

  // The same resolver is what the connection uses: allowed private targets, the delivery arrives.
  const loopback: Resolver = (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }])
  await app.db.updateTable('webhook_deliveries').set({ next_attempt_at: new Date(0) }).execute()
  t.equal(await deliverDue(app.db, { ...app.config.webhooks, allowPrivateTargets: true }, { resolver: loopback }), 1)
  t.equal(target.received.length, 1, 'delivered through the stub resolver\'s answer')

  for (const address of ['127.0.0.1', '10.0.0.1', '100.64.0.1', '169.254.169.254', '192.0.0.8', '192.0.2.1', '198.18.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1',
    '::', '::1', '::7f00:1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '64:ff9b:1::a00:1', '2002:7f00:1::1', '2001::1', '2001:db8::1', 'fe80::1', 'fc00::1', 'ff02::1', 'not-an-address']) {
    t.ok(isInternalAddress(address), `${address} is refused`)
    const literal = address.includes(':') ? `[${address}]` : address
    if (address !== 'not-an-address') t.equal(await refusedTarget(`http://${literal}/x`, false), 'the target is a private or loopback address', `http://${literal}/x refused`)
  }
  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '2a00:1450:4001::1']) t.notOk(isInternalAddress(address), `${address} is public`)
})

t.test('finished deliveries go after WEBHOOK_DELIVERY_RETENTION_DAYS, pending ones stay; every process prunes at start', async (t) => {
  const first = await buildTestApp(t, ENV)
  const { app } = first
  const admin = await newApiKey(app.db, ['admin'])
  const auth = { authorization: `Bearer ${admin}` }
  const hook = (await app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: { url: 'http://127.0.0.1:9/in', event_types: ['*'] } })).json().data as { id: string }
  for (const slug of ['one', 'two', 'three']) await app.inject({ method: 'POST', url: '/v1/blogs', headers: auth, payload: { title: slug, slug } })
  t.equal(await fanOut(app.db, app.config), 3)
  const deliveries = async () => ((await app.inject({ url: `/v1/webhooks/${hook.id}/deliveries`, headers: auth })).json().data as Array<{ id: string, status: string }>)
  const [a, b] = (await deliveries()).map((delivery) => delivery.id)
  await app.db.updateTable('webhook_deliveries').set({ status: 'succeeded' }).where('id', '=', a!).execute()
  await app.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('id', '=', b!).execute()

  t.equal(await pruneOldDeliveries(app.db, 86_400_000), 0, 'none is a day old')
  t.equal(await pruneOldDeliveries(app.db, -60_000), 2, 'made before the bound: the two finished ones go')
  t.same((await deliveries()).map((delivery) => delivery.status), ['pending'], 'the pending one stays')

  await app.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('status', '=', 'pending').execute()
  // A process with its background loops and a retention of 0 days prunes as it starts.
  const second = await buildTestApp(t, { ...ENV, WEBHOOK_DELIVERY_RETENTION_DAYS: '0' }, { backgroundJobs: true, sameDatabaseAs: first })
  await second.app.ready()
  const deadline = Date.now() + 30_000
  while ((await deliveries()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(await deliveries(), [], 'pruned')
})
