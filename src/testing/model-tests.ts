import { describe, test } from 'bun:test'
import type { SessionChanges, SessionEngine, SessionEntry, SessionValue, StoredSession } from '../engine.js'
import { OWNER_KEY } from '../internal-keys.js'
import { type ConformanceHarness, LONG_LIFETIME } from './harness.js'
import { type Random, seededRandom } from './random.js'
import { applyCommit, byId, type ModelRecord, SessionModel, visibleAt } from './session-model.js'

/** How the model test runs: `runs` runs of `steps` steps each, run `n` from seed `seed + n`. */
export interface ModelTestSettings {
  readonly runs: number
  readonly steps: number
  readonly seed: number
  readonly sharedStore: boolean
}

/** How many session ids a run uses: few, so that steps keep meeting the same sessions. */
const ID_COUNT = 4

const OWNERS = ['alice', 'bob']

/** The keys commits set and delete: few, so that commits keep meeting each other's keys. */
const KEYS = ['int:a', 'int:b', 'string:c', 'object:d', 'bool:e']

/**
 * The grain of the moving clock and of short lifetimes, so that a session now and then expires exactly at a `now`
 * the suite passes.
 */
const TICK = 250

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const MODEL_TEST_NAME =
  'random sequences of every method, with concurrent commits and a moving clock, agree with a reference model after every step'

/**
 * Registers the model-based test: seeded random sequences of calls, each checked against `SessionModel` and followed
 * by a check of everything the engine can show (count, entries, a load of every id, the owners' sessions).
 */
export function registerModelTests(harness: ConformanceHarness, settings: ModelTestSettings): void {
  describe('model', () => {
    test.serial(
      MODEL_TEST_NAME,
      async () => {
        const second = settings.sharedStore ? await harness.openEngine() : undefined
        for (let run = 0; run < settings.runs; run++) {
          const seed = (settings.seed + run) >>> 0
          const replay = `{ modelSeed: ${seed}, modelRuns: 1, modelSteps: ${settings.steps} }`
          await runModel(
            harness,
            seed,
            settings.steps,
            second,
            `Model run ${run + 1} of ${settings.runs}, seed ${seed}: replay it with runEngineConformance(name, factory, ${replay}).`,
          )
        }
      },
      harness.slowTimeout,
    )
  })
}

/**
 * One model run from `seed`: rejects on the first difference between the engine and the model, or the first error of
 * the engine, with `replay` and the steps taken so far in the message.
 */
export async function runModel(
  harness: ConformanceHarness,
  seed: number,
  steps: number,
  second: SessionEngine | undefined,
  replay: string,
): Promise<void> {
  const modelRun = new ModelRun(harness, seededRandom(seed), second)
  try {
    await modelRun.run(steps)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(
      `After step ${modelRun.stepCount()}: ${message}\n\n${replay} Its steps, with ids as #0 to #${ID_COUNT - 1} and times from the run's start:\n${modelRun.steps()}`,
      { cause: error },
    )
  }
}

/** A difference between the engine and the model. */
class ModelMismatch extends Error {
  override name = 'ModelMismatch'
}

/** JSON with object keys sorted, so two sessions compare regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([first], [second]) => (first < second ? -1 : 1)))
      : inner,
  )
}

/** Every order of `items`; the suite asks only for a handful. */
function orders<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]]
  return items.flatMap((item, index) =>
    orders([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  )
}

/** Changes the values a resolved commit was given, which must never change what is stored. */
function scramble(changes: SessionChanges): void {
  for (const value of Object.values(changes.set)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      ;(value as Record<string, SessionValue>)['type'] = 'Changed'
    }
  }
  ;(changes.set as Record<string, SessionValue>)['int:a'] = -1
}

interface PlannedCommit {
  readonly id: string
  readonly changes: SessionChanges
}

/** One run: a fresh store, a fresh model, and `steps` random steps with the state checked after each. */
class ModelRun {
  readonly #harness: ConformanceHarness
  readonly #random: Random
  readonly #second: SessionEngine | undefined
  readonly #model = new SessionModel()
  readonly #ids: string[]
  readonly #log: string[] = []
  readonly #serverExpiry: boolean
  #start = 0
  #offset = 0

  constructor(harness: ConformanceHarness, random: Random, second: SessionEngine | undefined) {
    this.#harness = harness
    this.#random = random
    this.#second = second
    this.#serverExpiry = harness.serverExpiry
    this.#ids = Array.from({ length: ID_COUNT }, () =>
      Array.from({ length: 32 }, () => random.pick([...ID_ALPHABET])).join(''),
    )
  }

  stepCount(): number {
    return this.#log.length
  }

  /** The steps taken so far, numbered, for a failure message. */
  steps(): string {
    return this.#log.map((line, index) => `${String(index + 1).padStart(4)}. ${line}`).join('\n')
  }

  async run(steps: number): Promise<void> {
    await this.#harness.engine.deleteAll()
    this.#start = this.#harness.clock.now()
    for (let step = 0; step < steps; step++) {
      // An engine whose server expires sessions is given real time, and lifetimes that outlast the run.
      const now = this.#serverExpiry ? this.#harness.clock.now() : this.#start + this.#offset
      await this.#step(now)
      await this.#checkState(now)
    }
  }

  async #step(now: number): Promise<void> {
    const random = this.#random
    const owners = this.#owners()
    const roll = random.int(0, owners ? 107 : 99)
    if (roll < 28) return this.#commit(now)
    if (roll < 40) return this.#commitTogether(now)
    if (roll < 48) return this.#touch(now)
    if (roll < 53) return this.#load(now)
    if (roll < 63) return this.#delete()
    if (roll < 65) return this.#deleteAll()
    if (roll < 72) return this.#deleteExpired(now)
    if (roll < 76) return this.#count(now)
    if (roll < 80) return this.#entries(now)
    if (roll < 100) return this.#advance()
    if (roll < 104) return this.#deleteByOwner(now)
    return this.#listByOwner(now)
  }

  /** The engine a call goes to: with a shared store, either of two engines on it. */
  #engine(): SessionEngine {
    const second = this.#second
    return second !== undefined && this.#random.chance(0.5) ? second : this.#harness.engine
  }

  #owners(): boolean {
    return this.#harness.engine.capabilities?.owners === true
  }

  #at(time: number): string {
    return `t+${time - this.#start}`
  }

  #name(id: string): string {
    const index = this.#ids.indexOf(id)
    return index === -1 ? JSON.stringify(id) : `#${index}`
  }

  #pickId(): string {
    return this.#random.pick(this.#ids)
  }

  #lifetime(): number {
    const random = this.#random
    if (this.#serverExpiry || random.chance(0.15)) return LONG_LIFETIME + TICK * random.int(0, 40)
    return TICK * random.int(1, 12)
  }

  #value(key: string): SessionValue {
    const random = this.#random
    if (key.startsWith('int:')) return random.int(-1_000, 1_000)
    if (key.startsWith('string:'))
      return random.pick(['', 'Ada', 'a\u0000b', 'a\uD800b', '😀', `v${random.int(0, 99)}`])
    if (key.startsWith('bool:')) return random.chance(0.5)
    return { type: 'User', object: { id: random.int(0, 9), roles: random.shuffled(['a', 'b', 'c']).slice(1) } }
  }

  /** Random changes as the plugin makes them: the owner mirrored under its reserved key. */
  #changes(now: number): SessionChanges {
    const random = this.#random
    const keys = random.shuffled(KEYS)
    const setCount = random.int(0, 3)
    const set: Record<string, SessionValue> = {}
    for (const key of keys.slice(0, setCount)) set[key] = this.#value(key)
    const deleted = keys.slice(setCount, setCount + random.int(0, 2))
    const roll = random.next()
    const owner = roll < 0.25 ? random.pick(OWNERS) : roll < 0.35 ? null : undefined
    if (typeof owner === 'string') set[OWNER_KEY] = owner
    else if (owner === null) deleted.push(OWNER_KEY)
    const existingOnly = random.pick([true, false, undefined])
    return {
      set,
      deleted,
      expiresAt: now + this.#lifetime(),
      ...(existingOnly === undefined ? {} : { existingOnly }),
      ...(owner === undefined ? {} : { owner }),
    }
  }

  #describeCommit({ id, changes }: PlannedCommit): string {
    const { set, deleted, expiresAt, existingOnly, owner } = changes
    const parts = [`commit ${this.#name(id)} set ${JSON.stringify(set)}`]
    if (deleted.length > 0) parts.push(`deleted ${JSON.stringify(deleted)}`)
    if (owner !== undefined) parts.push(`owner ${JSON.stringify(owner)}`)
    if (existingOnly !== undefined) parts.push(`existingOnly ${existingOnly}`)
    parts.push(`expiresAt ${this.#at(expiresAt)}`)
    return parts.join(', ')
  }

  async #commit(now: number): Promise<void> {
    const planned = { id: this.#pickId(), changes: this.#changes(now) }
    this.#log.push(`${this.#describeCommit(planned)} at ${this.#at(now)}`)
    const written = await this.#engine().commit(planned.id, planned.changes, now)
    this.#expect('commit resolved to', written, this.#model.commit(planned.id, planned.changes, now))
    scramble(planned.changes)
  }

  /**
   * Several commits to one or a few sessions started together: each session must end as some serial order of its
   * commits leaves it, with each commit resolving as it would in that order.
   */
  async #commitTogether(now: number): Promise<void> {
    const random = this.#random
    const first = this.#pickId()
    const planned: PlannedCommit[] = Array.from({ length: random.int(2, 4) }, () => ({
      id: random.chance(0.6) ? first : this.#pickId(),
      changes: this.#changes(now),
    }))
    this.#log.push(`together at ${this.#at(now)}: ${planned.map((each) => this.#describeCommit(each)).join('; ')}`)
    const results = await Promise.all(planned.map(({ id, changes }) => this.#engine().commit(id, changes, now)))
    for (const id of new Set(planned.map((each) => each.id))) {
      const mine = planned.flatMap((each, index) => (each.id === id ? [index] : []))
      const loaded = await this.#engine().load(id, now)
      const before = this.#model.record(id)
      const explained = orders(mine).map((order) => {
        let record: ModelRecord | undefined = before
        const written = new Map<number, boolean>()
        for (const index of order) {
          const outcome = applyCommit(record, (planned[index] as PlannedCommit).changes, now)
          record = outcome.record
          written.set(index, outcome.written)
        }
        const resolved = mine.map((index) => written.get(index))
        return { order, record, resolved }
      })
      const actual = canonical({ resolved: mine.map((index) => results[index]), loaded })
      const match = explained.find(
        (each) => canonical({ resolved: each.resolved, loaded: visibleAt(each.record, now) }) === actual,
      )
      if (match === undefined) {
        const allowed = explained.map(
          (each) =>
            `  order ${each.order.map((index) => index + 1).join(',')}: resolved ${canonical(each.resolved)}, then load gives ${canonical(this.#withTimes(visibleAt(each.record, now)))}`,
        )
        throw new ModelMismatch(
          `No serial order of the commits to ${this.#name(id)} (numbered ${mine.map((index) => index + 1).join(', ')} in the step) explains the result: they resolved ${canonical(mine.map((index) => results[index]))} and load then gave ${canonical(this.#withTimes(loaded))}. The orders the contract allows give:\n${allowed.join('\n')}`,
        )
      }
      this.#model.put(id, match.record)
    }
    this.#log[this.#log.length - 1] += ` → ${canonical(results)}`
    for (const { changes } of planned) scramble(changes)
  }

  async #touch(now: number): Promise<void> {
    const id = this.#pickId()
    const expiresAt = now + this.#lifetime()
    this.#log.push(`touch ${this.#name(id)} to ${this.#at(expiresAt)} at ${this.#at(now)}`)
    this.#expect(
      'touch resolved to',
      await this.#engine().touch(id, expiresAt, now),
      this.#model.touch(id, expiresAt, now),
    )
  }

  async #load(now: number): Promise<void> {
    const id = this.#pickId()
    this.#log.push(`load ${this.#name(id)} at ${this.#at(now)}`)
    this.#expect('load resolved to', await this.#engine().load(id, now), this.#model.load(id, now))
  }

  async #delete(): Promise<void> {
    const id = this.#pickId()
    this.#log.push(`delete ${this.#name(id)}`)
    await this.#engine().delete(id)
    this.#model.delete(id)
  }

  async #deleteAll(): Promise<void> {
    this.#log.push('deleteAll')
    await this.#engine().deleteAll()
    this.#model.deleteAll()
  }

  async #deleteExpired(now: number): Promise<void> {
    this.#log.push(`deleteExpired at ${this.#at(now)}`)
    const deleted = await this.#engine().deleteExpired(now)
    const { least, most } = this.#model.deleteExpired(now)
    if (!(Number.isInteger(deleted) && deleted >= least && deleted <= most)) {
      const expected = least === most ? String(least) : `from ${least} to ${most}`
      throw new ModelMismatch(`deleteExpired resolved to ${deleted}, expected ${expected}`)
    }
  }

  async #count(now: number): Promise<void> {
    this.#log.push(`count at ${this.#at(now)}`)
    this.#expect('count resolved to', await this.#engine().count(now), this.#model.count(now))
  }

  async #entries(now: number): Promise<void> {
    const batchSize = this.#random.int(1, 4)
    this.#log.push(`entries at ${this.#at(now)} in batches of ${batchSize}`)
    this.#expectEntries(await this.#collect(this.#engine(), now, batchSize), batchSize, now)
  }

  async #advance(): Promise<void> {
    if (this.#serverExpiry) {
      this.#log.push('(clock: real time)')
      return
    }
    const by = TICK * this.#random.int(1, 8)
    this.#offset += by
    this.#log.push(`clock moves to ${this.#at(this.#start + this.#offset)}`)
  }

  async #deleteByOwner(now: number): Promise<void> {
    const random = this.#random
    const owner = random.pick(OWNERS)
    const except = random.shuffled(this.#ids).slice(0, random.int(0, 2))
    this.#log.push(
      `deleteByOwner ${JSON.stringify(owner)} except [${except.map((id) => this.#name(id)).join(', ')}] at ${this.#at(now)}`,
    )
    const engine = this.#engine()
    if (typeof engine.deleteByOwner !== 'function')
      throw new Error(`${engine.name} declares owners but has no deleteByOwner`)
    const deleted = await engine.deleteByOwner(owner, except, now)
    this.#expect('deleteByOwner resolved to', deleted, this.#model.deleteByOwner(owner, except, now))
  }

  async #listByOwner(now: number): Promise<void> {
    const owner = this.#random.pick(OWNERS)
    this.#log.push(`listByOwner ${JSON.stringify(owner)} at ${this.#at(now)}`)
    this.#expectOwned(owner, await this.#listed(this.#engine(), owner, now), now)
  }

  /** Everything the engine shows at `now` agrees with the model: count, entries, every id's load, owners' lists. */
  async #checkState(now: number): Promise<void> {
    const engine = this.#engine()
    const batchSize = this.#random.int(1, 4)
    const owners = this.#owners() ? OWNERS : []
    const [count, entries, loaded, listed] = await Promise.all([
      engine.count(now),
      this.#collect(engine, now, batchSize),
      Promise.all(this.#ids.map((id) => engine.load(id, now))),
      Promise.all(owners.map((owner) => this.#listed(engine, owner, now))),
    ])
    this.#expect(`then count at ${this.#at(now)} resolved to`, count, this.#model.count(now))
    this.#expectEntries(entries, batchSize, now)
    this.#ids.forEach((id, index) => {
      this.#expect(
        `then load ${this.#name(id)} at ${this.#at(now)} resolved to`,
        loaded[index],
        this.#model.load(id, now),
      )
    })
    owners.forEach((owner, index) => {
      this.#expectOwned(owner, listed[index] as readonly SessionEntry[], now)
    })
  }

  async #collect(engine: SessionEngine, now: number, batchSize: number): Promise<(readonly SessionEntry[])[]> {
    const batches: (readonly SessionEntry[])[] = []
    for await (const batch of engine.entries(now, { batchSize })) batches.push(batch)
    return batches
  }

  #listed(engine: SessionEngine, owner: string, now: number): Promise<readonly SessionEntry[]> {
    if (typeof engine.listByOwner !== 'function')
      throw new Error(`${engine.name} declares owners but has no listByOwner`)
    return engine.listByOwner(owner, now)
  }

  #expectEntries(batches: (readonly SessionEntry[])[], batchSize: number, now: number): void {
    const oversized = batches.find((batch) => batch.length > batchSize)
    if (oversized !== undefined) {
      throw new ModelMismatch(`entries at ${this.#at(now)} yielded a batch of ${oversized.length}, over ${batchSize}`)
    }
    this.#expect(
      `then entries at ${this.#at(now)} yielded`,
      this.#readable(batches.flat().toSorted(byId)),
      this.#readable(this.#model.live(now)),
    )
  }

  #expectOwned(owner: string, listed: readonly SessionEntry[], now: number): void {
    this.#expect(
      `then listByOwner ${JSON.stringify(owner)} at ${this.#at(now)} yielded`,
      this.#readable(listed.toSorted(byId)),
      this.#readable(this.#model.listByOwner(owner, now)),
    )
  }

  /** Entries with ids as the step list names them and times from the run's start. */
  #readable(entries: readonly SessionEntry[]): unknown[] {
    return entries.map(({ id, data, expiresAt }) => ({ id: this.#name(id), data, expiresAt: this.#at(expiresAt) }))
  }

  #expect(what: string, actual: unknown, expected: unknown): void {
    const [got, wanted] = [canonical(this.#withTimes(actual)), canonical(this.#withTimes(expected))]
    if (got !== wanted) throw new ModelMismatch(`${what} ${got}, the model expected ${wanted}`)
  }

  /** A loaded session with its expiry from the run's start; anything else as it is. */
  #withTimes(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || !('expiresAt' in value) || Array.isArray(value)) return value
    const { data, expiresAt } = value as StoredSession
    return { data, expiresAt: this.#at(expiresAt) }
  }
}
