import { Agent, request } from 'node:http'

// HTTP from a chosen loopback address (127.0.0.2, 127.0.2.7 ...): to Varnish, each address is a
// different client, which is how the test shows that rate limits stay per client behind it.

export interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string, startedAt: number, endedAt: number }

const agents = new Map<string, Agent>()
function agentFor (from: string): Agent {
  let agent = agents.get(from)
  if (agent === undefined) agents.set(from, agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: from } as ConstructorParameters<typeof Agent>[0]))
  return agent
}

export function closeAgents (): void {
  for (const agent of agents.values()) agent.destroy()
  agents.clear()
}

export function http (url: string, options: { method?: string, from?: string, headers?: Record<string, string>, body?: unknown, timeoutMs?: number } = {}): Promise<Reply> {
  const startedAt = performance.now()
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      agent: agentFor(options.from ?? '127.0.0.1'),
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      timeout: options.timeoutMs ?? 10_000
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), startedAt, endedAt: performance.now() }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)))
    req.on('error', reject)
    req.end(payload)
  })
}
