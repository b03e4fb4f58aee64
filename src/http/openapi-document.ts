import { STATUS_CODES } from 'node:http'
import { PROBLEM_DESCRIPTIONS } from './errors.ts'
import { mediaTypesTaken } from './media-types.ts'

// What the Zod schemas cannot say about the API, added to the generated OpenAPI document in
// one place so that every operation says it the same way: the statuses any route can answer
// (from its access rule and method), the headers that come with them, booleans in query strings,
// and none of the noise a JSON Schema generator adds (safe-integer bounds, date-time regexes)
// that typed-client generators and Swagger UI turn into nonsense.

type Json = Record<string, unknown>
interface RequestBody { required?: boolean, content?: Record<string, { schema?: Json }> }
interface Operation { responses?: Record<string, Json>, parameters?: Json[], requestBody?: RequestBody, security?: Json[], 'x-access'?: string, 'x-idempotent'?: boolean }

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }
const GHOST_ERROR = { 'application/json': { schema: { $ref: '#/components/schemas/GhostError' } } }
const header = (description: string, type = 'string') => ({ description, schema: { type } })

const RATE_LIMIT_HEADERS = {
  'ratelimit-limit': header('Requests allowed per minute for this key or client address.', 'integer'),
  'ratelimit-remaining': header('Requests left in the current minute.', 'integer'),
  'ratelimit-reset': header('Seconds until the limit resets.', 'integer')
}

const WWW_AUTHENTICATE = { 'www-authenticate': header('Bearer realm="content-api", with error="invalid_token" when the key given is not valid.') }

/** What an operation that takes an Idempotency-Key (route config `idempotent`, idempotency.ts) adds. */
const IDEMPOTENCY_KEY = {
  in: 'header',
  name: 'Idempotency-Key',
  required: false,
  description: 'Makes a retry safe: a request with the same key and body within 24 hours gets the first one\'s answer back (with Idempotent-Replayed: true) and writes nothing. 1 to 255 visible ASCII characters; a UUID will do.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' }
}
const IDEMPOTENCY_RESPONSES: Record<string, Json> = {
  409: { description: 'A request with this Idempotency-Key is still in progress (code idempotency_in_progress), or the write conflicts with the resource\'s state.', content: PROBLEM },
  422: { description: 'This Idempotency-Key was used for a different request (code idempotency_key_reused), or the request cannot be done.', content: PROBLEM }
}
const REPLAYED = { 'idempotent-replayed': header('true when this is the stored answer to an earlier request with the same Idempotency-Key.') }

/** Statuses every operation can answer, from its access level, method and parameters, whatever it does. */
function standardResponses (access: string, method: string, parameters: readonly Json[]): Record<string, Json> {
  const responses: Record<string, Json> = {}
  // A parameter has a schema, and a value outside it (a path id past its length) is a 400.
  if (parameters.length > 0) responses[400] = { description: PROBLEM_DESCRIPTIONS[400], content: access === 'query-key' ? GHOST_ERROR : PROBLEM }
  // Every GET sends an ETag (http/caching.ts), so any of them can be revalidated.
  if (method === 'get') {
    responses[304] = {
      description: 'Not Modified: the If-None-Match (ETag) or If-Modified-Since the client sent still holds; reuse the copy it has.',
      headers: { etag: header('The version of the response.'), 'cache-control': header('How long the copy may be reused.') }
    }
  }
  // Fastify reads the body of these methods before any route does, whether the route takes one or not.
  if (method === 'post' || method === 'put' || method === 'patch') {
    responses[400] = { description: PROBLEM_DESCRIPTIONS[400], content: PROBLEM }
    responses[413] = { description: PROBLEM_DESCRIPTIONS[413], content: PROBLEM }
    const taken = mediaTypesTaken(method).list
    const accept = { accept: header(`The media types a body may have here: ${taken}.`) }
    responses[415] = {
      description: PROBLEM_DESCRIPTIONS[415],
      headers: method === 'patch' ? { ...accept, 'accept-patch': header(`The patch formats taken (RFC 5789): ${taken}.`) } : accept,
      content: PROBLEM
    }
  }
  // Ghost's routes (their own key in the query) answer in Ghost's error format.
  if (access === 'query-key') {
    responses[429] = { description: 'Too many requests from this client address; retry after the time given.', headers: { 'retry-after': header('Seconds to wait.', 'integer'), ...RATE_LIMIT_HEADERS }, content: GHOST_ERROR }
    responses[503] = { description: 'The API is overloaded or its database is unreachable. Retry after the time given.', headers: { 'retry-after': header('Seconds to wait.', 'integer') }, content: GHOST_ERROR }
  }
  // The probes take no key, are never metered and never shed; Ghost's routes document their own key errors.
  if (access === 'none' || access === 'query-key') return responses
  return {
    ...responses,
    401: { description: 'No key where one is needed (PUBLIC_READ=false, or a scoped operation), or the key sent is unknown, malformed or revoked.', headers: WWW_AUTHENTICATE, content: PROBLEM },
    403: { description: 'The key lacks the scope the operation (or a parameter such as status= or visibility=all) needs.', content: PROBLEM },
    429: { description: 'Too many requests from this key or client address (or too many failed keys); retry after the time given.', headers: { 'retry-after': header('Seconds to wait.', 'integer'), ...RATE_LIMIT_HEADERS }, content: PROBLEM },
    503: { description: 'The API is overloaded or its database is unreachable; nothing was done. Retry after the time given.', headers: { 'retry-after': header('Seconds to wait.', 'integer') }, content: PROBLEM }
  }
}

function operations (document: Json): Array<[string, Operation]> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>
  return Object.values(paths).flatMap((item) => Object.entries(item))
}

/** Adds the statuses and headers every operation shares; keeps what a route documents itself. */
export function withStandardResponses (document: Json): Json {
  for (const [method, operation] of operations(document)) {
    const access = operation['x-access']
    if (access === undefined) continue
    // A scoped operation needs a key; a public one takes one (PUBLIC_READ=false, higher limits,
    // previews); the health checks take none, said with an empty list (an operation without
    // `security` leaves it unsaid, as linters point out).
    operation.security ??= access === 'none' ? [] : access === 'public' ? [{}, { bearerAuth: [] }] : access === 'query-key' ? [{ ghostContentKey: [] }] : [{ bearerAuth: [] }]
    const responses = operation.responses ?? (operation.responses = {})
    // A PATCH body is a JSON Merge Patch, taken with its own media type too (media-types.ts).
    const json = operation.requestBody?.content?.['application/json']
    if (method === 'patch' && json !== undefined && operation.requestBody !== undefined) {
      operation.requestBody.content = { 'application/json': json, 'application/merge-patch+json': json }
    }
    if (operation['x-idempotent'] === true) {
      operation.parameters = [...operation.parameters ?? [], IDEMPOTENCY_KEY]
      for (const [status, response] of Object.entries(IDEMPOTENCY_RESPONSES)) responses[status] ??= response
      for (const [status, response] of Object.entries(responses)) if (status.startsWith('2')) response.headers = { ...(response.headers as Json | undefined), ...REPLAYED }
      delete operation['x-idempotent']
    }
    for (const [status, response] of Object.entries(standardResponses(access, method, operation.parameters ?? []))) {
      responses[status] = { ...response, ...responses[status], headers: response.headers }
      if (responses[status].headers === undefined) delete responses[status].headers
    }
    // Every successful public read carries the rate-limit headers too.
    for (const [status, response] of Object.entries(responses)) {
      if (status.startsWith('2') && access !== 'none' && access !== 'query-key') response.headers = { ...RATE_LIMIT_HEADERS, ...(response.headers as Json | undefined) }
      if (response.description === undefined) response.description = STATUS_CODES[Number(status)] ?? 'Response'
    }
    operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a < b ? -1 : 1))
  }
  return document
}

/**
 * A body a route may go without (its Zod schema `.nullish()`) comes out as a required body that
 * may be JSON null, so typed clients (openapi-typescript, Hey API) made every caller send one:
 * it becomes what it is, a body that is not required, of the schema alone.
 */
export function withOptionalBodies (document: Json): Json {
  for (const [, operation] of operations(document)) {
    const body = operation.requestBody
    const json = body?.content?.['application/json']
    const branches = json?.schema?.anyOf as Json[] | undefined
    if (body === undefined || json?.schema === undefined || branches === undefined) continue
    const present = branches.filter((branch) => branch.type !== 'null')
    if (present.length === branches.length || present.length !== 1) continue
    const { anyOf: _anyOf, ...rest } = json.schema
    json.schema = { ...rest, ...present[0] }
    body.required = false
  }
  return document
}

/**
 * A list parameter (`x-query-list`, content/common/query-params.ts) comes out of Zod as "a string
 * or an array of strings"; it becomes what OpenAPI calls a comma-separated list: an array of its
 * items (their enum, pattern or format), `style: form, explode: false`. The API takes repeated
 * parameters too, which the form with `explode: true` would be; a document can say only one.
 */
export function withListParameters (document: Json): Json {
  for (const [, operation] of operations(document)) {
    for (const parameter of operation.parameters ?? []) {
      const schema = parameter.schema as Json | undefined
      const list = schema?.['x-query-list'] as { items: Json, maxItems: number } | undefined
      if (schema === undefined || list === undefined) continue
      // The example sits on the string branch, written as a client sends it: `a,b`.
      const branches = (schema.anyOf ?? []) as Json[]
      const example = branches.flatMap((branch) => (branch.examples ?? []) as unknown[]).find((value) => typeof value === 'string')
      parameter.schema = {
        ...(schema.description === undefined ? {} : { description: schema.description }),
        type: 'array',
        items: list.items,
        minItems: 1,
        maxItems: list.maxItems,
        ...(example === undefined ? {} : { examples: [example.split(',')] })
      }
      parameter.style = 'form'
      parameter.explode = false
    }
  }
  return document
}

const SAFE_INTEGER = 9007199254740991

/**
 * Walks every schema in the document: query booleans (sent as the text true or false, marked
 * `x-query-boolean` by their Zod schema) become `type: boolean`, which typed clients send the
 * same way; safe-integer bounds and the regexes behind `format: date-time`/`uuid` go, as the
 * format says it.
 */
export function withPlainSchemas (document: Json): Json {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit)
    if (value === null || typeof value !== 'object') return value
    const node = value as Json
    if (node['x-query-boolean'] === true) {
      return { type: 'boolean', ...(node.description === undefined ? {} : { description: node.description }) }
    }
    const out: Json = {}
    for (const [key, child] of Object.entries(node)) {
      if ((key === 'minimum' && child === -SAFE_INTEGER) || (key === 'maximum' && child === SAFE_INTEGER)) continue
      if (key === 'pattern' && (node.format === 'date-time' || node.format === 'uuid')) continue
      out[key] = visit(child)
    }
    return out
  }
  return visit(document) as Json
}
