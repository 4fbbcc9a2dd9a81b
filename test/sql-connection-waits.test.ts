import { afterAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import type { SessionEngine } from 'elysia-sessions'
import { mysqlEngine } from 'elysia-sessions/engines/mysql'
import { postgresEngine } from 'elysia-sessions/engines/postgres'
import { createPool } from 'mysql2/promise'
import { freshDatabases } from './support/mysql.js'
import { SessionsUnderLoad } from './support/outage-run.js'
import { createFreshDatabase, urlWithPort } from './support/postgres.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

const OPERATION_TIMEOUT = 500
const POOL_SIZE = 10

/** Counts the waits for a connection that `pool`'s `method` has been asked for and not yet settled. */
function countWaits<Pool extends object, Method extends keyof Pool>(pool: Pool, method: Method) {
  const waits = { pending: 0, most: 0 }
  const ask = (pool[method] as () => Promise<unknown>).bind(pool)
  Object.assign(pool, {
    [method]: () => {
      waits.pending++
      waits.most = Math.max(waits.most, waits.pending)
      const asked = ask()
      const settled = () => waits.pending--
      asked.then(settled, settled)
      return asked
    },
  })
  return waits
}

/**
 * Runs 2 s of a hanging server under 200 requests a second: before the engines queued their waits themselves, each
 * call left one wait behind in the driver's pool, about 400 here.
 */
async function hangUnderLoad(engine: SessionEngine, proxy: TcpProxy) {
  const subject = new SessionsUnderLoad(engine)
  await subject.login(8)
  const run = await subject.run(
    { interval: 5, before: 300, outage: 2_000 },
    {
      break: () => proxy.blackHole('black-hole'),
      async heal() {
        const backAt = performance.now()
        await proxy.restore()
        return backAt
      },
    },
  )
  expect(run.wrongAnswers.slice(0, 5)).toEqual([])
  expect(run.figures.requestsDuring).toBeGreaterThan(300)
}

const postgres = testService('DATABASE_URL', 'PostgreSQL engine: waits for a pooled connection while the server hangs')
describe.skipIf(!postgres.url)(postgres.label, () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  test('never more than the pool size, and none left once the server is back', async () => {
    const url = postgres.url as string
    const proxy = await startTcpProxy(Number(new URL(url).port))
    cleanups.push(() => proxy.close())
    const database = await createFreshDatabase(url, 'waits')
    cleanups.push(() => database.drop())
    const client = new SQL({ url: urlWithPort(database.url, proxy.port), max: POOL_SIZE, connectionTimeout: 1 })
    cleanups.push(() => client.close())
    const waits = countWaits(client, 'reserve')
    const engine = await postgresEngine({ database: client, operationTimeout: OPERATION_TIMEOUT, migrate: true })
    cleanups.push(() => engine.close())
    await hangUnderLoad(engine, proxy)
    expect(waits.most).toBeLessThanOrEqual(POOL_SIZE)
    expect(waits.pending).toBe(0)
  }, 10_000)
})

const mysql = testService('MYSQL_URL', 'MySQL engine: waits for a pooled connection while the server hangs')
describe.skipIf(!mysql.url)(mysql.label, () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  test('never more than the pool size, and none left once the server is back', async () => {
    const url = mysql.url as string
    const proxy = await startTcpProxy(Number(new URL(url).port))
    cleanups.push(() => proxy.close())
    const databases = freshDatabases(url)
    cleanups.push(() => databases.dropAll())
    const database = await databases.create()
    const pool = createPool({
      uri: database.urlThrough(proxy.port),
      connectionLimit: POOL_SIZE,
      connectTimeout: OPERATION_TIMEOUT + 1_000,
    })
    cleanups.push(() => pool.end())
    const waits = countWaits(pool, 'getConnection')
    const engine = await mysqlEngine({ database: pool, operationTimeout: OPERATION_TIMEOUT, migrate: true })
    cleanups.push(() => engine.close())
    await hangUnderLoad(engine, proxy)
    expect(waits.most).toBeLessThanOrEqual(POOL_SIZE)
    expect(waits.pending).toBe(0)
  }, 10_000)
})
