import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { session } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { cookiePairOf, SECRET } from './support/http.js'
import { freshDatabasePath, insertRows, openRaw, rowCount } from './support/sqlite.js'

const EXPIRED = 100_000
const CLIENTS = 4
const SLOWEST_ALLOWED = 250

test(`requests keep being answered within ${SLOWEST_ALLOWED} ms while the GC worker sweeps ${EXPIRED.toLocaleString('en')} expired SQLite sessions`, async () => {
  const path = freshDatabasePath()
  // The engine logs here when its worker cannot sweep and the main thread takes over.
  const fallbacks: string[] = []
  const engine = await sqliteEngine({ path, logger: { error: (message) => fallbacks.push(message) } })
  const raw = openRaw(path)
  insertRows(raw, EXPIRED, Date.now() - 1)

  const app = new Elysia()
    .use(session({ secret: SECRET, engine, gcInterval: 50 }))
    .post('/count', ({ session }) => session.int('count', (session.intOrNull('count') ?? 0) + 1))
    .get('/count', ({ session }) => session.intOrNull('count') ?? 0)
    .listen({ port: 0, hostname: '127.0.0.1' })
  const base = `http://127.0.0.1:${app.server!.port}/count`
  try {
    const first = await fetch(base, { method: 'POST' })
    const cookie = cookiePairOf(first)!
    expect(first.status).toBe(200)

    const statuses = new Map<number, number>()
    let slowest = 0
    let answered = 0
    let sweeping = true
    const client = async (index: number) => {
      for (let request = 0; sweeping; request++) {
        const started = performance.now()
        const response = await fetch(base, {
          method: (index + request) % 2 === 0 ? 'POST' : 'GET',
          headers: { cookie },
        })
        await response.arrayBuffer()
        slowest = Math.max(slowest, performance.now() - started)
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        answered++
      }
    }
    const clients = Array.from({ length: CLIENTS }, (_, index) => client(index))
    const sweepStarted = performance.now()
    while (rowCount(raw) > 1 && performance.now() - sweepStarted < 45_000) await Bun.sleep(10)
    sweeping = false
    await Promise.all(clients)

    expect(rowCount(raw)).toBe(1)
    expect(fallbacks).toEqual([])
    expect([...statuses.keys()]).toEqual([200])
    expect(answered).toBeGreaterThan(50)
    expect(slowest).toBeLessThan(SLOWEST_ALLOWED)
    console.log(
      `swept ${EXPIRED} in ${Math.round(performance.now() - sweepStarted)} ms; ${answered} requests, slowest ${slowest.toFixed(1)} ms`,
    )
  } finally {
    await app.stop()
    raw.close()
  }
}, 60_000)
