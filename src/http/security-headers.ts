import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

// Security headers from helmet, computed once: with a fixed configuration they are the same on
// every response, and running helmet's middleware per request was several percent of the time
// of a cached read. A route that needs others (the docs page's CSP) sets its own over these.

const API_HELMET: Readonly<HelmetOptions> = {
  // JSON responses need no scripts or styles; the docs page sets its own CSP (see openapi.ts).
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  // Content is public and meant to be fetched from other origins.
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  // The headers an API response needs (OWASP REST cheat sheet): CSP, HSTS, nosniff, frame and
  // referrer policies. These others only concern HTML pages in a browser; on every JSON
  // response they were a third of the header bytes.
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false
}

/** The headers helmet sets for `options`, read off one run of its middleware. */
export function helmetHeaders (options: Readonly<HelmetOptions> = API_HELMET): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader (name: string, value: string | number) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { Reflect.deleteProperty(headers, name.toLowerCase()) }
  }
  let ran = false
  helmet(options)({} as never, response as never, () => { ran = true })
  if (!ran) throw new Error('helmet did not finish synchronously')
  return headers
}

async function securityHeaders (app: FastifyInstance): Promise<void> {
  const headers = helmetHeaders()
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}

export const securityHeadersPlugin = fp(securityHeaders, { name: 'security-headers', dependencies: ['core'] })
