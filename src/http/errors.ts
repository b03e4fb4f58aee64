import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, ResponseSerializationError } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ClientGoneError } from '../db/client-presence.ts'
import { isDatabaseUnavailableError } from '../db/unavailable.ts'
import { Redirect, sendRedirect } from './redirects.ts'
import { mediaTypesTaken } from './media-types.ts'

// RFC 9457 problem details. Every error response of the API has this shape, whatever raised it.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export const InvalidParamSchema = z.object({
  path: z.string().describe('Where the bad value is: query.limit, body.title, params.blog ...'),
  message: z.string()
}).meta({ id: 'InvalidParam', examples: [{ path: 'query.limit', message: 'Too big: expected number to be <=100' }] })

export const ProblemSchema = z.object({
  type: z.string().describe('A URI reference that identifies the problem type.'),
  title: z.string().describe('Short summary of the problem type.'),
  status: z.number().int().describe('The HTTP status code.'),
  detail: z.string().optional().describe('What went wrong in this occurrence.'),
  instance: z.string().optional().describe('The request path.'),
  code: z.string().describe('Stable machine-readable code, e.g. not_found.'),
  request_id: z.string().optional().describe('Echoes X-Request-Id; quote it when reporting a problem.'),
  errors: z.array(InvalidParamSchema).optional().describe('Every invalid parameter, for validation problems.')
}).meta({
  id: 'Problem',
  examples: [{
    type: '/problems/validation-failed',
    title: 'Bad Request',
    status: 400,
    detail: 'The request is not valid: query.limit.',
    instance: '/v1/posts',
    code: 'validation_failed',
    request_id: '5f0c6d1e-8a43-4a8e-9d59-0c6a8e4f2b10',
    errors: [{ path: 'query.limit', message: 'Too small: expected number to be >=1' }]
  }]
})

export type Problem = z.infer<typeof ProblemSchema>

/**
 * The largest request body read, in bytes (Fastify's bodyLimit). The longest post body the
 * schema takes (500,000 UTF-16 units) is 1.5 MB of UTF-8 in Chinese, and 3 MB of JSON from a
 * client that escapes every character past ASCII as \uXXXX (Python's json.dumps by default);
 * at 1 MiB such posts were refused with 413 (test/content/posts/long-bodies.test.ts). Only
 * writes read a body, and a key is checked before the body is read.
 */
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024

export const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'A parameter or the body is not valid; `errors` names each one.',
  401: 'A key is needed, or the key given is not valid.',
  403: 'The key lacks the scope this operation needs.',
  404: 'No such resource.',
  409: 'The request conflicts with the current state of the resource.',
  412: 'The resource changed since the version given in If-Match.',
  413: `The body is larger than ${BODY_LIMIT_BYTES / 1024 / 1024} MiB.`,
  415: 'The body is not of a media type the operation takes; Accept (and, on PATCH, Accept-Patch) names those it does.',
  422: 'The request is well-formed but refers to things that do not exist or cannot be done.',
  429: 'Too many requests; see Retry-After.',
  503: 'The service or its database is unavailable; see Retry-After.'
}

/** Response schemas for error statuses, documented as application/problem+json. */
export function problemResponses<const S extends number> (...statuses: S[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: PROBLEM_DESCRIPTIONS[status] ?? STATUS_CODES[status] ?? 'Error',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } }
  }])) as Record<S, { description: string, content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } } }>
}
export type InvalidParam = z.infer<typeof InvalidParamSchema>

/** The one error type of the application: a status, a stable code and a safe message. */
export class AppError extends Error {
  constructor (
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { errors?: InvalidParam[], headers?: Record<string, string> } = {}
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} was not found.`)
export const badRequest = (code: string, message: string, errors?: InvalidParam[]) =>
  new AppError(400, code, message, errors === undefined ? {} : { errors })

export function problemType (code: string): string {
  return `/problems/${code.replaceAll('_', '-')}`
}

export function sendProblem (request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const body: Problem = {
    type: problemType(error.code),
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    instance: request.url.split('?')[0],
    code: error.code,
    request_id: String(request.id),
    ...(error.extra.errors === undefined ? {} : { errors: error.extra.errors })
  }
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value)
  // An error must never be stored by a shared cache in place of the real resource.
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .type(PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(body)
}

const VALIDATION_CONTEXT: Record<string, string> = { querystring: 'query', params: 'params', body: 'body', headers: 'headers' }

/**
 * A body of a media type the method does not take: 415, naming the ones it does in the detail,
 * in Accept (RFC 9110, 15.5.16) and on PATCH in Accept-Patch (RFC 5789, 3.1), so a client or a
 * generic HTTP library can switch without reading documentation.
 */
export function unsupportedMediaType (request: Pick<FastifyRequest, 'method' | 'headers'>): AppError {
  const { types, list } = mediaTypesTaken(request.method)
  const sent = request.headers['content-type']?.split(';', 1)[0]?.trim().slice(0, 100)
  return new AppError(415, 'unsupported_media_type',
    `${sent === undefined || sent === '' ? 'The body has no Content-Type' : `The body's type, ${sent}, is not one this operation takes`}: send ${types.join(' or ')}.`,
    { headers: request.method === 'PATCH' ? { accept: list, 'accept-patch': list } : { accept: list } })
}

/** Turns whatever was thrown into a problem a client can act on, and hides internals of 5xx. */
export function toAppError (error: unknown, request: Pick<FastifyRequest, 'log' | 'method' | 'headers'>): AppError {
  if (error instanceof AppError) return error
  const log = request.log

  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = VALIDATION_CONTEXT[error.validationContext ?? ''] ?? error.validationContext ?? 'request'
    const errors = error.validation.flatMap((item) => {
      const path = context + item.instancePath.replaceAll('/', '.').replace(/\.$/, '')
      // Unknown keys are reported on the object that holds them; name each key instead.
      const keys = item.keyword === 'unrecognized_keys' ? (item.params as { keys?: string[] }).keys : undefined
      return keys === undefined
        ? [{ path, message: item.message ?? 'is invalid' }]
        : keys.map((key) => ({ path: `${path}.${key}`, message: 'is not a known field' }))
    })
    return new AppError(400, 'validation_failed',
      `The request is not valid: ${errors.map((e) => e.path).join(', ')}.`, { errors })
  }

  if (error instanceof ResponseSerializationError) {
    log.error({ err: error, issues: (error.cause as { issues?: unknown }).issues }, 'response did not match its schema')
    return new AppError(500, 'internal_error', 'An unexpected error occurred.')
  }

  const fastifyError = error as Partial<FastifyError>
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own 4xx errors (bad JSON, wrong media type, body too large) carry messages
    // written for clients; keep them, with a code derived from theirs.
    // Fastify's 413 says "Request body is too large"; ours says how large may be.
    if (status === 415) return unsupportedMediaType(request)
    const message = status === 413 ? PROBLEM_DESCRIPTIONS[413] : fastifyError.message
    return new AppError(status, clientErrorCode(status, fastifyError.code), message ?? STATUS_CODES[status] ?? 'Bad request')
  }

  // The client left before its read reached the database (db/client-presence.ts): nobody reads
  // this answer. The 499 goes nowhere (the socket is closed); the log line says what happened,
  // and db_reads_spared_total counts it.
  if (error instanceof ClientGoneError) {
    log.info('client closed the request before its read reached the database')
    return new AppError(499, 'client_closed_request', 'The client closed the connection before the answer was ready.')
  }

  // A data exception (SQLSTATE class 22: a NUL byte in text, a value out of range) comes from
  // a value the client sent that validation let through; it is the client's to fix.
  const sqlState = (error as { code?: unknown }).code
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    log.warn({ err: error }, 'data exception from a request value')
    return new AppError(400, 'invalid_value', 'A value in the request cannot be stored or compared (for example a NUL character).')
  }

  // Two writers raced for the same slug (or similar): the database's unique index decided.
  if (sqlState === '23505') {
    return new AppError(409, 'conflict', 'Another resource already uses that value (for example the slug); choose another.')
  }
  if (sqlState === '40001' || sqlState === '40P01') {
    // A read is only cancelled so by a replica, replaying a change from the primary that
    // conflicted with it (db/replication.ts); a read's first statement is run again on the
    // primary, this is a later one of a read-only transaction there. Not the client's doing.
    if (request.method === 'GET' || request.method === 'HEAD') {
      log.warn({ err: error }, 'read cancelled by a replica\'s recovery conflict')
      return new AppError(503, 'read_conflict', 'A database replica had to cancel the read to apply a change; try again.', { headers: { 'retry-after': '1' } })
    }
    return new AppError(409, 'conflict', 'The write collided with a concurrent one; try again.', { headers: { 'retry-after': '1' } })
  }

  // PostgreSQL cancelled a statement that ran past DATABASE_STATEMENT_TIMEOUT_MS (db/postgres.ts):
  // no client waits that long, and it held a connection others wait for. A cancelled statement
  // writes nothing; content writes run in read-write transactions, which lift the limit.
  if (sqlState === '57014') {
    log.warn({ err: error }, 'statement cancelled: it ran out of time')
    return new AppError(503, 'database_timeout', 'The database took too long to answer; try again shortly.', { headers: { 'retry-after': '5' } })
  }

  if (isDatabaseUnavailableError(error)) {
    log.warn({ err: error }, 'database unavailable')
    return new AppError(503, 'database_unavailable', 'The database is not answering; try again shortly.', { headers: { 'retry-after': '5' } })
  }

  log.error({ err: error }, 'unhandled error')
  return new AppError(500, 'internal_error', 'An unexpected error occurred.')
}

function clientErrorCode (status: number, code: string | undefined): string {
  switch (status) {
    case 413: return 'payload_too_large'
    case 415: return 'unsupported_media_type'
    case 404: return 'not_found'
    default: return code === undefined ? 'bad_request' : code.replace(/^FST_ERR_/, '').toLowerCase()
  }
}

// Errors Node's HTTP parser raises before Fastify sees a request (a request line or headers too
// large or malformed, a client too slow): answered on the socket as problem+json too.
const CLIENT_ERRORS: Record<string, { status: number, code: string, detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', detail: 'The request line or headers are larger than allowed (16 KB): shorten the query string or the headers.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', detail: 'The request was not received in time.' }
}

export function clientErrorHandler (error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const known = CLIENT_ERRORS[error.code ?? '']
  const status = known?.status ?? 400
  const body = JSON.stringify({
    type: problemType(known?.code ?? 'malformed_request'),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: known?.detail ?? 'The request is not valid HTTP: the request line or a header could not be parsed.',
    code: known?.code ?? 'malformed_request'
  })
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(error)
}

/** Errors the router raises before any route runs (a malformed URL, an overlong path parameter). */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(request, reply, toAppError(error, request))
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => error instanceof Redirect
    ? sendRedirect(request, reply, error)
    : sendProblem(request, reply, toAppError(error, request)))
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, noRoute(request)))
}

/** The 404 of a path no route takes with this method. */
export function noRoute (request: Pick<FastifyRequest, 'method' | 'url'>): AppError {
  return new AppError(404, 'not_found', `No route matches ${request.method} ${request.url.split('?', 1)[0]}.`)
}
