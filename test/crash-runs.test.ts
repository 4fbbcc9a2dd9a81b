import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import {
  addToTotals,
  type CommitClient,
  checkSession,
  commitClients,
  commitOf,
  emptyTotals,
  type RunTotals,
} from './support/commit-log.js'
import { cookiePairOf } from './support/http.js'
import { PROPERTY_SEED } from './support/property-runs.js'
import { keysOf, killAllServers, killNow, type Server, startServer, stopServer } from './support/server-process.js'

/** Clients writing at once, each to a session of its own. */
const CLIENTS = 16

/** Kills per engine, each followed by a restart on the same store. */
const KILLS = 5

/** The kill comes once the run has this many acknowledged commits in all, drawn from the seed. */
const ACKNOWLEDGED_BEFORE_KILL = { least: 100, most: 600 }

/** Names the seed in each test's name, so a failure says how to replay it. */
const REPLAY = `seed ${PROPERTY_SEED}, replay with FC_SEED=${PROPERTY_SEED}`

afterAll(killAllServers)

/** The engines, each with the options of a store in a fresh temporary folder: their defaults otherwise. */
const ENGINES = [
  { kind: 'sqlite', options: (folder: string) => ({ path: join(folder, 'sessions.sqlite') }) },
  { kind: 'file', options: (folder: string) => ({ dir: join(folder, 'sessions') }) },
] as const

/** What a kill found in flight, and what the clients sent before it. */
interface KillRun {
  readonly clients: CommitClient[]
  /** Requests in flight at the moment of the kill. */
  readonly inFlightAtKill: number
  /** Answers other than 200 received before the kill: a server that is up answers every commit. */
  readonly refused: string[]
}

/**
 * Runs `CLIENTS` clients against `server`, each sending its commits one after another, and SIGKILLs the server from the
 * callback of the `killAfter`th acknowledgement, while the other clients' requests are in flight.
 */
async function writeUntilKilled(server: Server, killAfter: number): Promise<KillRun> {
  const clients = commitClients(CLIENTS)
  const refused: string[] = []
  let acknowledged = 0
  let inFlightAtKill = -1
  const inFlight = () => clients.filter((client) => client.inFlight !== undefined).length

  const write = async (client: CommitClient) => {
    while (inFlightAtKill < 0) {
      const n = client.next++
      client.inFlight = n
      let response: Response
      try {
        response = await fetch(`${server.origin}/set-many`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(client.cookie && { cookie: client.cookie }) },
          body: JSON.stringify(commitOf(client, n)),
        })
        await response.arrayBuffer()
      } catch {
        // The connection died with the server: the commit may or may not have been stored.
        client.unknown.push(n)
        client.inFlight = undefined
        return
      }
      client.inFlight = undefined
      if (response.status !== 200) {
        refused.push(`client ${client.index}, commit ${n}: ${response.status}`)
        client.unknown.push(n)
        return
      }
      client.acknowledged.push(n)
      client.cookie ??= cookiePairOf(response)
      if (++acknowledged === killAfter) {
        inFlightAtKill = inFlight()
        server.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(clients.map(write))
  await killNow(server.child)
  return { clients, inFlightAtKill, refused }
}

/** Reads every client's session back through `server` and checks it against what the client sent. */
async function checkAfterRestart(server: Server, run: KillRun, totals: RunTotals, label: string) {
  for (const client of run.clients) {
    let stored: Record<string, string> | undefined
    if (client.cookie) {
      const read = await keysOf(server, client.cookie)
      if (read.status !== 200) totals.problems.push(`${label}, client ${client.index}: read answered ${read.status}`)
      stored = read.keys as Record<string, string>
    }
    addToTotals(totals, client, checkSession(client, stored), label)
  }
}

describe('crash runs: a server SIGKILLed while 16 clients write loses no acknowledged commit', () => {
  for (const engine of ENGINES) {
    test(`${engine.kind} engine, ${KILLS} kills (${REPLAY})`, async () => {
      const killsAfter = fc.sample(
        fc.integer({ min: ACKNOWLEDGED_BEFORE_KILL.least, max: ACKNOWLEDGED_BEFORE_KILL.most }),
        {
          seed: PROPERTY_SEED,
          numRuns: KILLS,
        },
      )
      const folder = mkdtempSync(join(tmpdir(), `elysia-sessions-crash-${engine.kind}-`))
      const start = () => startServer(engine.kind, { options: engine.options(folder) })
      try {
        const totals = emptyTotals()
        const runs: KillRun[] = []
        const inFlightAtKills: number[] = []
        const killedStderr: Promise<string>[] = []
        let server = await start()
        for (let kill = 1; kill <= KILLS; kill++) {
          const run = await writeUntilKilled(server, killsAfter[kill - 1] as number)
          runs.push(run)
          killedStderr.push(server.stderr)
          inFlightAtKills.push(run.inFlightAtKill)
          totals.problems.push(...run.refused)
          // The next server reads the store the killed one left, then takes the next round of writes.
          server = await start()
          await checkAfterRestart(server, run, totals, `kill ${kill}`)
        }
        // Every round again, on the last server: no later kill or restart damaged an earlier round's sessions.
        const atTheEnd = emptyTotals()
        for (const [index, run] of runs.entries()) {
          await checkAfterRestart(server, run, atTheEnd, `kill ${index + 1}, read after the last restart`)
        }
        const stopped = await stopServer(server)

        console.log(
          `crash runs, ${engine.kind} engine (seed ${PROPERTY_SEED}): ${KILLS} kills with ` +
            `${inFlightAtKills.join(', ')} commits in flight; ` +
            `${totals.acknowledged} commits acknowledged, ${totals.lost} lost; ` +
            `${totals.unknownKept} of the ${totals.unknown} unanswered commits stored; ` +
            `${atTheEnd.lost} lost when every round was read again after the last restart`,
        )
        expect(totals.problems).toEqual([])
        expect(totals.lost).toBe(0)
        expect(atTheEnd.problems).toEqual([])
        expect({ acknowledged: atTheEnd.acknowledged, lost: atTheEnd.lost }).toEqual({
          acknowledged: totals.acknowledged,
          lost: 0,
        })
        expect(totals.acknowledged).toBeGreaterThanOrEqual(KILLS * ACKNOWLEDGED_BEFORE_KILL.least)
        // Every kill hit commits in flight: most clients were waiting for an answer.
        for (const inFlight of inFlightAtKills) expect(inFlight).toBeGreaterThan(CLIENTS / 2)
        // No server logged an error: a torn session file or row would have been reported when read back.
        expect(await Promise.all(killedStderr)).toEqual(Array(KILLS).fill(''))
        expect(stopped).toEqual({ code: 0, stdout: 'closed\n', stderr: '' })
      } finally {
        rmSync(folder, { recursive: true, force: true })
      }
    }, 60_000)
  }
})
