import { connect, type AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/**
 * Sends raw bytes to the app over a real socket and resolves with everything it answers: for
 * requests that never reach a route (Node's HTTP parser refuses them), which app.inject cannot show.
 */
export async function rawRequester (app: FastifyInstance): Promise<(request: string) => Promise<string>> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return (request) => new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let response = ''
    socket.on('data', (chunk: Buffer) => { response += chunk.toString('latin1') })
    socket.on('close', () => resolve(response))
    socket.on('error', reject)
  })
}
