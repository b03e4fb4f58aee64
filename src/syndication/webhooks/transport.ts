import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { connectionLookup, isInternalAddress, RefusedTargetError, type Resolver } from './targets.ts'

// One delivery attempt on the wire: a POST whose connection resolves its host through
// connectionLookup, so the target check and the connection use the same answer.

export interface TransportOptions {
  timeoutMs: number
  allowPrivateTargets: boolean
  /** The DNS resolver (tests give one that changes its answers); the system's by default. */
  resolver?: Resolver | undefined
}

function lookupFor (options: TransportOptions): LookupFunction | undefined {
  if (!options.allowPrivateTargets) return connectionLookup(options.resolver)
  const resolver = options.resolver
  if (resolver === undefined) return undefined
  return (hostname, lookupOptions, callback) => resolver(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
    if (error !== null || addresses.length === 0) return callback(error ?? new Error(`${hostname} does not resolve`), '', 4)
    if ((lookupOptions as { all?: boolean }).all === true) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses)
    callback(null, addresses[0]!.address, addresses[0]!.family)
  })
}

/** POSTs `body` and resolves with the status code; redirects are not followed. */
export async function post (url: string, headers: Record<string, string>, body: string, options: TransportOptions): Promise<number> {
  const target = new URL(url)
  const host = target.hostname.replace(/^\[|\]$/g, '')
  // An address literal is connected to as written: it is checked here, with no lookup.
  if (!options.allowPrivateTargets && isIP(host) !== 0 && isInternalAddress(host)) {
    throw new RefusedTargetError('the target is a private or loopback address')
  }
  const client = target.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: lookupFor(options),
      signal: AbortSignal.timeout(options.timeoutMs)
    }, (response) => {
      response.on('error', reject)
      response.on('end', () => resolve(response.statusCode ?? 0))
      response.resume()
    })
    request.on('error', reject)
    request.end(body)
  })
}
