import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

// A webhook must not become a way into the operator's own network: targets that are (or
// resolve to) loopback, private, link-local or otherwise internal addresses are refused unless
// WEBHOOK_ALLOW_PRIVATE_TARGETS says this deployment wants them.

const internal = new BlockList()
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  internal.addSubnet(network, prefix, 'ipv4')
}
// (IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry, below: a BlockList
// rule for ::ffff:0:0/96 would match every IPv4 address.)
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  internal.addSubnet(network, prefix, 'ipv6')
}

export function isInternalAddress (address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return isInternalAddress(mapped[1] as string)
  const family = isIP(address)
  if (family === 0) return false
  return internal.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Why this URL may not be a target, or undefined when it may. Resolves the host name. */
export async function refusedTarget (url: string, allowPrivate: boolean): Promise<string | undefined> {
  if (allowPrivate) return undefined
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return 'the target is this machine'
  const addresses = isIP(host) !== 0 ? [host] : await lookup(host, { all: true }).then((found) => found.map((a) => a.address), () => [])
  if (addresses.length === 0) return 'the target host does not resolve'
  return addresses.some(isInternalAddress) ? 'the target resolves to a private or loopback address' : undefined
}
