/**
 * The soak's server: elysia-sessions on the engine named by ENGINE (memory or sqlite; see ../servers/engine.ts), with
 * sessions that expire SOAK_TIMEOUT_MS after their last use and GC every SOAK_GC_INTERVAL_MS, on one route per kind of
 * request traffic.lua sends:
 *
 *   GET  /new         (sent without a cookie) writes a counter and a name: a new session
 *   GET  /read        reads the counter (and moves the expiry now and then: a touch)
 *   POST /write       increments the counter
 *   POST /destroy     destroys the session
 *   POST /regenerate  moves the session to a new id
 *   GET  /soak/stats  what the runner samples each minute, as JSON (`SoakStats`); it collects garbage fully first,
 *                     so the heap after it is the live heap and the runner's next RSS reading has no garbage in it
 */
import { heapStats } from 'bun:jsc'
import { Elysia } from 'elysia'
import type { SessionEngine } from '../../src/engine.js'
import { session } from '../../src/plugin.js'
import { openEngine } from '../servers/engine.js'
import { benchSecret, serve } from '../servers/serve.js'
import { type RequestKind, type SoakStats, zeroKinds } from './stats.js'

function milliseconds(name: string): number {
  const value = Number(process.env[name])
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds`)
  return value
}

const opened = await openEngine(process.env['ENGINE'])
const served = zeroKinds()
const gc = { sweeps: 0, removed: 0 }
// Counts what each sweep removes, wherever the engine runs it (the SQLite engine's GC worker, the memory engine's timer).
const engine: SessionEngine = {
  ...opened,
  async deleteExpired(now) {
    const removed = await opened.deleteExpired(now)
    gc.sweeps++
    gc.removed += removed
    return removed
  },
}

const count = (kind: RequestKind) => {
  served[kind]++
}

const app = new Elysia()
  .use(
    session({
      secret: benchSecret(),
      engine,
      timeout: milliseconds('SOAK_TIMEOUT_MS'),
      gcInterval: milliseconds('SOAK_GC_INTERVAL_MS'),
    }),
  )
  .get('/new', ({ session }) => {
    count('new')
    session.int('counter', 1)
    session.string('name', `user-${served.new}`)
    return 'new'
  })
  .get('/read', ({ session }) => {
    count('read')
    return String(session.intOrNull('counter') ?? 0)
  })
  .post('/write', ({ session }) => {
    count('write')
    const counter = (session.intOrNull('counter') ?? 0) + 1
    session.int('counter', counter)
    return String(counter)
  })
  .post('/destroy', async ({ session }) => {
    count('destroy')
    await session.destroy()
    return 'destroyed'
  })
  .post('/regenerate', async ({ session }) => {
    count('regenerate')
    await session.regenerate()
    return 'regenerated'
  })
  .get('/soak/stats', async ({ sessions }): Promise<SoakStats> => {
    const heapBytes = heapStats().heapSize
    Bun.gc(true)
    // Gives the allocator time to hand freed pages back, as bench/resources/child-memory.ts does.
    await Bun.sleep(1_000)
    Bun.gc(true)
    const live = heapStats()
    return {
      heapBytes,
      liveHeapBytes: live.heapSize,
      liveHeapObjects: live.objectCount,
      liveHeapTypes: live.objectTypeCounts,
      sessions: await sessions.count(),
      gcSweeps: gc.sweeps,
      gcRemoved: gc.removed,
      served: { ...served },
    }
  })

serve(app, () => app.decorator.sessions.close())
