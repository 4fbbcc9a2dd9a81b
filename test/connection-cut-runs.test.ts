import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia, t } from 'elysia'
import { type SessionEngine, session } from 'elysia-sessions'
import fc from 'fast-check'
import {
  addToTotals,
  type CommitClient,
  checkSession,
  commitClients,
  commitOf,
  emptyTotals,
} from './support/commit-log.js'
import { cookiePairOf, idOf, SECRET, SILENT_LOGGER, send } from './support/http.js'
import { PROPERTY_SEED } from './support/property-runs.js'
import { closeProxiedStore, PROXIED_ENGINES, type ProxiedStore } from './support/proxied-engines.js'
import { testService } from './support/services.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

/** Short, so a commit whose connection was cut fails fast and the run stays short. */
const OPERATION_TIMEOUT = 500

/** Clients writing at once, each to a session of its own. */
const CLIENTS = 16

/** Cuts per engine. */
const CUTS = 12

/** Ms of writing before each cut, and how long each cut lasts, drawn from the seed. */
const WRITING_BEFORE_CUT = { min: 30, max: 200 }
const CUT_LENGTH = { min: 10, max: 120 }

/** Commits acknowledged after the last cut before the clients stop, to show the engine came back. */
const ACKNOWLEDGED_AFTER_LAST_CUT = 3 * CLIENTS

/** How long a client waits after a failed request before its next commit, so an outage is not a busy loop. */
const PAUSE_AFTER_FAILURE = 10

/** The bodies of the 503 a failed commit and a failed load answer. */
const COMMIT_FAILED = 'Session engine failed to commit a session'
const LOAD_FAILED = 'Session engine failed to load a session'

/** Names the seed in each test's name, so a failure says how to replay it. */
const REPLAY = `seed ${PROPERTY_SEED}, replay with FC_SEED=${PROPERTY_SEED}`

/** `engine`, with a count of the commits it has been asked for and not yet settled. */
function watchCommits(engine: SessionEngine): { engine: SessionEngine; inFlight: () => number } {
  let inFlight = 0
  // A copy of its methods: the networked engines are plain objects whose methods never use `this`.
  const watched: SessionEngine = {
    ...engine,
    commit(id, changes, now) {
      inFlight++
      return engine.commit(id, changes, now).finally(() => {
        inFlight--
      })
    },
  }
  return { engine: watched, inFlight: () => inFlight }
}

/** Resolves once `condition` holds, checking every millisecond; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await Bun.sleep(1)
  }
}

/** The session's string values, keyed as the app named them. */
function stringsOf(data: Readonly<Record<string, unknown>>): Record<string, string> {
  const strings: Record<string, string> = {}
  for (const [key, value] of Object.entries(data)) {
    if (key.startsWith('string:') && typeof value === 'string') strings[key.slice('string:'.length)] = value
  }
  return strings
}

for (const networked of PROXIED_ENGINES) {
  const service = testService(
    networked.variable,
    `${networked.name} engine: connections cut mid-commit lose no acknowledged commit`,
  )
  describe.skipIf(!service.url)(service.label, () => {
    let proxy: TcpProxy
    let store: ProxiedStore

    beforeAll(async () => {
      const url = service.url as string
      proxy = await startTcpProxy(Number(new URL(url).port))
      store = await networked.open(url, proxy.port, { label: 'cut', operationTimeout: OPERATION_TIMEOUT })
    })

    afterAll(() => closeProxiedStore(proxy, store))

    test(`${CUTS} cuts while ${CLIENTS} clients commit several keys at once (${REPLAY})`, async () => {
      const [writing, cutLengths] = [WRITING_BEFORE_CUT, CUT_LENGTH].map((range, index) =>
        fc.sample(fc.integer(range), { seed: PROPERTY_SEED + index, numRuns: CUTS }),
      ) as [number[], number[]]
      const watched = watchCommits(store.engine)
      const app = new Elysia()
        .use(
          session({ secret: SECRET, engine: watched.engine, logger: SILENT_LOGGER, gcInterval: 0, touchInterval: 0 }),
        )
        .post(
          '/set-many',
          ({ body, session }) => {
            for (const [key, value] of Object.entries(body)) session.string(key, value)
            return 'ok'
          },
          { body: t.Record(t.String(), t.String()) },
        )
      // Reads the store straight from the server, not through the proxy, during the cuts and at the end.
      const direct = await store.openDirect()
      const readBack = async (client: CommitClient) => {
        const stored = client.cookie ? await direct.load(idOf(client.cookie), Date.now()) : null
        return checkSession(client, stored ? stringsOf(stored.data) : undefined)
      }

      const clients = commitClients(CLIENTS)
      const failures = { commit: 0, load: 0, other: [] as string[] }
      /** What the sessions showed right after failed commits, while later commits had not yet overwritten them. */
      const foundAfterFailures: string[] = []
      let acknowledged = 0
      let stopped = false
      const write = async (client: CommitClient) => {
        while (!stopped) {
          const n = client.next++
          client.inFlight = n
          const response = await send(app, '/set-many', {
            method: 'POST',
            cookie: client.cookie,
            json: commitOf(client, n),
          })
          const body = await response.text()
          client.inFlight = undefined
          if (response.status === 200) {
            client.acknowledged.push(n)
            client.cookie ??= cookiePairOf(response)
            acknowledged++
            continue
          }
          client.unknown.push(n)
          if (response.status === 503 && body === COMMIT_FAILED) failures.commit++
          else if (response.status === 503 && body === LOAD_FAILED) failures.load++
          else failures.other.push(`${response.status} ${body}`)
          // The failed commit is stored whole or not at all, over every commit before it: checked before the next one
          // overwrites what it left.
          for (const problem of (await readBack(client)).problems) {
            foundAfterFailures.push(`client ${client.index}, after commit ${n} failed: ${problem}`)
          }
          await Bun.sleep(PAUSE_AFTER_FAILURE)
        }
      }

      const writers = Promise.all(clients.map(write))
      const commitsInFlightAtCuts: number[] = []
      /** How many commits each cut failed: those that failed from the cut until writing was back. */
      const commitsFailedByCuts: number[] = []
      try {
        let acknowledgedBefore = 0
        let failedBefore = 0
        for (let cut = 0; cut < CUTS; cut++) {
          // Each cut comes once commits are acknowledged again: the engine is back after the cut before.
          await until(() => acknowledged > acknowledgedBefore, 10_000, 'a commit is acknowledged')
          if (cut > 0) commitsFailedByCuts.push(failures.commit - failedBefore)
          failedBefore = failures.commit
          await Bun.sleep(writing[cut] as number)
          await until(() => watched.inFlight() > 0, 5_000, 'a commit is in flight')
          commitsInFlightAtCuts.push(watched.inFlight())
          await proxy.cut()
          await Bun.sleep(cutLengths[cut] as number)
          await proxy.restore()
          acknowledgedBefore = acknowledged
        }
        await until(
          () => acknowledged >= acknowledgedBefore + ACKNOWLEDGED_AFTER_LAST_CUT,
          10_000,
          'the engine is back after the last cut',
        )
        commitsFailedByCuts.push(failures.commit - failedBefore)
      } finally {
        stopped = true
        await proxy.restore()
        await writers
      }

      const totals = emptyTotals()
      for (const client of clients) addToTotals(totals, client, await readBack(client), 'at the end')
      const cutsThatFailedCommits = commitsFailedByCuts.filter((failed) => failed > 0).length
      console.log(
        `connection cuts, ${networked.name} engine (seed ${PROPERTY_SEED}): ${CUTS} cuts with ` +
          `${commitsInFlightAtCuts.join(', ')} commits in flight, ${cutsThatFailedCommits} of them failed commits; ` +
          `${totals.acknowledged} commits acknowledged, ${totals.lost} lost; ` +
          `${failures.commit} commits and ${failures.load} loads failed (503); ` +
          `${totals.unknownKept} of the ${totals.unknown} failed requests' commits stored`,
      )
      expect(foundAfterFailures).toEqual([])
      expect(totals.problems).toEqual([])
      expect(totals.lost).toBe(0)
      expect(failures.other).toEqual([])
      // The cuts hit commits: most of them failed at least one commit in flight.
      expect(cutsThatFailedCommits).toBeGreaterThanOrEqual(CUTS / 2)
      expect(totals.acknowledged).toBeGreaterThan(CUTS * CLIENTS)
    }, 60_000)
  })
}
