import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'bun:test'
import type { SessionEngine } from '../engine.js'
import { type ConformanceHarness, createSuiteClock, type SuiteClock } from './harness.js'
import { registerOwnerTests } from './owner-tests.js'
import { registerSessionTests } from './session-tests.js'
import { registerStoreTests } from './store-tests.js'
import { registerValueTests } from './value-tests.js'

/** Makes a new engine each time it is called; engines from one factory may share one store. */
export type EngineFactory = () => SessionEngine | Promise<SessionEngine>

/** Options of `runEngineConformance`. */
export interface EngineConformanceOptions {
  /**
   * Per-test timeout in milliseconds of the tests that commit `bulkSize` sessions or wait for an engine's server to
   * expire sessions, and of the hooks that open, empty and close engines.
   * @default 30_000
   */
  readonly timeout?: number
  /**
   * How many sessions the bulk tests (iteration, GC) commit.
   * @default 2_000
   */
  readonly bulkSize?: number
  /**
   * Whether engines from `factory` share one store, as engines on one database do. The suite then also proves that
   * concurrent commits through two engines keep every write; without it that test is skipped.
   * @default false
   */
  readonly sharedStore?: boolean
}

/**
 * Registers `bun:test` tests proving that the engines `factory` makes keep every promise of the `SessionEngine`
 * contract; each test is named after the sentence it proves. Call it at the top level of a test file. Before each
 * test the suite empties the store with `deleteAll()`, so give it a store of its own; it closes every engine it opened.
 * Expiry is proven by passing later `now` values, except for engines with `capabilities.serverExpiry`: those get a few
 * real waits of two seconds each. Engines with `capabilities.owners` also get the tests of `listByOwner` and
 * `deleteByOwner`; to read that capability the suite opens one engine while registering its tests, and closes it.
 *
 * @example
 * import { runEngineConformance } from 'elysia-sessions/testing'
 *
 * runEngineConformance('redis', () => redisEngine({ url: process.env.REDIS_URL! }), { sharedStore: true })
 */
export function runEngineConformance(
  name: string,
  factory: EngineFactory,
  options: EngineConformanceOptions = {},
): void {
  const { timeout = 30_000, bulkSize = 2_000, sharedStore = false } = options
  if (!(Number.isSafeInteger(bulkSize) && bulkSize >= 2)) {
    throw new RangeError(`runEngineConformance({ bulkSize }) needs an integer of at least 2, got ${String(bulkSize)}`)
  }
  if (!(typeof timeout === 'number' && timeout > 0)) {
    throw new RangeError(`runEngineConformance({ timeout }) needs a positive number of ms, got ${String(timeout)}`)
  }
  let engine: SessionEngine | undefined
  let clock: SuiteClock | undefined
  const extraEngines: SessionEngine[] = []

  const harness: ConformanceHarness = {
    get engine() {
      if (!engine) throw new Error(`The ${name} engine factory has not made an engine yet`)
      return engine
    },
    get clock() {
      if (!clock) throw new Error('The suite clock starts with each test')
      return clock
    },
    get serverExpiry() {
      return this.engine.capabilities?.serverExpiry === true
    },
    bulkSize,
    slowTimeout: timeout,
    async openEngine() {
      const extra = await factory()
      extraEngines.push(extra)
      return extra
    },
  }

  describe(`${name} engine conformance`, async () => {
    beforeAll(async () => {
      engine = await factory()
    }, timeout)

    beforeEach(async () => {
      await harness.engine.deleteAll()
      clock = createSuiteClock(harness.serverExpiry)
    }, timeout)

    afterEach(async () => {
      const closing = extraEngines.splice(0).map((extra) => extra.close())
      await Promise.all(closing)
    }, timeout)

    afterAll(async () => {
      try {
        await engine?.deleteAll()
      } finally {
        await engine?.close()
        engine = undefined
      }
    }, timeout)

    registerSessionTests(harness, { sharedStore })
    registerValueTests(harness)
    registerStoreTests(harness)
    // Which tests exist must be known before any runs, so a first engine is opened here only to read its capabilities.
    if (await declaresOwners(factory)) registerOwnerTests(harness)
  })
}

/** Whether the engines `factory` makes declare `capabilities.owners`, read from one engine that is closed at once. */
async function declaresOwners(factory: EngineFactory): Promise<boolean> {
  const probe = await factory()
  try {
    return probe.capabilities?.owners === true
  } finally {
    await probe.close()
  }
}
