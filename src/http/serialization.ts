import { isDeepStrictEqual } from 'node:util'
import type { FastifyReply } from 'fastify'
import type { z } from 'zod'
import type { FastifySerializerCompiler } from 'fastify/types/schema.js'
import { createSerializerCompiler } from 'fastify-type-provider-zod'

// Every response has a Zod schema (and the OpenAPI document comes from it). Checking each
// response against it was a tenth of the CPU time of an uncached list (CPU profile, bench/),
// work that can only ever find a bug in our own mappers. So:
// - strict (the default, and what the tests run): the response is encoded by its schema and must
//   come out unchanged, so a mapper that emits a field the schema lacks, or a wrong type, fails
//   the test that reaches it instead of being silently stripped;
// - off (the default with NODE_ENV=production): the mappers' output is serialized as is, which
//   strict mode has proven to be exactly what the schema describes.

export type ResponseValidation = 'strict' | 'off'

type SerializerCompiler = FastifySerializerCompiler<unknown>
type RouteSchema = Parameters<SerializerCompiler>[0]

export function responseSerializerCompiler (mode: ResponseValidation): SerializerCompiler {
  if (mode === 'off') return () => (data) => JSON.stringify(data)
  const encodeBySchema = createSerializerCompiler({}) as unknown as (route: RouteSchema) => (data: unknown) => string
  return (route) => {
    const encode = encodeBySchema(route)
    return (data) => {
      const json = encode(data)
      if (!isDeepStrictEqual(JSON.parse(json), JSON.parse(JSON.stringify(data)))) {
        throw new Error(`Response of ${route.method} ${route.url} holds fields or values its schema does not describe`)
      }
      return json
    }
  }
}

/**
 * JSON that was built as text (a page of posts comes from PostgreSQL as JSON text,
 * post-json.repository.ts), in pieces (a page: the envelope's text around each post's), to be
 * sent as it is: the handler returns the UTF-8 bytes of the pieces joined, with this content
 * type, and serialization is skipped. Strict mode checks the JSON against the schema that
 * documents it, the way it checks serialized objects.
 *
 * Each piece is encoded straight into one buffer. Joining them first made the page a string
 * twice more on the heap (the join, then the envelope around it flattened to be encoded), and a
 * page is a two-byte string as soon as one post has a curly quote or another script: an uncached
 * `/v1/posts` allocated some 260 KB of heap a request (`--trace-gc` under load), over a quarter
 * of it in the handler (V8's sampling heap profiler); now almost none is there, and the API's CPU a page fell 6-23 %
 * (bench/cpu-split.sh, three alternated pairs).
 */
export function jsonPieces (reply: FastifyReply, pieces: readonly string[], schema: z.ZodType): Buffer {
  let length = 0
  for (const piece of pieces) length += Buffer.byteLength(piece)
  const bytes = Buffer.allocUnsafe(length)
  let at = 0
  for (const piece of pieces) at += bytes.write(piece, at)
  if (reply.server.config.responseValidation !== 'off') checkJsonText(reply, bytes.toString('utf8'), schema)
  reply.type('application/json; charset=utf-8')
  return bytes
}

/**
 * `[a,b,c]` as pieces for jsonPieces, each comma a piece of its own: `,${item}` would be a new
 * string as long as the item once it is encoded (V8 flattens the pair first).
 */
export function arrayPieces (items: readonly string[]): string[] {
  const pieces = ['[']
  items.forEach((item, index) => index === 0 ? pieces.push(item) : pieces.push(',', item))
  pieces.push(']')
  return pieces
}

function checkJsonText (reply: FastifyReply, json: string, schema: z.ZodType): void {
  const data: unknown = JSON.parse(json)
  const parsed = schema.safeParse(data)
  if (!parsed.success || !isDeepStrictEqual(JSON.parse(JSON.stringify(parsed.data)), data)) {
    throw new Error(`Response of ${reply.request.method} ${reply.request.url} is not the ${String(schema.meta()?.id ?? 'schema')} it was sent as`)
  }
}

/** `x-response-variants` of an operation: which component a response is, when a parameter changes its shape. */
export function responseVariants (variants: Record<string, string>): { 'x-response-variants': Record<string, { $ref: string }> } {
  return { 'x-response-variants': Object.fromEntries(Object.entries(variants).map(([when, id]) => [when, { $ref: `#/components/schemas/${id}` }])) }
}
