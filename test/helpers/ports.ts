import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

// Ports for servers that tests and the benchmark start as processes of their own, which must
// know their port before they listen. Drawn below Linux's ephemeral range, where the kernel
// picks the local port of every outgoing connection: drawn from inside it, a port could already
// be the local end of one of the run's own connections (seen in CI: EADDRINUSE for the
// scale-out's API process, then for the server test's). Each is checked free by listening on it
// first, since another test's server may hold one.

const LOWEST = 20_000

/** Where the kernel's range for outgoing connections starts (32768 unless configured). */
function ephemeralRangeStart (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > LOWEST + 1_000) return low
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152, and 32768 is below it anyway.
  }
  return 32_768
}

function isFree (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** `count` consecutive ports, free now, below the ephemeral range. */
export async function freePorts (count: number): Promise<number[]> {
  const end = ephemeralRangeStart()
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = LOWEST + Math.floor(Math.random() * (end - LOWEST - count))
    const ports = Array.from({ length: count }, (_, i) => first + i)
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return ports
  }
  throw new Error(`no ${count} free consecutive ports between ${LOWEST} and ${end}`)
}

/** A port, free now, below the ephemeral range. */
export async function freePort (): Promise<number> {
  return (await freePorts(1))[0] as number
}
