import Fastify from 'fastify'

// The yardstick: a bare Fastify 5 process that answers every GET with fixed bytes, the same bytes
// (status, every header but framing, body) the API gave for the scenario being measured. The
// runner sets them with PUT /__response before each scenario. Whatever the API costs beyond this
// is ours.

const app = Fastify({ logger: false })
let response = { status: 200, headers: {} as Record<string, string>, body: Buffer.alloc(0) }

app.put('/__response', async (request) => {
  const next = request.body as { status: number, headers: Array<[string, string]>, bodyBase64: string }
  response = { status: next.status, headers: Object.fromEntries(next.headers), body: Buffer.from(next.bodyBase64, 'base64') }
  return { ok: true }
})
app.get('/*', async (_request, reply) => {
  reply.code(response.status).headers(response.headers)
  if (response.status === 304) return reply.send()
  return reply.send(response.body)
})

await app.listen({ port: Number(process.env.PORT ?? 3900), host: '127.0.0.1' })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
