import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance } from 'fastify'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { newApiKey } from './factories.ts'

// What the tests that hold the API's answers to its OpenAPI document share (openapi-responses
// and openapi-parameters): a checker that sends a request and says what the document does not
// say about its answer, the demo world with a key of each kind, and values inside and just
// outside each parameter's schema, read from the document itself.

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020
interface MediaType { schema?: unknown }
export interface Parameter { in: string, name: string, style?: string, explode?: boolean, schema?: ParameterSchema }
interface ParameterSchema { type?: string, format?: string, maxLength?: number, maximum?: number, minimum?: number, enum?: unknown[], pattern?: string, minItems?: number, maxItems?: number, items?: ParameterSchema, anyOf?: ParameterSchema[], examples?: unknown[] }
export interface Operation {
  operationId: string
  parameters?: Parameter[]
  responses: Record<string, { content?: Record<string, MediaType> }>
  'x-response-variants'?: Record<string, { $ref: string }>
}
interface Document { paths: Record<string, Record<string, Operation>> }
interface Sent { method: string, url: string, headers: Record<string, string>, payload?: string, variant?: 'fields' | 'preview' }

const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')
export const HIGH_LIMITS = { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_AUTH_FAILURES: '1000000' }
const NOBODY = '01900000-0000-7000-8000-000000000000'

/** Sends requests and says, for each answer, what the document does not say about it. */
export async function documentChecker (app: FastifyInstance) {
  const document = JSON.parse(await generateOpenApiDocument()) as Document
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  ajv.addSchema(document as object, 'openapi.json')
  const problems: string[] = []
  const seen = new Map<string, number>()

  async function check (path: string, method: string, operation: Operation, sent: Sent): Promise<number> {
    const res = await app.inject({ method: sent.method as 'GET', url: sent.url, headers: sent.headers, ...(sent.payload === undefined ? {} : { payload: sent.payload }) })
    const status = String(res.statusCode)
    seen.set(status, (seen.get(status) ?? 0) + 1)
    const what = `${operation.operationId} ${sent.method} ${sent.url.slice(0, 120)} ${sent.payload?.slice(0, 60) ?? ''} ${JSON.stringify(sent.headers).slice(0, 160)} -> ${status}`
    const response = operation.responses[status]
    if (response === undefined) {
      problems.push(`${what}: status not documented (${res.body.slice(0, 160)})`)
      return res.statusCode
    }
    if (res.statusCode === 304 || res.statusCode === 204) return res.statusCode
    const type = String(res.headers['content-type'] ?? '').split(';')[0] ?? ''
    if (response.content === undefined) {
      if (res.body !== '') problems.push(`${what}: a ${type} body where none is documented`)
      return res.statusCode
    }
    if (response.content[type] === undefined) {
      problems.push(`${what}: Content-Type ${type} not documented (${Object.keys(response.content).join(', ')})`)
      return res.statusCode
    }
    if (!type.endsWith('json')) return res.statusCode
    const variant = res.statusCode === 200 && sent.variant !== undefined ? operation['x-response-variants']?.[sent.variant] : undefined
    const validate = ajv.getSchema(variant !== undefined ? `openapi.json${variant.$ref}` : `openapi.json#/${pointer('paths', path, method, 'responses', status, 'content', type, 'schema')}`)
    if (validate === undefined) problems.push(`${what}: no schema to check against`)
    else if (!validate(JSON.parse(res.body))) problems.push(`${what}: ${ajv.errorsText(validate.errors)} (${res.body.slice(0, 200)})`)
    // What a client with the ETag gets next time.
    if (method === 'get' && typeof res.headers.etag === 'string') {
      const again = await app.inject({ method: 'GET', url: sent.url, headers: { ...sent.headers, 'if-none-match': res.headers.etag } })
      seen.set(String(again.statusCode), (seen.get(String(again.statusCode)) ?? 0) + 1)
      if (operation.responses[String(again.statusCode)] === undefined) problems.push(`${what}, revalidated: ${again.statusCode} not documented`)
    }
    return res.statusCode
  }

  const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })))
  return { check, operations, problems, seen }
}

const BAD_QUERIES = ['', '?limit=abc', '?limit=100000', '?cursor=garbage', '?unknown=1', '?limit=1&limit=2', '?filter=tag:news', '?include=authors,tags&fields=title', '?q=%00', '?format=xml', '?page=-1']
const ACCEPTS = ['application/rss+xml', 'application/atom+xml', 'application/feed+json', 'text/html', 'image/png']

/**
 * Asks each GET operation whose path `paths` takes, for each fill of its parameters and as every
 * kind of caller, with a family of bad queries and Accept headers; says what the document does
 * not describe, and which statuses came up.
 */
export async function checkReads (app: FastifyInstance, paths: (path: string) => boolean): Promise<{ problems: string[], seen: Map<string, number> }> {
  const { check, operations, problems, seen } = await documentChecker(app)
  const { keys, fills, url } = await demoWorld(app)
  for (const { path, method, operation } of operations.filter((operation) => operation.method === 'get' && paths(operation.path))) {
    for (const fill of Object.values(fills)) {
      for (const [caller, key] of Object.entries(keys)) {
        const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
        const variant = caller === 'admin' ? 'preview' as const : undefined
        for (const query of BAD_QUERIES) await check(path, method, operation, { method: 'GET', url: url(path, fill, query), headers: auth, variant: query.includes('fields=') ? 'fields' : variant })
        if (fill === fills.real) for (const accept of ACCEPTS) await check(path, method, operation, { method: 'GET', url: url(path, fill), headers: { ...auth, accept }, variant })
      }
    }
  }
  return { problems, seen }
}

/** Ghost's Content API and its per-site twin (openapi-responses-ghost.test.ts asks their reads). */
export const isGhostPath = (path: string): boolean => path.startsWith('/ghost/') || path.startsWith('/sites/')

/** The statuses seen and how often, for a test's comment. */
export function statusCounts (seen: Map<string, number>): string {
  return [...seen].sort().map(([status, count]) => `${status} ×${count}`).join(', ')
}

/** The demo content, a key of each kind, and the values that fill each path's parameters. */
export async function demoWorld (app: FastifyInstance) {
  await seedDemo(app.db)
  const keys = {
    none: undefined,
    read: await newApiKey(app.db, ['content:read']),
    admin: await newApiKey(app.db, ['admin']),
    invalid: `nokey1_${'x'.repeat(43)}`
  }
  const ghostKey = (await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')).key
  const blog = await app.db.selectFrom('blogs').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const author = await app.db.selectFrom('authors').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const tag = await app.db.selectFrom('tags').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const post = await app.db.selectFrom('posts').select(['slug', 'id']).where('blog_id', '=', blog.id).where('status', '=', 'published').orderBy('id').executeTakeFirstOrThrow()
  await app.db.insertInto('slug_redirects').values([
    { entity_type: 'blog', scope_id: null, old_slug: 'old-blog', target_id: blog.id },
    { entity_type: 'author', scope_id: null, old_slug: 'old-author', target_id: author.id },
    { entity_type: 'tag', scope_id: null, old_slug: 'old-tag', target_id: tag.id },
    { entity_type: 'post', scope_id: blog.id, old_slug: 'old-post', target_id: post.id }
  ]).execute()
  const fills = {
    renamed: { blog: 'old-blog', author: 'old-author', tag: 'old-tag', slug: 'old-post', site: blog.slug, id: post.id, delivery: NOBODY },
    real: { blog: blog.slug, author: author.slug, tag: tag.slug, slug: post.slug, site: blog.slug, id: post.id, delivery: NOBODY },
    missing: { blog: 'nope', author: 'nope', tag: 'nope', slug: 'nope', site: 'nope', id: NOBODY, delivery: NOBODY },
    garbage: { blog: 'NOT A SLUG!', author: '%00', tag: 'x'.repeat(300), slug: '..', site: '%E2%80%A6', id: 'not-a-uuid', delivery: '12' }
  }
  /** A path with its parameters filled; Ghost's reads by id take the id of what they read, and its key. */
  const url = (path: string, fill: Record<string, string>, query = '') => {
    const ghostId = path.includes('/authors/') ? author.id : path.includes('/tags/') ? tag.id : post.id
    const filled = path.replace(/\{(\w+)\}/g, (_whole, name: string) => (path.includes('/ghost/') && name === 'id' && fill === fills.real ? ghostId : fill[name]) ?? 'x')
    if (!path.includes('/ghost/')) return filled + query
    return `${filled}${query === '' ? '?' : `${query}&`}key=${ghostKey}`
  }
  return { keys, fills, url, blog }
}

/** Values a single value's schema refuses, each just past one of its limits. */
function refusedBy (schema: ParameterSchema): string[] {
  const out: string[] = []
  if (schema.maxLength !== undefined) out.push('x'.repeat(schema.maxLength + 1))
  if (schema.maximum !== undefined) out.push(String(schema.maximum + 1))
  if (schema.minimum !== undefined) out.push(String(schema.minimum - 1))
  if (schema.enum !== undefined) out.push('not-one-of-them')
  if (schema.type === 'boolean') out.push('maybe')
  if (schema.format === 'uuid') out.push('0190000-not-a-uuid')
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u')
    const refused = ['NOT VALID!', '\u0001', '2014-13-45', '-'].find((candidate) => !pattern.test(candidate))
    if (refused !== undefined) out.push(refused)
  }
  return out
}

/** A value a list's items schema allows: its first enum word, its example's first item, an id. */
function allowedItem (schema: ParameterSchema): string {
  const example = schema.examples?.[0]
  return String(schema.items?.enum?.[0] ?? (Array.isArray(example) ? example[0] : undefined) ?? (schema.items?.format === 'uuid' ? NOBODY : 'v'))
}

/**
 * For each path and query parameter of an operation, values just outside what its schema in the
 * document allows: a character past its maxLength, one past its maximum or below its minimum,
 * a word outside its enum, a value its pattern or format refuses; for a list, an item more than
 * its maxItems, none at all, and an item its items' schema refuses. Each must be a documented
 * 400: `GET /v1/webhooks/{id}` with 101 characters was a 400 its operation did not list, since
 * the fixed garbage values above never went past that limit.
 */
export function outOfSchemaValues (operation: Operation): Array<{ parameter: Parameter, value: string | string[] }> {
  const out: Array<{ parameter: Parameter, value: string | string[] }> = []
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'path' && parameter.in !== 'query') continue
    const schema = parameter.schema ?? {}
    for (const branch of schema.anyOf ?? [schema]) {
      const add = (value: string | string[]) => out.push({ parameter, value })
      if (branch.type !== 'array' || parameter.in !== 'query') {
        for (const value of refusedBy(branch)) add(value)
        continue
      }
      if (branch.maxItems !== undefined) add(Array.from({ length: branch.maxItems + 1 }, () => allowedItem(branch)))
      if (branch.minItems !== undefined && branch.minItems > 0) add([])
      for (const value of refusedBy(branch.items ?? {})) add([value])
    }
  }
  return out
}

/**
 * For each query parameter, values its schema allows: every word of its enum, its bounds, both
 * booleans, its examples; for a list, each word of its items' enum alone and as many as it
 * takes at once. None may be a 400: the document must not promise more than the API takes
 * (what Schemathesis calls positive data acceptance). The list parameters had said only "a
 * string, or an array of strings".
 */
export function inSchemaValues (operation: Operation): Array<{ parameter: Parameter, value: string | string[] }> {
  const out: Array<{ parameter: Parameter, value: string | string[] }> = []
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'query') continue
    const schema = parameter.schema ?? {}
    const add = (value: string | string[]) => out.push({ parameter, value })
    for (const example of schema.examples ?? []) add(Array.isArray(example) ? example.map(String) : String(example))
    if (schema.type === 'array') {
      const words = (schema.items?.enum ?? []).map(String)
      for (const word of words) add([word])
      if (words.length > 1) add(words.slice(0, schema.maxItems))
      continue
    }
    for (const word of schema.enum ?? []) add(String(word))
    if (schema.type === 'boolean') { add('true'); add('false') }
    if (schema.type === 'integer') {
      if (schema.minimum !== undefined) add(String(schema.minimum))
      if (schema.maximum !== undefined) add(String(schema.maximum))
    }
  }
  return out
}

/** A parameter's value as a query string, in the form its document says: `a,b` for `explode: false`. */
export function queryOf (parameter: Parameter, value: string | string[]): string {
  const pairs: Array<[string, string]> = Array.isArray(value) && parameter.explode === false
    ? [[parameter.name, value.join(',')]]
    : [value].flat().map((item): [string, string] => [parameter.name, item])
  return `?${new URLSearchParams(pairs).toString()}`
}
