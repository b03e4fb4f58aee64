import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { validatorCompiler } from 'fastify-type-provider-zod'
import type { Kysely } from 'kysely'
import secureJsonParse from 'secure-json-parse'
import { requireAccessRules } from './route-access.ts'
import type { Config } from '../config.ts'
import type { Database } from '../db/database.ts'
import type { DB } from '../db/schema.ts'
import { jsonStructureProblem, type JsonStructureProblem } from './json-structure.ts'
import { badRequest, registerErrorHandling, unsupportedMediaType, type AppError } from './errors.ts'
import { responseSerializerCompiler } from './serialization.ts'
import { refuseUnstorableText } from './stored-text.ts'

// What every other plugin stands on: the configuration and the database on the instance, Zod
// for validation and serialization, problem+json for every error, the request id on every
// response, no body with text that XML cannot carry, and the rule that every route declares its
// access (registered first, so it sees every route, the ones third-party plugins add included).

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
    db: Kysely<DB>
  }
}

/** A Fastify error with its code and status, for the error handler to turn into a problem. */
const bodyError = (code: string, message: string) => Object.assign(new Error(message), { code, statusCode: 400 })

/** Deeper than any body of this API (a post's lead image or SEO object, a webhook's list: 2-3). */
const MAX_BODY_DEPTH = 32

function structureError (found: JsonStructureProblem): AppError {
  const path = ['body', ...found.path].join('.').slice(0, 300)
  return found.problem === 'duplicate_key'
    ? badRequest('duplicate_key', `The body names "${found.key.slice(0, 100)}" twice in one object (${path}): parsers disagree on which one counts, so send each key once.`,
      [{ path, message: 'appears more than once in its object' }])
    : badRequest('too_deeply_nested', `The body nests objects and arrays more than ${MAX_BODY_DEPTH} deep (at ${path}); no field of this API goes that deep.`,
      [{ path, message: `nested more than ${MAX_BODY_DEPTH} deep` }])
}

/**
 * Fastify's own JSON parser, with the reason kept. It answered every failure "Body is not valid
 * JSON", even valid JSON it refuses on purpose (a `__proto__` key, or `constructor` holding a
 * `prototype`: prototype pollution), so a client could not tell what to fix; the parser's own
 * message says where a syntax error is. Same library (secure-json-parse), same rules, same codes.
 * Before it, a key named twice in one object, or nesting deeper than any body here goes, is
 * refused (json-structure.ts).
 */
function parseJsonBody (_request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void {
  if (body === '') return done(bodyError('FST_ERR_CTP_EMPTY_JSON_BODY', 'The body is empty, but its Content-Type says JSON: send a JSON value, or no Content-Type.'))
  const structure = jsonStructureProblem(body, MAX_BODY_DEPTH)
  if (structure !== undefined) return done(structureError(structure))
  let value: unknown
  try {
    value = secureJsonParse.parse(body, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    const message = (error as Error).message
    return done(bodyError('FST_ERR_CTP_INVALID_JSON_BODY', message === 'Object contains forbidden prototype property'
      ? 'The body holds a "__proto__" key, or a "constructor" with a "prototype": refused, as they could change objects of the server. Rename the field.'
      : `The body is not valid JSON: ${message.slice(0, 200)}`))
  }
  done(null, value)
}

async function core (app: FastifyInstance, { config, database }: { config: Config, database: Database }): Promise<void> {
  requireAccessRules(app)
  // Bodies are JSON. Fastify also parses text/plain by default; refusing it makes a wrong
  // Content-Type a clear 415 instead of a confusing validation error.
  app.removeContentTypeParser('text/plain')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody)
  // A PATCH body here is a JSON Merge Patch (RFC 7396) whichever of the two types it is sent as;
  // clients that follow the RFC (or an API guideline: Microsoft's, Zalando's) label it so, and
  // were refused with 415. It means nothing on another method.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (request, body, done) =>
    request.method === 'PATCH' ? parseJsonBody(request, body as string, done) : done(unsupportedMediaType(request)))
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(responseSerializerCompiler(config.responseValidation))
  app.decorate('config', config)
  app.decorate('database', database)
  app.decorate('db', database.db)
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  app.addHook('preValidation', refuseUnstorableText)
  registerErrorHandling(app)
  closeConnectionsAsTheyFinish(app)
}

/**
 * On close, Node ends the connections that are idle then, once; one busy then (a long poll, a
 * slow page) is kept open for its client's next request after its response, and the close
 * waited for the keep-alive timeout (72 s, past SHUTDOWN_TIMEOUT_MS: the process was killed).
 * So while closing, each connection is ended as soon as it falls idle.
 */
function closeConnectionsAsTheyFinish (app: FastifyInstance): void {
  let timer: NodeJS.Timeout | undefined
  app.addHook('preClose', (done) => {
    timer = setInterval(() => app.server.closeIdleConnections(), 50)
    timer.unref()
    done()
  })
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer)
    done()
  })
}

export const corePlugin = fp(core, { name: 'core' })
