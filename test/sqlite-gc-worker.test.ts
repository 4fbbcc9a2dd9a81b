import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { Elysia } from 'elysia'
import { type SessionEngine, type SessionLogger, session } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { failureReason } from '../src/errors.js'
import { SECRET } from './support/http.js'
import { eventually, freshDatabasePath, insertRows, openRaw, rowCount } from './support/sqlite.js'

const MISBEHAVING_ENTRY = new URL('./fixtures/sqlite-gc-worker-misbehaving.ts', import.meta.url).href
const HOUR = 3_600_000

/** How the fixture entry that replaces the real one misbehaves; undefined keeps the real entry. */
type Misbehaviour = 'throw-on-load' | 'never-ready' | 'exit-on-sweep' | 'fail-sweep'

const RealWorker = globalThis.Worker
/** Every GC worker started during the test, in order (a long sweep may start the checkpoint worker as well). */
let startedWorkers: WatchedWorker[] = []
let misbehaviour: Misbehaviour | undefined

/** A Worker that records itself and whether it has ended, and runs the misbehaving entry when a test asks for it. */
class WatchedWorker extends RealWorker {
  ended = false
  readonly entry: string

  constructor(entry: string | URL, options?: WorkerOptions) {
    const replaced = misbehaviour !== undefined && String(entry).includes('gc-worker-entry')
    super(replaced ? MISBEHAVING_ENTRY : entry, replaced ? { ...options, argv: [misbehaviour] } : options)
    this.entry = String(entry)
    if (this.entry.includes('gc-worker-entry')) startedWorkers.push(this)
    this.addEventListener('close', () => {
      this.ended = true
    })
  }
}

beforeEach(() => {
  startedWorkers = []
  misbehaviour = undefined
  globalThis.Worker = WatchedWorker
})

afterEach(() => {
  globalThis.Worker = RealWorker
})

function recordingLogger(): { logger: SessionLogger; logged: string[] } {
  const logged: string[] = []
  return { logger: { error: (message, cause) => logged.push(`${message}: ${String(cause)}`) }, logged }
}

/** A SQLite engine on a fresh file with `expired` expired rows and `alive` live ones, and a raw connection to it. */
async function fileWithRows(expired: number, alive = 0, logger?: SessionLogger) {
  const path = freshDatabasePath()
  const engine = await sqliteEngine({ path, ...(logger && { logger }) })
  const raw = openRaw(path)
  insertRows(raw, expired, Date.now() - 1)
  insertRows(raw, alive, Date.now() + HOUR)
  return { path, engine, raw }
}

function appWith(engine: SessionEngine, gcInterval: number) {
  const logger: SessionLogger = { error: () => undefined }
  return new Elysia().use(session({ secret: SECRET, engine, gcInterval, logger })).get('/', () => 'ok')
}

/** The ids of this process's threads that run at `nice`, read from /proc (field 19 of each thread's stat line). */
function threadsAtNice(nice: number): Set<string> {
  const threads = new Set<string>()
  for (const thread of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${thread}/stat`, 'utf8')
    // The thread's name, in parentheses, may hold spaces: count fields after its closing one (field 3 on).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[19 - 3]) === nice) threads.add(thread)
  }
  return threads
}

describe('the SQLite engine sweeps from a GC worker of its own', () => {
  test('deleteExpired on a file runs in a worker: the sweep completes while the main thread is blocked', async () => {
    const { engine, raw } = await fileWithRows(5_000, 3)
    expect(await engine.deleteExpired(Date.now())).toBe(5_000)
    insertRows(raw, 5_000, Date.now() - 1)
    const sweeping = engine.deleteExpired(Date.now())
    // One turn of the event loop lets the sweep be handed over; from here on the main thread never yields.
    await Bun.sleep(0)
    const blockedUntil = performance.now() + 20_000
    while (rowCount(raw) > 3 && performance.now() < blockedUntil) Bun.sleepSync(5)
    expect(rowCount(raw)).toBe(3)
    expect(await sweeping).toBe(5_000)
    expect(startedWorkers).toHaveLength(1)
    await engine.close()
    raw.close()
  })

  test('no worker starts before the first deleteExpired, so an app with gcInterval 0 starts none', async () => {
    const { engine, raw } = await fileWithRows(20)
    const app = appWith(engine, 0)
    await app.handle(new Request('http://localhost/'))
    await Bun.sleep(100)
    expect(startedWorkers).toHaveLength(0)
    expect(await app.decorator.sessions.gc()).toBe(20)
    expect(startedWorkers).toHaveLength(1)
    await app.decorator.sessions.close()
    raw.close()
  })

  test('an in-memory database is swept on the main thread and starts no worker', async () => {
    const engine = await sqliteEngine({ path: ':memory:' })
    const now = Date.now()
    await engine.commit('expired', { set: {}, deleted: [], expiresAt: now + 10 }, now)
    expect(await engine.deleteExpired(now + 10)).toBe(1)
    expect(startedWorkers).toHaveLength(0)
    await engine.close()
  })

  test('GC sweeps the file every gcInterval once the first request has started it', async () => {
    const { engine, raw } = await fileWithRows(3_000, 5)
    const app = appWith(engine, 40)
    await app.handle(new Request('http://localhost/'))
    expect(await eventually(() => rowCount(raw) === 5)).toBe(true)
    insertRows(raw, 10, Date.now() - 1)
    expect(await eventually(() => rowCount(raw) === 5)).toBe(true)
    expect(startedWorkers).toHaveLength(1)
    await app.decorator.sessions.close()
    raw.close()
  })

  test('sessions.gc() resolves to the count once a complete sweep in the worker has finished', async () => {
    const { engine, raw } = await fileWithRows(5_500, 10)
    const app = appWith(engine, HOUR)
    expect(await app.decorator.sessions.gc()).toBe(5_500)
    expect(rowCount(raw)).toBe(10)
    expect(startedWorkers).toHaveLength(1)
    await app.decorator.sessions.close()
    raw.close()
  })

  test.if(existsSync('/proc/thread-self'))(
    'the worker thread runs at the lowest CPU priority, so requests go first on a busy core (Linux)',
    async () => {
      const { engine, raw } = await fileWithRows(0)
      // Threads of workers that other tests closed may still be ending: look for a thread that was not there before.
      const before = threadsAtNice(19)
      await engine.deleteExpired(Date.now())
      let workerThread: string | undefined
      const found = await eventually(() => {
        workerThread = [...threadsAtNice(19)].find((thread) => !before.has(thread))
        return workerThread !== undefined
      })
      expect(found).toBe(true)
      await engine.close()
      expect(await eventually(() => !threadsAtNice(19).has(workerThread!))).toBe(true)
      raw.close()
    },
  )

  test('close() stops the worker and resolves once it has ended', async () => {
    const { engine, raw } = await fileWithRows(10)
    expect(await engine.deleteExpired(Date.now())).toBe(10)
    const [worker] = startedWorkers
    expect(worker?.ended).toBe(false)
    await engine.close()
    expect(worker?.ended).toBe(true)
    await engine.close()
    raw.close()
  })

  test('app.stop() stops the worker that GC started', async () => {
    const { engine, raw } = await fileWithRows(10)
    const app = appWith(engine, 20).listen({ port: 0, hostname: '127.0.0.1' })
    expect(await eventually(() => rowCount(raw) === 0)).toBe(true)
    const [worker] = startedWorkers
    await app.stop()
    expect(await eventually(() => worker?.ended === true)).toBe(true)
    raw.close()
  })

  test('a sweep the process awaits keeps it alive until the worker has answered and close() has finished', async () => {
    const child = Bun.spawn([process.execPath, 'test/fixtures/sqlite-gc-worker-answers-before-exit.ts'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const exited = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running')])
    if (exited === 'still running') child.kill()
    expect(exited).toBe(0)
    expect(await new Response(child.stdout).text()).toBe('swept 20000\nclosed\n')
  }, 30_000)

  test('the worker never keeps the process alive', async () => {
    const child = Bun.spawn([process.execPath, 'test/fixtures/sqlite-gc-worker-keeps-no-process-alive.ts'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const exited = await Promise.race([child.exited, Bun.sleep(8_000).then(() => 'still running')])
    if (exited === 'still running') child.kill()
    expect(exited).toBe(0)
    expect(await new Response(child.stdout).text()).toContain('served 200, swept 0')
  })
})

describe('when the GC worker cannot sweep, the SQLite engine sweeps on the main thread', () => {
  test('a worker that cannot open the file is logged, and the sweep runs on the main thread', async () => {
    const { logger, logged } = recordingLogger()
    const { path, engine, raw } = await fileWithRows(250, 1, logger)
    // The main connection keeps the file it has open; a new connection finds nothing at the path.
    renameSync(path, `${path}.moved`)
    expect(await engine.deleteExpired(Date.now())).toBe(250)
    expect(rowCount(raw)).toBe(1)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain('the SQLite GC worker could not open')
    expect(logged[0]).toContain('sweeps on the main thread from now on')
    expect(await engine.deleteExpired(Date.now())).toBe(0)
    expect(startedWorkers).toHaveLength(1)
    await engine.close()
    raw.close()
  })

  test('a worker that fails is logged, and sweeps run on the main thread from then on', async () => {
    misbehaviour = 'throw-on-load'
    const { logger, logged } = recordingLogger()
    const { engine, raw } = await fileWithRows(250, 1, logger)
    expect(await engine.deleteExpired(Date.now())).toBe(250)
    expect(logged).toEqual([expect.stringContaining('the SQLite GC worker failed')])
    insertRows(raw, 5, Date.now() - 1)
    expect(await engine.deleteExpired(Date.now())).toBe(5)
    expect(startedWorkers).toHaveLength(1)
    await engine.close()
    raw.close()
  })

  test('a worker that exits is logged, its pending sweep settles, and later sweeps run on the main thread', async () => {
    misbehaviour = 'exit-on-sweep'
    const { logger, logged } = recordingLogger()
    const { engine, raw } = await fileWithRows(250, 1, logger)
    await expect(engine.deleteExpired(Date.now())).rejects.toThrow('the SQLite GC worker exited')
    expect(logged).toEqual([expect.stringContaining('the SQLite GC worker exited')])
    expect(await engine.deleteExpired(Date.now())).toBe(250)
    expect(startedWorkers).toHaveLength(1)
    const closing = performance.now()
    await engine.close()
    expect(performance.now() - closing).toBeLessThan(1_000)
    raw.close()
  })

  test('a sweep that fails in the worker rejects with its error, and the plugin logs it and keeps sweeping', async () => {
    misbehaviour = 'fail-sweep'
    const { engine, raw } = await fileWithRows(0)
    await expect(engine.deleteExpired(Date.now())).rejects.toThrow('disk on fire')
    const logged: string[] = []
    const logger: SessionLogger = { error: (message, cause) => logged.push(`${message}: ${String(cause)}`) }
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 20, logger })).get('/', () => 'ok')
    await app.handle(new Request('http://localhost/'))
    expect(await eventually(() => logged.length >= 2)).toBe(true)
    expect(logged[0]).toContain('GC sweep failed')
    expect(logged[0]).toContain('disk on fire')
    await app.decorator.sessions.close()
    raw.close()
  })

  test('sweeps waiting for the worker to open settle when the engine closes', async () => {
    misbehaviour = 'never-ready'
    const { engine, raw } = await fileWithRows(0)
    const waiting = engine.deleteExpired(Date.now()).then(
      () => 'resolved',
      (error: Error) => error.message,
    )
    await Bun.sleep(50)
    await engine.close()
    const settled = await Promise.race([waiting, Bun.sleep(1_000).then(() => 'still pending')])
    expect(settled).toContain('closed')
    raw.close()
  })

  test('sessions.close() ends sweeps still waiting on the worker instead of waiting for them, and logs no failure', async () => {
    misbehaviour = 'never-ready'
    const { engine, raw } = await fileWithRows(0)
    const { logger, logged } = recordingLogger()
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 20, logger })).get('/', () => 'ok')
    await app.handle(new Request('http://localhost/'))
    // Long enough for the timer to have started a sweep, which waits on the worker; the next one waits behind it.
    await Bun.sleep(100)
    const { sessions } = app.decorator
    const sweep = sessions.gc().then(
      () => 'resolved',
      (error: Error) => failureReason(error),
    )
    const closing = sessions.close().then(() => 'closed')
    expect(await Promise.race([closing, Bun.sleep(2_000).then(() => 'still closing')])).toBe('closed')
    expect(await sweep).toContain('closed')
    await Bun.sleep(50)
    expect(logged).toEqual([])
    raw.close()
  })
})
