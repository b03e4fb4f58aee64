import type { FastifyRequest } from 'fastify'

// Absolute links in responses (pagination, feeds, post addresses) start with the API's public
// base URL. With PUBLIC_BASE_URL set, that is it, always. Without it, the links use the scheme
// and host the client used, so a phone on the LAN that called 192.168.1.20:3000 gets links it
// can follow, not "localhost". The host is whatever the client sent, so it is checked to be a
// plain host name or address (anything else falls back to the configured default), and every
// cache of responses keys on it (response-cache.ts): a forged Host changes only its own answer.

const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?(?::\d{1,5})?$/i
const IP_V6_HOST = /^\[[0-9a-f:.]{2,45}\](?::\d{1,5})?$/i

export function isPlainHost (host: string): boolean {
  return host.length <= 260 && (HOST_NAME.test(host) || IP_V6_HOST.test(host))
}

/** The base URL for absolute links in this request's response, without a trailing slash. */
export function apiBaseUrl (request: FastifyRequest): string {
  const config = request.server.config
  if (config.publicBaseUrlFixed) return config.publicBaseUrl
  const host = request.host
  if (typeof host !== 'string' || !isPlainHost(host)) return config.publicBaseUrl
  const protocol = request.protocol === 'https' ? 'https' : 'http'
  return `${protocol}://${host.toLowerCase()}`
}
