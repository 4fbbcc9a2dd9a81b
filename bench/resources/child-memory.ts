/**
 * Child process: commits `count` small sessions through a memory engine and reports this process's RSS before and
 * after, each measured after a full garbage collection. Run by `index.ts` in a fresh process each time.
 *
 *   bun bench/resources/child-memory.ts 100000
 */
import { heapStats } from 'bun:jsc'
import { memoryEngine } from '../../src/engines/memory.js'
import { generateSessionId } from '../../src/session-id.js'
import { report, smallSession } from './shared.js'

const count = Number(Bun.argv[2])
if (!Number.isSafeInteger(count) || count < 1) throw new Error(`usage: child-memory.ts <sessions>, got ${Bun.argv[2]}`)

/** Collects garbage fully, lets the allocator return freed pages, and reads RSS and the live JS heap. */
async function settledMemory(): Promise<{ rss: number; heapSize: number }> {
  Bun.gc(true)
  await Bun.sleep(1_000)
  Bun.gc(true)
  return { rss: process.memoryUsage.rss(), heapSize: heapStats().heapSize }
}

const engine = memoryEngine()
// Run the commit path before the baseline, so its compiled code counts in the baseline and not in the sessions.
for (let n = 0; n < 1_000; n++) await engine.commit(generateSessionId(), smallSession(n, Date.now()), Date.now())
await engine.deleteAll()
const baseline = await settledMemory()

const started = performance.now()
const now = Date.now()
for (let n = 0; n < count; n++) await engine.commit(generateSessionId(), smallSession(n, now), now)
const commitSeconds = (performance.now() - started) / 1_000
const stored = await engine.count(Date.now())
const loaded = await settledMemory()

report({
  sessions: count,
  stored,
  baselineRss: baseline.rss,
  rss: loaded.rss,
  rssDelta: loaded.rss - baseline.rss,
  rssBytesPerSession: Math.round((loaded.rss - baseline.rss) / count),
  baselineHeap: baseline.heapSize,
  heap: loaded.heapSize,
  heapBytesPerSession: Math.round((loaded.heapSize - baseline.heapSize) / count),
  commitsPerSecond: Math.round(count / commitSeconds),
})
await engine.close()
