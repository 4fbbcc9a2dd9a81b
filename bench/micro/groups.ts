import type { SessionChanges, SessionEngine } from '../../src/engine.js'
import { memoryEngine } from '../../src/engines/memory.js'
import { generateSessionId } from '../../src/session-id.js'
import { createCookieSigner } from '../../src/signing.js'
import { ENGINE_CASES } from './engines.js'
import { BENCH_SECRET, openRequestScenarios } from './request-apps.js'

/** One function to measure; `baseline` marks what the others in its group are compared with. */
export interface Bench {
  readonly name: string
  readonly fn: () => unknown
  readonly baseline?: boolean
}

/** A group whose benchmarks are ready to run, and how to release what they hold. */
export interface OpenGroup {
  readonly benches: readonly Bench[]
  close(): Promise<void>
}

/** A named group of benchmarks; `open` prepares them (and may throw `EngineUnavailable` to skip the group). */
export interface BenchGroup {
  readonly name: string
  open(): Promise<OpenGroup>
}

const HOUR = 3_600_000

/** The small session every engine benchmark stores: one int and one short string, as an app's counter and name. */
export function smallSession(n: number): SessionChanges {
  return { set: { 'int:count': n, 'string:name': `user-${n}` }, deleted: [], expiresAt: Date.now() + HOUR }
}

/** What a request that increments the counter of a loaded session commits. */
function increment(n: number): SessionChanges {
  return { set: { 'int:count': n }, deleted: [], expiresAt: Date.now() + HOUR, existingOnly: true }
}

/** `load` and `commit` of one existing session (or, with `ids`, of sessions taken in turn from `ids`). */
function engineBenches(engine: SessionEngine, ids: readonly string[], suffix = ''): Bench[] {
  let loads = 0
  let commits = 0
  return [
    {
      name: `load${suffix}`,
      async fn() {
        const stored = await engine.load(ids[loads++ % ids.length]!, Date.now())
        if (stored === null) throw new Error('a benchmark session was not found')
      },
    },
    {
      name: `commit${suffix}`,
      async fn() {
        const n = commits++
        if (!(await engine.commit(ids[n % ids.length]!, increment(n), Date.now()))) {
          throw new Error('a benchmark session was not written')
        }
      },
    },
  ]
}

async function seed(engine: SessionEngine, count: number): Promise<string[]> {
  const ids: string[] = []
  const now = Date.now()
  for (let n = 0; n < count; n++) {
    const id = generateSessionId()
    await engine.commit(id, smallSession(n), now)
    ids.push(id)
  }
  return ids
}

const cookieGroup: BenchGroup = {
  name: 'cookie',
  async open() {
    const signer = createCookieSigner([BENCH_SECRET])
    const rotated = createCookieSigner([`new-${BENCH_SECRET}`, BENCH_SECRET])
    const id = generateSessionId()
    const signed = signer.sign(id)
    const forged = `${id}.${'A'.repeat(43)}`
    const expect = (ok: boolean) => {
      if (!ok) throw new Error('the signer gave an unexpected answer')
    }
    expect(signer.verify(signed)?.id === id && rotated.verify(signed)?.stale === true && !signer.verify(forged))
    return {
      benches: [
        { name: 'sign', fn: () => signer.sign(id) },
        { name: 'verify', fn: () => signer.verify(signed) },
        { name: 'verify (second of two secrets)', fn: () => rotated.verify(signed) },
        { name: 'verify (forged signature)', fn: () => signer.verify(forged) },
        { name: 'generate session id', fn: () => generateSessionId() },
      ],
      async close() {},
    }
  },
}

const engineGroups: BenchGroup[] = ENGINE_CASES.map((engineCase) => ({
  name: `engine ${engineCase.name}`,
  async open() {
    const { engine, cleanup } = await engineCase.open()
    try {
      const ids = await seed(engine, 1)
      return { benches: engineBenches(engine, ids), close: cleanup }
    } catch (error) {
      await cleanup()
      throw error
    }
  },
}))

const MANY_SESSIONS = 100_000

const manySessionsGroup: BenchGroup = {
  name: `memory engine holding ${MANY_SESSIONS.toLocaleString('en')} sessions`,
  async open() {
    const engine = memoryEngine()
    const ids = await seed(engine, MANY_SESSIONS)
    // A fixed shuffle, so consecutive loads touch unrelated entries of the Map.
    for (let index = ids.length - 1; index > 0; index--) {
      const other = (index * 7_919) % (index + 1)
      ;[ids[index], ids[other]] = [ids[other]!, ids[index]!]
    }
    return { benches: engineBenches(engine, ids, ' (a different session each time)'), close: () => engine.close() }
  },
}

const requestGroup: BenchGroup = {
  name: 'request',
  async open() {
    const { scenarios, close } = await openRequestScenarios()
    return {
      benches: scenarios.map((scenario) => ({
        name: scenario.name,
        fn: scenario.send,
        ...(scenario.key === 'bare' && { baseline: true }),
      })),
      close,
    }
  },
}

/** Every group, in the order they run. */
export const GROUPS: readonly BenchGroup[] = [cookieGroup, ...engineGroups, manySessionsGroup, requestGroup]
