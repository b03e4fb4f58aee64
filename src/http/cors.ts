import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { declareAccess } from './route-access.ts'

// Headers a browser client may read from a cross-origin response: every one the API sends for
// a client to act on, beyond the few the Fetch standard lets through anyway (Cache-Control,
// Content-Type, Last-Modified ...). A browser hides the rest from JavaScript, so a frontend on
// another origin could not see its rate-limit budget (RateLimit-*), why its key failed
// (WWW-Authenticate), that a retried POST was a replay (Idempotent-Replayed), the version a
// Ghost client talks to (Content-Version), the body types a 415 asks for (Accept,
// Accept-Patch), or the methods a 405 names (Allow). test/http/cors.test.ts holds the list to
// the OpenAPI document's response headers; npm run test:cors-browser reads them in Chromium.
export const EXPOSED_HEADERS = ['ETag', 'Last-Modified', 'Location', 'Link', 'Retry-After', 'X-Request-Id', 'Content-Api-Read-After',
  'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'WWW-Authenticate', 'Idempotent-Replayed', 'Content-Version', 'Accept', 'Accept-Patch', 'Allow']

async function corsPolicy (app: FastifyInstance): Promise<void> {
  const origins = app.config.corsOrigins
  // The preflight route @fastify/cors adds answers browsers before they send a key.
  declareAccess(app, (route) => route.method === 'OPTIONS' && route.url === '*', 'none')
  await app.register(cors, {
    origin: origins === '*' ? '*' : [...origins],
    // Joined once here: given arrays, @fastify/cors joins them again for every response (a new
    // 200-character string each time: 420-610 ns alone, Node 24).
    methods: 'GET, HEAD, POST, PATCH, DELETE',
    exposedHeaders: EXPOSED_HEADERS.join(', '),
    maxAge: 600
  })
}

// Registered before authentication, so that a 401 or 429 carries CORS headers too and a browser
// client can read why it was refused.
export const corsPlugin = fp(corsPolicy, { name: 'cors', dependencies: ['core'] })
