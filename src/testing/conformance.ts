import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'bun:test'
import type { SessionEngine } from '../engine.js'
import { type ConformanceHarness, createSuiteClock, type SuiteClock } from './harness.js'
import { registerModelTests } from './model-tests.js'
import { registerOwnerTests } from './owner-tests.js'
import { randomSeed } from './random.js'
import { registerSessionTests } from './session-tests.js'
import { registerStoreTests } from './store-tests.js'
import { throughSynchronousCalls } from './synchronous-calls.js'
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
  /**
   * Whether the engines declare `capabilities.owners`, which adds the tests of `listByOwner` and `deleteByOwner`.
   * Absent, the suite reads it from one engine it makes (and closes) while registering the tests, and fails when the
   * factory cannot make one that early (it needs a `beforeAll` hook, or a server that may be absent): then give it.
   * The owner tests fail for an engine that does not declare the capability.
   * @default read from the engine
   */
  readonly owners?: boolean
  /**
   * Whether the engines offer synchronous calls (`engine.sync`, naming the engine as the plugin requires): the suite
   * then runs every test a second time with `load`, `commit`, `touch` and `delete` answered by them.
   * Absent, the suite reads it from one engine it makes (and closes) while registering the tests, as for `owners`;
   * when the factory cannot make one that early, a test fails if the engines turn out to offer them.
   * @default read from the engine
   */
  readonly synchronous?: boolean
  /**
   * How many runs the model-based test makes: each empties the store, then takes `modelSteps` random steps (commits,
   * some of them concurrent, touches, loads, deletes, sweeps, counts, iterations and clock moves) and checks the engine
   * against a reference model after every step. `0` leaves the test out.
   * @default 10
   */
  readonly modelRuns?: number
  /**
   * How many steps each run of the model-based test takes.
   * @default 40
   */
  readonly modelSteps?: number
  /**
   * The seed of the first run of the model-based test; run `n` uses `modelSeed + n`. A failing run prints its seed and
   * steps: pass that seed with `modelRuns: 1` to replay it.
   * @default a new random seed each time the suite is registered
   */
  readonly modelSeed?: number
}

/**
 * Registers `bun:test` tests proving that the engines `factory` makes keep every promise of the `SessionEngine`
 * contract; each test is named after the sentence it proves. Call it at the top level of a test file. Before each
 * test the suite empties the store with `deleteAll()`, so give it a store of its own; it closes every engine it opened.
 * Expiry is proven by passing later `now` values, except for engines with `capabilities.serverExpiry`: those get a few
 * real waits of two seconds each. Engines with `capabilities.owners` also get the tests of `listByOwner` and
 * `deleteByOwner` (see the `owners` option for how the suite learns it). A model-based test then runs seeded random
 * sequences of every method, with concurrent commits and a moving clock, against a reference model of the contract
 * (see `modelRuns`); a failure prints the seed and the steps that replay it. Engines with synchronous calls get every
 * test a second time through them (see `synchronous`).
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
  const {
    timeout = 30_000,
    bulkSize = 2_000,
    sharedStore = false,
    owners,
    synchronous,
    modelRuns = 10,
    modelSteps = 40,
    modelSeed = randomSeed(),
  } = options
  if (!(Number.isSafeInteger(bulkSize) && bulkSize >= 2)) {
    throw new RangeError(`runEngineConformance({ bulkSize }) needs an integer of at least 2, got ${String(bulkSize)}`)
  }
  if (!(typeof timeout === 'number' && timeout > 0)) {
    throw new RangeError(`runEngineConformance({ timeout }) needs a positive number of ms, got ${String(timeout)}`)
  }
  for (const [option, value, least] of [
    ['modelRuns', modelRuns, 0],
    ['modelSteps', modelSteps, 1],
  ] as const) {
    if (!(Number.isSafeInteger(value) && value >= least)) {
      throw new RangeError(
        `runEngineConformance({ ${option} }) needs an integer of at least ${least}, got ${String(value)}`,
      )
    }
  }
  if (!(Number.isSafeInteger(modelSeed) && modelSeed >= 0 && modelSeed < 2 ** 32)) {
    throw new RangeError(
      `runEngineConformance({ modelSeed }) needs an integer from 0 to 2 ** 32 - 1, got ${String(modelSeed)}`,
    )
  }
  const tests: SuiteTests = { timeout, bulkSize, sharedStore, modelRuns, modelSteps, modelSeed }
  // Which tests exist must be known before any runs, so an engine is made here only to read what it declares.
  let probing: Promise<ProbedEngine | undefined> | undefined
  const probe = () => {
    probing ??=
      owners === undefined || synchronous === undefined ? probeEngine(factory, timeout) : Promise.resolve(undefined)
    return probing
  }
  describe(`${name} engine conformance`, async () => {
    registerSuite(name, factory, owners ?? (await probe())?.owners, tests)
  })
  describe(`${name} engine conformance through synchronous calls`, async () => {
    const probed = await probe()
    if (synchronous === undefined && probed === undefined) {
      // Unknown while registering: said when the engines turn out to offer calls the suite did not test.
      test('the suite learns whether the engine offers synchronous calls', async () => {
        const engine = await factory()
        await engine.close()
        if (engine.sync?.engine === engine) {
          throw new Error(
            `${name}: the engine offers synchronous calls (engine.sync), which the plugin takes, but the factory could not make an engine while the tests were registered, so they were not tested; pass runEngineConformance(name, factory, { synchronous: true })`,
          )
        }
      })
    }
    if (!(synchronous ?? probed?.synchronous ?? false)) return
    registerSuite(name, async () => throughSynchronousCalls(await factory()), owners ?? probed?.owners, tests)
  })
}

/** The options every registration of the suite shares. */
interface SuiteTests {
  readonly timeout: number
  readonly bulkSize: number
  readonly sharedStore: boolean
  readonly modelRuns: number
  readonly modelSteps: number
  readonly modelSeed: number
}

/** Registers every test on engines from `factory`, with the hooks that open, empty and close them. */
function registerSuite(name: string, factory: EngineFactory, owners: boolean | undefined, tests: SuiteTests): void {
  const { timeout, bulkSize, sharedStore, modelRuns, modelSteps, modelSeed } = tests
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
  if (modelRuns > 0) registerModelTests(harness, { runs: modelRuns, steps: modelSteps, seed: modelSeed, sharedStore })
  if (owners === true) registerOwnerTests(harness)
  if (owners === undefined) {
    test('the suite learns whether the engine declares capabilities.owners', () => {
      throw new Error(
        `${name}: the factory could not make an engine while the tests were registered; pass runEngineConformance(name, factory, { owners: true }) (or false) to say whether the engine keeps an owner index`,
      )
    })
  }
}

/** What the engines `factory` makes declare, read from one while the tests register. */
interface ProbedEngine {
  readonly owners: boolean
  readonly synchronous: boolean
}

/**
 * What the engines `factory` makes declare, read from one engine that is closed at once; `undefined` when the factory
 * cannot make one yet (it fails, or takes longer than `timeout`).
 */
async function probeEngine(factory: EngineFactory, timeout: number): Promise<ProbedEngine | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const made = (async () => factory())()
  const tooLate = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, timeout, undefined)
  })
  try {
    const probe = await Promise.race([made, tooLate])
    if (probe === undefined) {
      made.then((late) => late.close()).catch(() => undefined)
      return undefined
    }
    await probe.close()
    return { owners: probe.capabilities?.owners === true, synchronous: probe.sync?.engine === probe }
  } catch {
    return undefined
  } finally {
    clearTimeout(timer)
  }
}
