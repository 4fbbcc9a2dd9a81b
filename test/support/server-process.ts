import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { cookiePairOf } from './http.js'

const FIXTURE = join(import.meta.dir, '..', 'fixtures', 'engine-server.ts')
const children = new Set<Subprocess<'ignore', 'pipe', 'pipe'>>()

/** Kills every server process still running; call it from `afterAll`. */
export async function killAllServers(): Promise<void> {
  await Promise.all([...children].map(killNow))
}

export interface Server {
  readonly child: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Everything the process wrote to stderr, once it has exited. */
  readonly stderr: Promise<string>
  readonly origin: string
}

export interface ServerOptions {
  /** The engine factory's options, as JSON. */
  readonly options: unknown
  readonly gcInterval?: number
  /** Epoch ms before which the process does not open the engine. */
  readonly startAt?: number
}

/**
 * Spawns test/fixtures/engine-server.ts on `<engine>Engine(options)` from elysia-sessions/engines/<engine> and waits until it
 * prints its port.
 */
export async function startServer(
  engine: string,
  { options, gcInterval = 0, startAt }: ServerOptions,
): Promise<Server> {
  const env = {
    ...process.env,
    ...(startAt !== undefined && { SERVER_START_AT: String(startAt) }),
  }
  const child = Bun.spawn([process.execPath, FIXTURE, engine, JSON.stringify(options), String(gcInterval)], {
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  children.add(child)
  // Drained from the start, so a chatty child never blocks on a full pipe.
  const stderr = new Response(child.stderr).text()
  const port = await readPort(child.stdout, stderr, 10_000)
  return { child, stderr, origin: `http://127.0.0.1:${port}` } satisfies Server
}

async function readPort(stdout: ReadableStream<Uint8Array>, stderr: Promise<string>, timeoutMs: number) {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let output = ''
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        const errors = await Promise.race([stderr, Bun.sleep(1_000).then(() => '(stderr still open)')])
        throw new Error(`the server exited or timed out before printing its port\nstdout: ${output}\nstderr: ${errors}`)
      }
      output += decoder.decode(value, { stream: true })
      const match = /^listening (\d+)$/m.exec(output)
      if (match?.[1]) return Number(match[1])
    }
  } finally {
    clearTimeout(deadline)
    reader.releaseLock()
  }
}

export interface Stopped {
  readonly code: number | null
  /** What the process printed after its port. */
  readonly stdout: string
  readonly stderr: string
}

/** A clean stop: the fixture closed everything (printing `closed`), exited with 0 and logged no error. */
export const CLEAN_STOP: Stopped = { code: 0, stdout: 'closed\n', stderr: '' }

/** Sends SIGTERM and waits for the process to exit. */
export async function stopServer(server: Server): Promise<Stopped> {
  server.child.kill('SIGTERM')
  const [code, stdout, stderr] = await Promise.all([server.child.exited, readRest(server.child.stdout), server.stderr])
  children.delete(server.child)
  return { code, stdout, stderr }
}

/** The rest of a stream that was read from before (so `new Response(stream)` refuses it). */
async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    text += decoder.decode(value, { stream: true })
  }
}

export async function killNow(child: Subprocess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await child.exited
  children.delete(child as Subprocess<'ignore', 'pipe', 'pipe'>)
}

export interface SetResult {
  readonly status: number
  /** The session id the server wrote to, or undefined when the request failed. */
  readonly id: string | undefined
  /** The `sessid=...` pair of a Set-Cookie, when one was sent. */
  readonly cookie: string | undefined
  readonly text: string
}

/** Sets the string `key` of the session `cookie` names (a new one without it) through `server`. */
export async function setKey(server: Server, key: string, value: string, cookie?: string): Promise<SetResult> {
  const headers = { 'content-type': 'text/plain', ...(cookie && { cookie }) }
  const response = await fetch(`${server.origin}/set/${encodeURIComponent(key)}`, {
    method: 'POST',
    headers,
    body: value,
  })
  const text = await response.text()
  const id = response.status === 200 ? (JSON.parse(text) as { id: string }).id : undefined
  return { status: response.status, id, cookie: cookiePairOf(response), text }
}

/** The session's strings; on a failure, the body as text, so the assertion shows the error. */
export async function keysOf(server: Server, cookie: string): Promise<{ status: number; keys: unknown }> {
  const response = await fetch(`${server.origin}/keys`, { headers: { cookie } })
  const text = await response.text()
  return { status: response.status, keys: response.status === 200 ? JSON.parse(text) : text }
}
