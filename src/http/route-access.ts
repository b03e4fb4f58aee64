import type { FastifyInstance, RouteOptions } from 'fastify'
import { SCOPES, type Scope } from '../access/scopes.ts'

// Deny by default: every route declares who may call it (`config: { access }`), and an app with
// a route that does not fails to start, naming the route, instead of serving it to anyone.

/**
 * `public` marks a read that needs no key while PUBLIC_READ is on; `none` is for probes and docs;
 * `query-key` is for routes that check a key sent in the query string themselves (Ghost's ?key=).
 */
export type RouteAccess = Scope | 'public' | 'none' | 'query-key'
const ROUTE_ACCESS: readonly RouteAccess[] = [...SCOPES, 'public', 'none', 'query-key']

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
    /** false: the response cache never answers or stores this route (long polls, streams). */
    responseCache?: boolean
    /**
     * For a route whose answer depends on the Accept header: what it makes of it (the feed format
     * it picks), which the response cache keys on. No other route's answer depends on Accept.
     */
    negotiates?: (accept: string | undefined) => string
  }
}

export class UndeclaredAccessError extends Error {
  constructor (routes: string[]) {
    super(`these routes declare no access rule (config.access): ${routes.join(', ')}`)
    this.name = 'UndeclaredAccessError'
  }
}

/**
 * Watches every route registered from here on and, when the app is ready, fails it if any lacks
 * a valid access rule. Routes registered by a plugin we do not own get theirs from the plugin
 * that registers them (see `declareAccess`).
 */
export function requireAccessRules (app: FastifyInstance): void {
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => { routes.push(route) })
  app.addHook('onReady', async () => {
    const undeclared = routes.filter((route) => !ROUTE_ACCESS.includes(route.config?.access as RouteAccess))
      .map((route) => `${String(route.method)} ${route.url}`)
    if (undeclared.length > 0) throw new UndeclaredAccessError(undeclared)
  })
}

/**
 * Gives routes that a third-party plugin registers (and so cannot declare themselves) an access
 * rule; call it before registering that plugin.
 */
export function declareAccess (app: FastifyInstance, matches: (route: RouteOptions) => boolean, access: RouteAccess): void {
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined && matches(route)) route.config = { ...route.config, access }
  })
}
