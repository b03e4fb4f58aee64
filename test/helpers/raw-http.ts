import { connect, type AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/**
 * Sends raw bytes to the app over a real socket and resolves with everything it answers: for
 * requests that never reach a route (Node's HTTP parser refuses them), which app.inject cannot
 * show, and for checking a response's exact bytes on the wire.
 *
 * By default our side of the connection is closed right after the request, so the server closes
 * too whatever it made of it; the server may then drop a response still being computed. With
 * `halfClose: false` it stays open, and the request must say `Connection: close`.
 */
export async function rawRequester (app: FastifyInstance, { halfClose = true }: { halfClose?: boolean } = {}): Promise<(request: string) => Promise<string>> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return (request) => new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => halfClose ? socket.end(request) : socket.write(request))
    let response = ''
    socket.on('data', (chunk: Buffer) => { response += chunk.toString('latin1') })
    socket.on('close', () => resolve(response))
    socket.on('error', reject)
  })
}
