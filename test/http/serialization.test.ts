import t from 'tap'
import { z } from 'zod'
import { responseSerializerCompiler } from '../../src/http/serialization.ts'

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
