import { connect, createServer, type Socket } from 'node:net'
import { RedisClient } from 'bun'

/** A prefix no other test run uses, ending in `:` so engines accept it; every key a test writes starts with it. */
export function uniquePrefix(label: string): string {
  return `elysia-sessions-test:${label}:${process.pid}-${crypto.randomUUID().slice(0, 8)}:`
}

/** A connected client for a test's own checks, outside any engine. */
export async function openRawClient(url: string): Promise<RedisClient> {
  const client = new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2_000 })
  await client.connect()
  return client
}

/** Every key that starts with `prefix`, read with SCAN and compared in JavaScript, so no glob is involved. */
export async function keysStartingWith(client: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = (await client.send('SCAN', [cursor, 'COUNT', '1000'])) as [string, string[]]
    cursor = next
    for (const key of keys) if (key.startsWith(prefix)) found.push(key)
  } while (cursor !== '0')
  return [...new Set(found)]
}

/** Deletes every key that starts with `prefix`: a test run's cleanup. */
export async function deleteKeysStartingWith(client: RedisClient, prefix: string): Promise<void> {
  const keys = await keysStartingWith(client, prefix)
  for (let start = 0; start < keys.length; start += 1_000) await client.send('DEL', keys.slice(start, start + 1_000))
}

/** `url` with its port replaced, to route it through a test's proxy. */
export function urlWithPort(url: string, port: number): string {
  const routed = new URL(url)
  routed.port = String(port)
  return routed.href
}

/**
 * A forwarder a test owns between a client and Redis that counts its open connections and can black-hole them: the
 * sockets stay open but nothing passes, as when a server or network hangs without closing anything.
 */
export interface RedisForwarder {
  readonly port: number
  /** How many client connections are open through the forwarder. */
  readonly openConnections: number
  /** From now on, the connections open now forward nothing, ever; new ones still work. */
  blackHoleOpenConnections(): void
  close(): Promise<void>
}

/** Starts a forwarder on a free loopback port to `targetPort` on 127.0.0.1. */
export async function startRedisForwarder(targetPort: number): Promise<RedisForwarder> {
  const clients = new Set<Socket>()
  const holes: Socket[] = []
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    clients.add(client)
    holes.push(client, upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      clients.delete(client)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    get openConnections() {
      return clients.size
    },
    blackHoleOpenConnections() {
      for (const socket of holes.splice(0)) {
        socket.unpipe()
        socket.pause()
      }
    },
    async close() {
      for (const client of clients) client.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
