import Fastify from 'fastify'

// The yardstick: a bare Fastify 5 process that answers every GET with fixed bytes, the same bytes
// (status, content type, ETag) the API gave for the scenario being measured. The runner sets
// them with PUT /__response before each scenario. Whatever the API costs beyond this is ours.

const app = Fastify({ logger: false })
let response = { status: 200, contentType: 'application/json; charset=utf-8', etag: '', body: Buffer.alloc(0) }

app.put('/__response', async (request) => {
  const next = request.body as { status: number, contentType: string, etag: string, bodyBase64: string }
  response = { status: next.status, contentType: next.contentType, etag: next.etag, body: Buffer.from(next.bodyBase64, 'base64') }
  return { ok: true }
})
app.get('/*', async (_request, reply) => {
  reply.code(response.status)
  if (response.etag !== '') reply.header('etag', response.etag)
  if (response.status === 304) return reply.send()
  return reply.type(response.contentType).send(response.body)
})

await app.listen({ port: Number(process.env.PORT ?? 3900), host: '127.0.0.1' })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
