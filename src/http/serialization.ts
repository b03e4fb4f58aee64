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
 * post-json.repository.ts), to be sent as it is: a handler that returns it with this content
 * type skips serialization. Strict mode checks it against the schema that documents it, the way
 * it checks serialized objects.
 */
export function jsonText (reply: FastifyReply, json: string, schema: z.ZodType): string {
  if (reply.server.config.responseValidation !== 'off') {
    const data: unknown = JSON.parse(json)
    const parsed = schema.safeParse(data)
    if (!parsed.success || !isDeepStrictEqual(JSON.parse(JSON.stringify(parsed.data)), data)) {
      throw new Error(`Response of ${reply.request.method} ${reply.request.url} is not the ${String(schema.meta()?.id ?? 'schema')} it was sent as`)
    }
  }
  reply.type('application/json; charset=utf-8')
  return json
}

/** `x-response-variants` of an operation: which component a response is, when a parameter changes its shape. */
export function responseVariants (variants: Record<string, string>): { 'x-response-variants': Record<string, { $ref: string }> } {
  return { 'x-response-variants': Object.fromEntries(Object.entries(variants).map(([when, id]) => [when, { $ref: `#/components/schemas/${id}` }])) }
}
