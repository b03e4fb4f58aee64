import { connect, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { SLOW_REQUEST_CHECK_MS } from '../../src/app.ts'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { buildTestApp, type TestApp } from '../helpers/test-app.ts'

// A client that sends its request too slowly (slowloris: headers a few bytes at a time and never
// their end; or a body that never completes) gets a 408 problem and loses its connection soon
// after REQUEST_TIMEOUT_MS, while other clients are answered. Over real sockets: Node's own
// timers do it. slowhttptest, run by hand against the compiled API with 4,000 such clients,
// found them held up to 30 s past the limit (Node looked for them every 30 s).

const REQUEST_TIMEOUT_MS = 1_000

async function listening (app: TestApp['app']): Promise<number> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

/**
 * Connects, writes `head`, then a byte of `drip` every 100 ms until the server closes the
 * connection: what the server sent, and how long after the first byte it closed.
 */
function slowClient (port: number, head: string, drip: string): Promise<{ response: string, closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let startedAt = 0
    let timer: NodeJS.Timeout | undefined
    const socket = connect(port, '127.0.0.1', () => {
      startedAt = performance.now()
      socket.write(head)
      let next = 0
      timer = setInterval(() => {
        if (socket.writable) socket.write(drip[next++ % drip.length] as string)
      }, 100)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // A write racing the server's close may fail; the close is what is waited for.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      if (startedAt === 0) reject(new Error('never connected'))
      resolve({ response: Buffer.concat(chunks).toString('latin1'), closedAfterMs: performance.now() - startedAt })
    })
  })
}

/** Far less than Node's default of 30 s between looks, far more than the limit and a look after it on a busy machine. */
const CUT_OFF_WITHIN_MS = 15_000

function assertCutOff (t: Test, client: { response: string, closedAfterMs: number }): void {
  t.match(client.response, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'a 408')
  t.match(client.response, /\r\nContent-Type: application\/problem\+json\r\n/)
  t.match(client.response, /"code":"request_timeout"/, 'naming what went wrong')
  t.ok(client.closedAfterMs >= REQUEST_TIMEOUT_MS * 0.9, `not before the limit (${Math.round(client.closedAfterMs)} ms)`)
  t.ok(client.closedAfterMs < CUT_OFF_WITHIN_MS, `soon after it (${Math.round(client.closedAfterMs)} ms; looked for every ${SLOW_REQUEST_CHECK_MS} ms)`)
}

t.test('headers sent a byte at a time, never ending, get a 408 and lose the connection soon after the limit', async (t) => {
  const { app } = await buildTestApp(t, { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) })
  const port = await listening(app)
  const slow = Array.from({ length: 20 }, () => slowClient(port, 'GET /v1/blogs HTTP/1.1\r\nHost: api.test\r\n', 'X-Slow: abcdefghij\r\n'))
  // Meanwhile, over a connection of its own, another client is answered.
  const answered = await fetch(`http://127.0.0.1:${port}/v1/blogs`)
  t.equal(answered.status, 200, 'others are answered while the slow ones hold their connections')
  for (const client of await Promise.all(slow)) assertCutOff(t, client)
})

t.test('a body that never completes gets a 408, and nothing of it is written', async (t) => {
  const { app } = await buildTestApp(t, { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) })
  const port = await listening(app)
  const key = await newApiKey(app.db, ['content:write'])
  const blog = await newBlog(app.db)
  const body = JSON.stringify({ blog: blog.slug, title: 'Never finished', status: 'published' })
  const head = 'POST /v1/posts HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n' +
    `Authorization: Bearer ${key}\r\nContent-Length: ${body.length + 100_000}\r\n\r\n${body}`
  const client = await slowClient(port, head, ' ')
  assertCutOff(t, client)
  const posts = await app.inject({ url: `/v1/posts?blog=${blog.slug}`, headers: { authorization: `Bearer ${key}` } })
  t.equal(posts.statusCode, 200)
  t.same(posts.json().data, [], 'no post was made')
})
