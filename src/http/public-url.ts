import type { FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { Config } from '../config.ts'
import { HeaderMemo } from './header-memo.ts'

// Absolute links in responses (pagination, feeds, post addresses) start with the API's public
// base URL. With PUBLIC_BASE_URL set, that is it, always. Without it, the links use the scheme
// and host the client used, so a phone on the LAN that called 192.168.1.20:3000 gets links it
// can follow, not "localhost". The host is whatever the client sent, so it is checked to be a
// plain host name or address (anything else falls back to the configured default), and every
// cache of responses keys on it (response-cache.ts): a forged Host changes only its own answer.
// Behind a proxy the API believes (TRUST_PROXY), the scheme and host are those of
// X-Forwarded-Proto and X-Forwarded-Host, which a shared cache in front does not key on unless
// the response names them in Vary (caching.ts): without that, one client's forged header was
// stored in Varnish for every reader (test/scale-out/scale-out.ts).

/** The request headers links follow besides Host, with this configuration: what responses vary on. */
export function linkHeadersBeyondHost (config: Pick<Config, 'publicBaseUrlFixed' | 'trustProxy'>): string[] {
  const trusts = config.trustProxy !== false && config.trustProxy !== 0
  return config.publicBaseUrlFixed || !trusts ? [] : ['X-Forwarded-Host', 'X-Forwarded-Proto']
}

const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?(?::\d{1,5})?$/i
const IP_V6_HOST = /^\[[0-9a-f:.]{2,45}\](?::\d{1,5})?$/i

export function isPlainHost (host: string): boolean {
  return host.length <= 260 && (HOST_NAME.test(host) || IP_V6_HOST.test(host))
}

// The base URL made from each protocol and Host as sent, or null for a Host that is not plain,
// for the first few hundred seen: a process is called by a handful of names, and checking the
// host against the patterns again on every request was 0.35 µs of a cached 304's 44 µs of CPU
// (a V8 CPU profile under bench/cpu-split.sh). Hosts beyond the bound (a client forging them)
// are checked each time and not kept.
const knownHosts = { http: new HeaderMemo<string | null>(256), https: new HeaderMemo<string | null>(256) }
const baseUrlMaker = (protocol: 'http' | 'https') => (host: string): string | null => isPlainHost(host) ? originOf(`${protocol}://${host}`) : null

/**
 * The URL parser's own form of a base URL (lower case, no default port), or null where it takes
 * none: the patterns above pass hosts it refuses (a port past 65535, `999.999.999.999`, an IPv6
 * address with nine groups), and every link built on such a base threw, a 500 on every list.
 */
function originOf (base: string): string | null {
  try {
    return new URL(base).origin
  } catch {
    return null
  }
}
const baseUrlFrom = { http: baseUrlMaker('http'), https: baseUrlMaker('https') }

function baseUrlOf (protocol: 'http' | 'https', host: string): string | null {
  return knownHosts[protocol].valueOf(host, baseUrlFrom[protocol])
}

/** The base URL for absolute links in this request's response, without a trailing slash. */
export function apiBaseUrl (request: FastifyRequest): string {
  const config = request.server.config
  if (config.publicBaseUrlFixed) return config.publicBaseUrl
  const host = request.host
  if (typeof host !== 'string') return config.publicBaseUrl
  return baseUrlOf(request.protocol === 'https' ? 'https' : 'http', host) ?? config.publicBaseUrl
}

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)([^#]*)/i

/**
 * Fastify's rewriteUrl: a request whose target is a whole URL (`GET http://host/v1/posts`, the
 * absolute form clients send to proxies) becomes the path and query it names, and its host the
 * Host, as RFC 9112 (3.2.2) tells an origin server to take it. Fastify routed such a request as
 * it came, and the links built from its URL took that host unchecked (`user:pw@evil.example`
 * included), where the Host header is checked; a renamed slug's 308 pointed there too.
 */
export function toOriginForm (request: IncomingMessage): string {
  const url = request.url ?? '/'
  // '/', the origin form: nearly every request, passed on at once.
  if (url.charCodeAt(0) === 47) return url
  const absolute = ABSOLUTE_FORM.exec(url)
  if (absolute === null) return url
  request.headers.host = absolute[1]
  const rest = absolute[2] ?? ''
  return rest.startsWith('/') ? rest : `/${rest}`
}
