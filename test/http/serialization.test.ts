import Fastify from 'fastify'
import t from 'tap'
import { z } from 'zod'
import { jsonPieces, responseSerializerCompiler, type ResponseValidation } from '../../src/http/serialization.ts'

const route = { schema: z.object({ title: z.string(), count: z.number() }), method: 'GET', url: '/v1/things', httpStatus: '200' }

t.test('strict: a response must be exactly what its schema describes', async (t) => {
  const serialize = responseSerializerCompiler('strict')(route as never)
  t.equal(serialize({ title: 'A', count: 1 }), '{"title":"A","count":1}')
  t.throws(() => serialize({ title: 'A', count: 1, secret: 'x' }), /holds fields or values its schema does not describe/, 'an extra field is an error, not silently dropped')
  t.throws(() => serialize({ title: 'A', count: '1' }), 'a wrong type is an error')
})

t.test('off: serialized as is, no checks', async (t) => {
  const serialize = responseSerializerCompiler('off')(route as never)
  t.equal(serialize({ title: 'A', count: 1 }), '{"title":"A","count":1}')
  t.equal(serialize({ title: 'A', extra: true }), '{"title":"A","extra":true}')
})

/** An app whose one route sends `pieces` through jsonPieces, documented as `schema`. */
async function piecesApp (mode: ResponseValidation, pieces: string[], schema: z.ZodType) {
  const app = Fastify()
  app.decorate('config', { responseValidation: mode } as never)
  app.get('/page', async (_request, reply) => jsonPieces(reply, pieces, schema))
  await app.ready()
  return app
}

const Page = z.object({ data: z.array(z.object({ title: z.string() })) })

t.test('jsonPieces sends the UTF-8 bytes of its pieces joined, whatever each piece holds', async (t) => {
  // One-byte, two-byte and astral text, a piece that is only punctuation, an empty one.
  const titles = ['Under The Black Flag', 'Ölpreis — “steigt”', 'Новости', 'أخبار', '速報 🏴‍☠️']
  const pieces = ['{"data":[', ...titles.flatMap((title, i) => [i === 0 ? '' : ',', JSON.stringify({ title })]), ']}']
  const app = await piecesApp('strict', pieces, Page)
  t.teardown(() => app.close())
  const response = await app.inject('/page')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8')
  t.same(response.rawPayload, Buffer.from(pieces.join(''), 'utf8'), 'the very bytes of the joined text')
  t.equal(response.headers['content-length'], String(Buffer.byteLength(pieces.join(''))))
  t.same(response.json(), { data: titles.map((title) => ({ title })) })
})

t.test('jsonPieces in strict mode refuses a document its schema does not describe; off, sends it', async (t) => {
  const pieces = ['{"data":[', '{"title":"A","secret":"x"}', ']}']
  const strict = await piecesApp('strict', pieces, Page)
  t.teardown(() => strict.close())
  const refused = await strict.inject('/page')
  t.equal(refused.statusCode, 500, 'an extra field is an error of ours, not sent')
  t.match(refused.json().message, /Response of GET \/page is not the schema it was sent as/)
  const off = await piecesApp('off', pieces, Page)
  t.teardown(() => off.close())
  t.equal((await off.inject('/page')).body, pieces.join(''))
})
