import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, noRoute, sendProblem } from './errors.ts'
import { mediaTypesTaken } from './media-types.ts'

// What a path takes, said as HTTP says it (RFC 9110). A method the path does not take is a 405
// whose Allow names those it does, not a 404 that told a client sending PUT where PATCH goes
// that the post did not exist; it is answered before the body is read, so no complaint about
// the body comes first. OPTIONS outside a CORS preflight (no Access-Control-Request-Method)
// answers 204 with Allow, and Accept-Patch where PATCH is one (RFC 5789, 3.1); the CORS plugin
// answered it with a text/plain 400, "Invalid Preflight Request".
// Both hooks run on every request and nearly always pass it on at once, so they take a callback:
// an async hook would cost every request a promise each.

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** The methods some route of this app takes at the request's path (OPTIONS, which every path answers, aside). */
function allowedMethods (app: FastifyInstance, url: string): string[] {
  const path = url.split('?', 1)[0] ?? url
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null)
}

function allowHeaders (allowed: readonly string[]): Record<string, string> {
  return {
    allow: [...allowed, 'OPTIONS'].join(', '),
    ...(allowed.includes('PATCH') ? { 'accept-patch': mediaTypesTaken('PATCH').list } : {})
  }
}

/** OPTIONS that is not a CORS preflight: 204 with what the path takes, or a 404 when nothing takes it. */
function answerOptions (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] !== undefined) return done()
  const allowed = allowedMethods(request.server, request.url)
  if (allowed.length === 0) sendProblem(request, reply, noRoute(request))
  else reply.code(204).headers({ ...allowHeaders(allowed), 'cache-control': 'no-store' }).send()
}

/** A method the path does not take (any other route takes the path): 405. Otherwise the not-found handler's 404. */
function refuseOtherMethods (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (!request.is404 || request.method === 'OPTIONS') return done()
  const allowed = allowedMethods(request.server, request.url)
  if (allowed.length === 0) return done()
  sendProblem(request, reply, new AppError(405, 'method_not_allowed',
    `${request.method} is not a method of ${request.url.split('?', 1)[0]}: it takes ${allowed.join(', ')}.`, { headers: allowHeaders(allowed) }))
}

/** Registered before CORS, whose own hook answers any OPTIONS as a preflight. */
export const optionsPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', answerOptions)
}, { name: 'options', dependencies: ['core'] })

/** Registered after CORS, so that a browser client can read the 405 (its CORS headers set). */
export const methodNotAllowedPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', refuseOtherMethods)
}, { name: 'method-not-allowed', dependencies: ['core', 'cors'] })
