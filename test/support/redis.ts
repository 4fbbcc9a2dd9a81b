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
