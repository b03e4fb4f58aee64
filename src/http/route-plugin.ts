import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

// Every group of routes is a named plugin that declares what must already be in place when its
// routes are registered: access rules and authentication, the rate limiter (it attaches to each
// route as the route is added) and the response cache. Registering one in the wrong place
// fails at startup, naming the missing plugin.

export const ROUTE_DEPENDENCIES = ['access', 'rate-limits', 'response-cache'] as const

export function routePlugin<Options extends Record<string, unknown> = Record<never, never>> (
  name: string, plugin: FastifyPluginAsync<Options>, extraDependencies: readonly string[] = []
) {
  return fp(plugin, { name, dependencies: [...ROUTE_DEPENDENCIES, ...extraDependencies], encapsulate: true })
}
