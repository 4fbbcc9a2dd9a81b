import { connect, createServer, type Server, type Socket } from 'node:net'

/** What a proxy does with connections opened while it black-holes: forward them, or black-hole them too. */
export type NewConnections = 'forward' | 'black-hole'

/** A TCP proxy a test owns between a client and its server, to break the path without touching the server. */
export interface TcpProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number
  /** How many client connections are open through the proxy, black-holed ones included. */
  readonly openConnections: number
  /** Closes every connection through the proxy and refuses new ones: the server seems down. */
  cut(): Promise<void>
  /**
   * Black-holes every open connection: both ends stay open, but nothing passes either way, a close included, as when
   * a network or a server hangs. New connections are forwarded, or black-holed too (the whole server seems to hang):
   * accepted, but the server sees them only once healed, and only those whose client still waits.
   */
  blackHole(newConnections: NewConnections): void
  /**
   * Heals everything: black-holed connections pass on what they held back (a close included) and forward again, new
   * connections are forwarded, and after a cut the proxy listens again on the same port.
   */
  restore(): Promise<void>
  /** Stops the proxy for good. */
  close(): Promise<void>
}

/** One client connection and its connection to the server. */
interface Link {
  readonly client: Socket
  readonly upstream: Socket
  held: boolean
}

/** What ends a client's connection. */
const ENDS = ['end', 'close', 'error'] as const

/** Starts a proxy on a free loopback port that forwards to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const links = new Set<Link>()
  /** Clients that connected while new connections were black-holed, each with what connects it to the server. */
  const waiting = new Map<Socket, () => void>()
  let holdNew = false

  const hold = (link: Link) => {
    link.held = true
    link.client.pause()
    link.upstream.pause()
  }
  const release = (link: Link) => {
    link.held = false
    link.client.resume()
    link.upstream.resume()
  }
  /** Passes `from`'s bytes and its end to `to` while it flows: a held (paused) socket emits nothing. */
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (!to.destroyed) to.write(chunk)
    })
    from.on('end', () => to.end())
  }

  /** Connects `client` to the server, passing on first what it sent while it waited. */
  const linkToServer = (client: Socket, sentBefore: readonly Buffer[]) => {
    const upstream = connect(targetPort, '127.0.0.1')
    for (const chunk of sentBefore) upstream.write(chunk)
    const link: Link = { client, upstream, held: false }
    links.add(link)
    forward(client, upstream)
    forward(upstream, client)
    const end = () => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('close', end)
      socket.on('error', end)
    }
  }

  /**
   * Keeps a connection made while new ones are black-holed from the server: what its client sends is kept for it, and
   * a client that gives up is dropped. Were it connected at once, the server would start serving every connection
   * attempt made during a hang, and at the heal it would take up all of them together, abandoned ones included.
   */
  const wait = (client: Socket) => {
    const sent: Buffer[] = []
    const keep = (chunk: Buffer) => void sent.push(chunk)
    const drop = () => {
      waiting.delete(client)
      client.destroy()
    }
    client.on('data', keep)
    for (const event of ENDS) client.on(event, drop)
    waiting.set(client, () => {
      waiting.delete(client)
      client.off('data', keep)
      for (const event of ENDS) client.off(event, drop)
      linkToServer(client, sent)
    })
  }

  const server: Server = createServer((client) => (holdNew ? wait(client) : linkToServer(client, [])))
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
    for (const { client, upstream } of links) {
      client.destroy()
      upstream.destroy()
    }
    links.clear()
    for (const client of waiting.keys()) client.destroy()
    waiting.clear()
  }

  const port = await listen(0)
  return {
    port,
    get openConnections() {
      return links.size + waiting.size
    },
    async cut() {
      const stopped = stopListening()
      destroyAll()
      await stopped
    },
    blackHole(newConnections) {
      holdNew = newConnections === 'black-hole'
      for (const link of links) hold(link)
    },
    async restore() {
      holdNew = false
      for (const link of links) if (link.held) release(link)
      for (const connectToServer of [...waiting.values()]) connectToServer()
      if (!server.listening) await listen(port)
    },
    async close() {
      const stopped = stopListening()
      destroyAll()
      await stopped
    },
  }
}
