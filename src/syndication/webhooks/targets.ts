import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

// A webhook must not become a way into the operator's own network: targets that are (or
// resolve to) anything but a public unicast address are refused unless
// WEBHOOK_ALLOW_PRIVATE_TARGETS says this deployment wants them. The check runs inside the
// connection's own DNS lookup (connectionLookup), so the address that is checked is the
// address that is connected to: a resolver that answers differently the second time (DNS
// rebinding) gets nowhere.

/** Does this address lie in any of IANA's special-purpose ranges (or anything but public unicast)? */
export function isInternalAddress (address: string): boolean {
  if (!ipaddr.isValid(address)) return true
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address()
    // IPv4-compatible addresses (::/96, deprecated), ::1 and :: among them: the range carries an
    // IPv4 address some stacks still route to.
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return true
  }
  // ipaddr.js names every special-purpose range of the IANA registries (private, loopback,
  // link-local, CGNAT, NAT64 64:ff9b::/96, 6to4, Teredo, documentation, benchmarking ...);
  // only what it calls unicast is public.
  return parsed.range() !== 'unicast'
}

export class RefusedTargetError extends Error {
  readonly code = 'EREFUSEDTARGET'
  constructor (message: string) {
    super(message)
    this.name = 'RefusedTargetError'
  }
}

export type Resolver = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback)

function isLocalName (host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost')
}

/**
 * A `lookup` for http.request: resolves with `resolver`, refuses the connection when any
 * answer is internal, and otherwise connects to exactly what it checked.
 */
export function connectionLookup (resolver: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    if (isLocalName(hostname)) return callback(new RefusedTargetError('the target is this machine'), '', 4)
    resolver(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 4)
      if (addresses.length === 0) return callback(new RefusedTargetError('the target host does not resolve'), '', 4)
      if (addresses.some((a) => isInternalAddress(a.address))) {
        return callback(new RefusedTargetError('the target resolves to a private or loopback address'), '', 4)
      }
      if ((options as { all?: boolean }).all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0] as LookupAddress
      callback(null, first.address, first.family)
    })
  }
}

/**
 * Why this URL may not be a target, or undefined when it may: the check at the time a webhook
 * is created or changed, so an operator hears at once. Deliveries check again at connect time.
 */
export async function refusedTarget (url: string, allowPrivate: boolean, resolver: Resolver = systemResolver): Promise<string | undefined> {
  if (allowPrivate) return undefined
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) return isInternalAddress(host) ? 'the target is a private or loopback address' : undefined
  return new Promise((resolve) => {
    connectionLookup(resolver)(host, { all: true }, (error) => {
      resolve(error === null ? undefined : error instanceof RefusedTargetError ? error.message : 'the target host does not resolve')
    })
  })
}
