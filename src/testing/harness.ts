import type { SessionData, SessionEngine, SessionEntry } from '../engine.js'
import { generateSessionId } from '../session-id.js'

/** How long a session lives that must stay alive through a test. */
export const LONG_LIFETIME = 3_600_000

/** How long a session lives that a test lets expire. */
export const SHORT_LIFETIME = 1_500

/** How far a test moves the clock to expire its short-lived sessions. */
export const EXPIRY_WAIT = 2_000

/** How many commits the bulk tests run at once. */
const COMMITS_AT_ONCE = 100

/**
 * The suite's clock: real time when a test starts, moved forward by `advance` without waiting. An engine whose server
 * expires sessions on its own clock cannot be fooled by a later `now`, so for it `advance` really waits.
 */
export interface SuiteClock {
  now(): number
  advance(milliseconds: number): Promise<void>
}

/** A clock starting at real time; `advance` moves it without waiting unless `serverExpiry` makes it wait for real. */
export function createSuiteClock(serverExpiry: boolean): SuiteClock {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    async advance(milliseconds) {
      if (serverExpiry) await Bun.sleep(milliseconds)
      else offset += milliseconds
    },
  }
}

/** What the tests of one conformance run share; `engine` and `clock` are fresh for each test. */
export interface ConformanceHarness {
  /** The engine under test, emptied with `deleteAll()` before each test. */
  readonly engine: SessionEngine
  readonly clock: SuiteClock
  /** Whether the engine's server expires sessions by itself, so `deleteExpired` may find nothing to do. */
  readonly serverExpiry: boolean
  readonly bulkSize: number
  /** The timeout of tests that commit `bulkSize` sessions or wait for a server to expire sessions. */
  readonly slowTimeout: number
  /** Another engine from the factory; the suite closes it after the test. */
  openEngine(): Promise<SessionEngine>
}

/** A fresh id in the shape the plugin generates, so engines that check ids accept it. */
export const newId = (): string => generateSessionId()

/** Commits `set` to `id` with an expiry `lifetime` from the clock's now and resolves to that expiry. */
export async function commitFor(
  harness: ConformanceHarness,
  id: string,
  set: SessionData,
  lifetime: number = LONG_LIFETIME,
  engine: SessionEngine = harness.engine,
): Promise<number> {
  const now = harness.clock.now()
  const expiresAt = now + lifetime
  await engine.commit(id, { set, deleted: [], expiresAt }, now)
  return expiresAt
}

/** One session as a test committed it: what `load` and `entries` must give back. */
export interface CommittedSession {
  readonly data: SessionData
  readonly expiresAt: number
}

/** Commits `count` sessions with distinct data, many at once, and resolves to what was committed under each id. */
export async function commitMany(
  harness: ConformanceHarness,
  count: number,
  lifetime: number,
): Promise<Map<string, CommittedSession>> {
  const committed = new Map<string, CommittedSession>()
  for (let start = 0; start < count; start += COMMITS_AT_ONCE) {
    const chunk = Array.from({ length: Math.min(COMMITS_AT_ONCE, count - start) }, async (_, offset) => {
      const id = newId()
      const data = { 'int:index': start + offset, 'string:id': id }
      committed.set(id, { data, expiresAt: await commitFor(harness, id, data, lifetime) })
    })
    await Promise.all(chunk)
  }
  return committed
}

/** Every batch `entries` yields at `now`. */
export async function collectBatches(
  engine: SessionEngine,
  now: number,
  batchSize: number,
): Promise<(readonly SessionEntry[])[]> {
  const batches: (readonly SessionEntry[])[] = []
  for await (const batch of engine.entries(now, { batchSize })) batches.push(batch)
  return batches
}

/**
 * Runs `change` on data an engine handed out. An engine may hand out frozen data, so the TypeError a frozen object
 * throws counts as the change being refused; what the tests then check is that the store never saw it.
 */
export function tryToChange(change: () => void): void {
  try {
    change()
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
  }
}
