import { connect, createServer, type Server, type Socket } from 'node:net'

/** A TCP proxy a test owns between an engine and its server, to cut the connection without stopping the server. */
export interface TcpProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number
  /** Closes every connection through the proxy and refuses new ones: the server seems down. */
  cut(): Promise<void>
  /** Accepts connections but forwards nothing: the server seems to hang. */
  stall(): void
  /** Forwards connections again, on the same port. */
  restore(): Promise<void>
  /** Stops the proxy for good. */
  close(): Promise<void>
}

/** Starts a proxy on a free loopback port that forwards to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let stalled = false
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server: Server = createServer((client) => {
    track(client)
    if (stalled) return
    const upstream = connect(targetPort, '127.0.0.1')
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as { port: number }).port)
      })
    })
  const stopListening = () =>
    new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
  }
  const port = await listen(0)
  return {
    port,
    async cut() {
      const stopped = stopListening()
      destroyAll()
      await stopped
    },
    stall() {
      stalled = true
      destroyAll()
    },
    async restore() {
      stalled = false
      if (!server.listening) await listen(port)
    },
    async close() {
      const stopped = stopListening()
      destroyAll()
      await stopped
    },
  }
}
