import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { SessionEngine } from 'elysia-sessions'
import { redisEngine } from 'elysia-sessions/engines/redis'
import { describeOutage } from './support/outage-figures.js'
import { type OutageKind, type OutagePace, type OutageRun, SessionsUnderLoad } from './support/outage-run.js'
import { PROXIED_ENGINES, type ProxiedStore } from './support/proxied-engines.js'
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

/** The four promises of an outage run, checked on what it saw. */
async function expectSurvived(what: string, subject: SessionsUnderLoad, run: OutageRun) {
  const readBack = await subject.readBack()
  const writes = {
    acknowledged: run.acknowledged,
    acknowledgedWhileBroken: run.acknowledgedWhileBroken,
    readBack: readBack.acknowledged,
    lost: readBack.lost,
  }
  console.info(
    `outage-runs: ${describeOutage(what, run.figures, writes)}; ` +
      `${readBack.failedButStored} writes answered 503 were stored all the same`,
  )
  const { figures } = run
  expect({ wrong: run.wrongAnswers.length, first: run.wrongAnswers.slice(0, 5) }).toEqual({ wrong: 0, first: [] })
  // 1. Every request answered, and fast: those started during the outage within their time limit.
  expect(figures.requestsDuring).toBeGreaterThan(0)
  expect(figures.maxDuring).toBeLessThanOrEqual(OPERATION_TIMEOUT + LATENCY_MARGIN)
  expect(figures.maxOverall).toBeLessThanOrEqual(LONGEST_ANSWER)
  // 2. Bounded work: in flight never more than the time limit lets pile up, and nothing left afterwards.
  expect(figures.maxInFlightDuring).toBeLessThanOrEqual(IN_FLIGHT_BOUND)
  expect(run.leftPending).toBe(0)
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

    beforeAll(async () => {
      const url = service.url as string
      proxy = await startTcpProxy(Number(new URL(url).port))
      opened = await networked.open(url, proxy.port, { label: 'outage_run', operationTimeout: OPERATION_TIMEOUT })
      subject = new SessionsUnderLoad(opened.engine)
      await subject.login(SESSIONS)
    })

    afterAll(async () => {
      await proxy?.restore()
      await opened?.close()
      await proxy?.close()
    })

    const healProxy = async () => {
      const backAt = performance.now()
      await proxy.restore()
      return backAt
    }

    test(
      'a server that hangs for 5 s: requests fail fast, nothing piles up, back within 1 s, nothing lost',
      async () => {
        const hangs: OutageKind = { break: () => proxy.blackHole('black-hole'), heal: healProxy }
        await expectSurvived(`${networked.name}, server hangs`, subject, await subject.run(PACE, hangs))
      },
      RUN_TIME_LIMIT,
    )

    test(
      'a server that refuses connections for 5 s: requests fail fast, back within 1 s, nothing lost',
      async () => {
        const refuses: OutageKind = { break: () => proxy.cut(), heal: healProxy }
        await expectSurvived(`${networked.name}, connections refused`, subject, await subject.run(PACE, refuses))
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
      await expectSurvived('Redis, server killed and restarted', subject, await subject.run(PACE, restart))
    },
    RUN_TIME_LIMIT,
  )
})
