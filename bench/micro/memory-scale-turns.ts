/**
 * Whether event-loop turns grow longer when a store holds a million sessions: one child process per store and size,
 * pinned to core 0 (when taskset exists), fills the store, then for `--seconds` runs turns of 32 load-and-commit
 * pairs over 1,000 hot sessions spread among those stored (through the engine's synchronous calls, as the plugin
 * makes them), each pair leaving the garbage a request would (a Headers object and a response body). It reports how many turns ran, their p99, how many took over 4 ms and the longest.
 * `memory` is the memory engine; `handwritten` is what bench/servers/handwritten-app.ts keeps, one `Map` of mutable
 * `{ counter, expiresAt }` objects. Sizes and stores alternate over `--rounds`. With `BUN_JSC_logGC=1`, each child's
 * stderr shows the garbage collections between them.
 *
 *   bun bench/micro/memory-scale-turns.ts [--rounds 2] [--seconds 8]
 */
import { parseArgs } from 'node:util'
import { memoryEngine } from '../../src/engines/memory.js'
import { generateSessionId } from '../../src/session-id.js'
import { pinTo, positiveInteger, quantile, smallSession } from '../resources/shared.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    store: { type: 'string' },
    stored: { type: 'string' },
  },
  strict: true,
})

const HOT = 1_000
const PER_TURN = 32
const LONG_TURN_MS = 4
const HOUR = 3_600_000

/** Where the sessions live: the memory engine, or a hand-written `Map`. */
type StoreKind = 'memory' | 'handwritten'

/** A store of sessions holding a counter, as the turns use it. */
interface CounterStore {
  add(id: string, counter: number): void
  /** Loads the session, adds one to its counter, commits it, and returns the new count. */
  increment(id: string): number
}

function memoryStore(): CounterStore {
  const engine = memoryEngine()
  const calls = engine.sync
  if (!calls) throw new Error('the memory engine offers no synchronous calls')
  return {
    add(id, counter) {
      const now = Date.now()
      calls.commit(id, smallSession(counter, now), now)
    },
    increment(id) {
      const loaded = calls.load(id, Date.now())
      const count = Number(loaded?.data['int:count'] ?? 0) + 1
      calls.commit(id, { set: { 'int:count': count }, deleted: [], expiresAt: Date.now() + HOUR }, Date.now())
      return count
    },
  }
}

function handwrittenStore(): CounterStore {
  const sessions = new Map<string, { counter: number; expiresAt: number }>()
  return {
    add(id, counter) {
      sessions.set(id, { counter, expiresAt: Date.now() + HOUR })
    },
    increment(id) {
      const session = sessions.get(id)
      if (!session) throw new Error(`no session ${id}`)
      session.expiresAt = Date.now() + HOUR
      session.counter += 1
      return session.counter
    },
  }
}

interface TurnReport {
  readonly store: StoreKind
  readonly stored: number
  readonly turns: number
  readonly p99Ms: number
  readonly over4Ms: number
  readonly longestMs: number
}

async function measure(kind: StoreKind, stored: number, seconds: number): Promise<TurnReport> {
  const store = kind === 'memory' ? memoryStore() : handwrittenStore()
  const hot: string[] = []
  const every = Math.max(1, Math.floor(stored / HOT))
  for (let n = 0; n < stored; n++) {
    const id = generateSessionId()
    store.add(id, n)
    if (n % every === 0 && hot.length < HOT) hot.push(id)
  }
  Bun.gc(true)

  const turns: number[] = []
  // The turn's responses stay referenced until the next turn replaces them, as responses in flight would.
  const responses: string[] = []
  let next = 0
  const end = performance.now() + seconds * 1_000
  while (performance.now() < end) {
    const started = performance.now()
    for (let pair = 0; pair < PER_TURN; pair++) {
      const id = hot[next++ % hot.length] as string
      const count = store.increment(id)
      // What a request leaves behind besides the session: its headers and its body.
      const headers = new Headers({ cookie: `sid=${id}` })
      responses[pair] = JSON.stringify({ count, cookie: headers.get('cookie') })
    }
    await new Promise((resolve) => setImmediate(resolve))
    turns.push(performance.now() - started)
  }
  const sorted = turns.toSorted((a, b) => a - b)
  const round2 = (value: number) => Math.round(value * 100) / 100
  return {
    store: kind,
    stored,
    turns: turns.length,
    p99Ms: round2(quantile(sorted, 0.99)),
    over4Ms: turns.filter((turn) => turn > LONG_TURN_MS).length,
    longestMs: round2(sorted.at(-1) ?? 0),
  }
}

const STORES: readonly (readonly [StoreKind, number])[] = [
  ['memory', 1_000],
  ['memory', 1_000_000],
  ['handwritten', 1_000],
  ['handwritten', 1_000_000],
]
const seconds = positiveInteger('seconds', flags.seconds)
const rounds = positiveInteger('rounds', flags.rounds)
if (flags.store !== undefined || flags.stored !== undefined) {
  if (flags.store !== 'memory' && flags.store !== 'handwritten') throw new Error('--store is memory or handwritten')
  console.log(JSON.stringify(await measure(flags.store, positiveInteger('stored', flags.stored), seconds)))
} else {
  const reports: TurnReport[] = []
  for (let round = 0; round < rounds; round++) {
    for (const [kind, stored] of STORES) {
      const cmd = [...pinTo(0), process.execPath, import.meta.path, '--store', kind, '--stored', String(stored)]
      const child = Bun.spawn({ cmd: [...cmd, '--seconds', String(seconds)], stdout: 'pipe', stderr: 'inherit' })
      const [text, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
      if (code !== 0) throw new Error(`the child for ${kind} with ${stored} sessions exited with ${code}`)
      reports.push(JSON.parse(text.trim().split('\n').at(-1) as string) as TurnReport)
    }
  }
  console.table(reports)
}
