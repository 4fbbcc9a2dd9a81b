import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { SessionEngine } from 'elysia-sessions'
import { redisEngine } from 'elysia-sessions/engines/redis'
import type { ConnectionWaits } from './support/connection-waits.js'
import { describeOutage } from './support/outage-figures.js'
import { type OutageKind, type OutagePace, type OutageRun, SessionsUnderLoad } from './support/outage-run.js'
import { closeProxiedStore, POOL_SIZE, PROXIED_ENGINES, type ProxiedStore } from './support/proxied-engines.js'
import { type OwnRedisServer, startOwnRedisServer } from './support/redis-server-process.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/** Short, so that the outage's requests fail fast and the run stays short. */
const OPERATION_TIMEOUT = 500

/** 200 requests a second, half reads and half writes, for 5 s of outage: one per engine and kind, for CI's budget. */
const PACE: OutagePace = { interval: 5, before: 500, outage: 5_000 }

/**
 * What a request may take beyond `OPERATION_TIMEOUT` while the path is broken: the deadline timer firing late and the
 * answer waiting its turn in an event loop that runs 200 requests a second on a noisy 2-core machine shared with other
 * test runs.
 */
const LATENCY_MARGIN = 500

/**
 * What the 99th percentile of the requests started during the outage may take beyond `OPERATION_TIMEOUT`: a hundredth
 * of them may meet the worst of the noise `LATENCY_MARGIN` allows for, the others must fail within about the time
 * limit, which the generous maximum alone would not show.
 */
const P99_MARGIN = 250

/**
 * A request that loaded its session just before the break may then wait for its commit as long again: the load and
 * the commit each have their own time limit.
 */
const LONGEST_ANSWER = 2 * OPERATION_TIMEOUT + LATENCY_MARGIN

/** If every request started waits out its time limit (and its margin), at most this many are in flight at once. */
const IN_FLIGHT_BOUND = Math.ceil((OPERATION_TIMEOUT + LATENCY_MARGIN) / PACE.interval)

/** How soon after the server is back requests must succeed again. */
const RECOVERY_LIMIT = 1_000

/** How many sessions the load reads and writes. */
const SESSIONS = 32

/** Each run is 5.5 s of load and up to 3 s of recovery; the readback and setup add a little. */
const RUN_TIME_LIMIT = 20_000

/**
 * The four promises of an outage run, checked on what it saw; `waits` are those of the engine's pool, for an engine
 * with one.
 */
async function expectSurvived(
  what: string,
  subject: SessionsUnderLoad,
  run: OutageRun,
  waits: ConnectionWaits | undefined,
) {
  const readBack = await subject.readBack()
  const writes = {
    acknowledged: run.acknowledged,
    acknowledgedWhileBroken: run.acknowledgedWhileBroken,
    readBack: readBack.acknowledged,
    lost: readBack.lost,
  }
  const driverWaits = waits ? `; at most ${waits.most} waits for a connection in a pool of ${POOL_SIZE}` : ''
  console.log(
    `outage-runs: ${describeOutage(what, run.figures, writes)}; ` +
      `${readBack.failedButStored} writes answered 503 were stored all the same${driverWaits}`,
  )
  const { figures } = run
  expect({ wrong: run.wrongAnswers.length, first: run.wrongAnswers.slice(0, 5) }).toEqual({ wrong: 0, first: [] })
  // 1. Every request answered, and fast: those started during the outage within their time limit.
  expect(figures.requestsDuring).toBeGreaterThan(0)
  expect(figures.p99During).toBeLessThanOrEqual(OPERATION_TIMEOUT + P99_MARGIN)
  expect(figures.maxDuring).toBeLessThanOrEqual(OPERATION_TIMEOUT + LATENCY_MARGIN)
  expect(figures.maxOverall).toBeLessThanOrEqual(LONGEST_ANSWER)
  // 2. Bounded work: in flight never more than the time limit lets pile up, and nothing left afterwards.
  expect(figures.maxInFlightDuring).toBeLessThanOrEqual(IN_FLIGHT_BOUND)
  expect(run.leftPending).toBe(0)
  // The driver's queue too: the pool was asked for connections (so the count sees its waits), never for more at once
  // than it has, and none are left once the server is back.
  if (waits) {
    expect(waits.most).toBeGreaterThan(0)
    expect(waits.most).toBeLessThanOrEqual(POOL_SIZE)
    expect(waits.pending).toBe(0)
  }
  // 3. Back within a second of the server, on the same engine.
  expect(figures.firstSuccessAfter ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(RECOVERY_LIMIT)
  expect(figures.steadySuccessAfter ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(RECOVERY_LIMIT)
  // 4. Nothing acknowledged lost, nobody logged out.
  expect(run.acknowledged).toBeGreaterThan(0)
  expect(readBack.lost).toBe(0)
  expect(readBack.loggedOut).toBe(0)
}

for (const networked of PROXIED_ENGINES) {
  const service = testService(networked.variable, `${networked.name} engine: 5 s outages under load`)
  describe.skipIf(!service.url)(service.label, () => {
    let proxy: TcpProxy
    let opened: ProxiedStore
    let subject: SessionsUnderLoad
    /** The waits for a connection of the engine's pool; Redis's client has none. */
    let waits: ConnectionWaits | undefined

    beforeAll(async () => {
      const url = service.url as string
      proxy = await startTcpProxy(Number(new URL(url).port))
      const options = { label: 'outage_run', operationTimeout: OPERATION_TIMEOUT, countWaits: true }
      opened = await networked.open(url, proxy.port, options)
      waits = opened.waits
      if (!waits && networked.variable !== 'REDIS_URL') throw new Error(`${networked.name}: no count of its waits`)
      subject = new SessionsUnderLoad(opened.engine)
      await subject.login(SESSIONS)
    })

    afterAll(() => closeProxiedStore(proxy, opened))

    /** Runs the load through an outage of `kind`, counting the pool's waits for this run alone. */
    const runThrough = (kind: OutageKind) => {
      waits?.restart()
      return subject.run(PACE, kind)
    }

    const healProxy = async () => {
      const backAt = performance.now()
      await proxy.restore()
      return backAt
    }

    test(
      'a server that hangs for 5 s: requests fail fast, nothing piles up, in flight or in the pool, back within 1 s, nothing lost',
      async () => {
        const hangs: OutageKind = { break: () => proxy.blackHole('black-hole'), heal: healProxy }
        await expectSurvived(`${networked.name}, server hangs`, subject, await runThrough(hangs), waits)
        // Every connection hangs with the server, so the engines keep the pool asked for all it has, and no more.
        if (waits) expect(waits.most).toBe(POOL_SIZE)
      },
      RUN_TIME_LIMIT,
    )

    test(
      'a server that refuses connections for 5 s: requests fail fast, back within 1 s, nothing lost',
      async () => {
        const refuses: OutageKind = { break: () => proxy.cut(), heal: healProxy }
        await expectSurvived(`${networked.name}, connections refused`, subject, await runThrough(refuses), waits)
      },
      RUN_TIME_LIMIT,
    )
  })
}

const redis = testService('REDIS_URL', 'Redis engine: its own redis-server killed and restarted under load')
describe.skipIf(!redis.url)(redis.label, () => {
  let server: OwnRedisServer
  let engine: SessionEngine
  let subject: SessionsUnderLoad

  beforeAll(async () => {
    server = await startOwnRedisServer()
    engine = await redisEngine({ url: server.url, operationTimeout: OPERATION_TIMEOUT })
    subject = new SessionsUnderLoad(engine)
    await subject.login(SESSIONS)
  })

  afterAll(async () => {
    await engine?.close()
    await server?.dispose()
  })

  test(
    'SIGKILLed and started again 5 s later: requests fail fast, back within 1 s of PONG, nothing acknowledged lost',
    async () => {
      // SIGKILL, not SHUTDOWN: a crash gives Redis no chance to flush, so only appendfsync always keeps the writes.
      const restart: OutageKind = { break: () => server.kill(), heal: () => server.start() }
      await expectSurvived('Redis, server killed and restarted', subject, await subject.run(PACE, restart), undefined)
    },
    RUN_TIME_LIMIT,
  )
})
