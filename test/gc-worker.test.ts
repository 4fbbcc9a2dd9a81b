import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { type SessionEngine, type SessionLogger, session } from 'elysia-sessions'
import { sqliteEngine } from 'elysia-sessions/engines/sqlite'
import { journalEngine } from './fixtures/gc-worker-engine.js'
import { SECRET } from './support/http.js'
import { eventually, freshDatabasePath, insertRows, openRaw, rowCount } from './support/sqlite.js'

const quietLogger: SessionLogger = { error: () => undefined }

/** The engine with its main-thread sweeps counted; `reopen` is kept, so GC can still use a worker. */
function countingMainThreadSweeps(engine: SessionEngine): { engine: SessionEngine; sweeps: () => number } {
  let sweeps = 0
  return {
    engine: {
      ...engine,
      deleteExpired(now) {
        sweeps++
        return engine.deleteExpired(now)
      },
    },
    sweeps: () => sweeps,
  }
}

/** How many threads of this process run at `nice`, read from /proc (field 19 of each thread's stat line). */
function threadsAtNice(nice: number): number {
  let count = 0
  for (const thread of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${thread}/stat`, 'utf8')
    // The thread's name, in parentheses, may hold spaces: count fields after its closing one (field 3 on).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[19 - 3]) === nice) count++
  }
  return count
}

function appWith(engine: SessionEngine, gcInterval: number, logger = quietLogger) {
  return new Elysia().use(session({ secret: SECRET, engine, gcInterval, logger })).get('/', () => 'ok')
}

function journalFile(): { path: string; lines: () => string[] } {
  const path = join(mkdtempSync(join(tmpdir(), 'elysia-sessions-journal-')), 'journal.log')
  return { path, lines: () => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []) }
}

describe('GC worker with the SQLite engine', () => {
  test('an engine on a file says how to reopen it; one on :memory: does not, so it sweeps on the main thread', async () => {
    const onFile = await sqliteEngine({ path: freshDatabasePath() })
    const inMemory = await sqliteEngine({ path: ':memory:' })
    expect(onFile.reopen?.module).toMatch(/\/engines\/sqlite\/reopen\.(ts|js)$/)
    expect(inMemory.reopen).toBeUndefined()
    await Promise.all([onFile.close(), inMemory.close()])
  })

  test('the worker sweeps the file every gcInterval while the main thread never sweeps', async () => {
    const path = freshDatabasePath()
    const { engine, sweeps } = countingMainThreadSweeps(await sqliteEngine({ path }))
    const raw = openRaw(path)
    insertRows(raw, 3_000, Date.now() - 1)
    insertRows(raw, 5, Date.now() + 3_600_000)
    const app = appWith(engine, 40)
    app.decorator.sessions.startGc()
    expect(await eventually(() => rowCount(raw) === 5)).toBe(true)
    await app.decorator.sessions.close()
    expect(sweeps()).toBe(0)
    raw.close()
  })

  test.if(existsSync('/proc/thread-self'))(
    'the worker thread runs at the lowest CPU priority, so requests go first on a busy core (Linux)',
    async () => {
      const app = appWith(await sqliteEngine({ path: freshDatabasePath() }), 40)
      const before = threadsAtNice(19)
      app.decorator.sessions.startGc()
      expect(await eventually(() => threadsAtNice(19) === before + 1)).toBe(true)
      await app.decorator.sessions.close()
      expect(await eventually(() => threadsAtNice(19) === before)).toBe(true)
    },
  )

  test('sessions.gc() resolves once a complete sweep in the worker has finished', async () => {
    const path = freshDatabasePath()
    const { engine, sweeps } = countingMainThreadSweeps(await sqliteEngine({ path }))
    const raw = openRaw(path)
    insertRows(raw, 5_500, Date.now() - 1)
    insertRows(raw, 10, Date.now() + 3_600_000)
    const app = appWith(engine, 3_600_000)
    app.decorator.sessions.startGc()
    expect(await app.decorator.sessions.gc()).toBe(5_500)
    expect(rowCount(raw)).toBe(10)
    expect(sweeps()).toBe(0)
    await app.decorator.sessions.close()
    raw.close()
  })
})

describe('GC worker lifecycle (an engine reopened from its own module)', () => {
  test('sweep failures in the worker are reported through the logger, and the worker keeps sweeping', async () => {
    const journal = journalFile()
    const logged: [string, unknown][] = []
    const logger: SessionLogger = { error: (message, cause) => logged.push([message, cause]) }
    const app = appWith(journalEngine({ journal: journal.path, failFirstSweep: true }), 30, logger)
    app.decorator.sessions.startGc()
    expect(await eventually(() => journal.lines().includes('sweep 2'))).toBe(true)
    expect(logged).toHaveLength(1)
    const [message, cause] = logged[0] ?? []
    expect(message).toContain('GC sweep failed')
    expect(String((cause as Error).cause)).toContain('disk on fire')
    expect(await app.decorator.sessions.gc()).toBe(7)
    await app.decorator.sessions.close()
  })

  test('sessions.close() stops the worker: it closes its engine and sweeps no more', async () => {
    const journal = journalFile()
    const app = appWith(journalEngine({ journal: journal.path }), 20)
    app.decorator.sessions.startGc()
    expect(await eventually(() => journal.lines().includes('sweep 2'))).toBe(true)
    await app.decorator.sessions.close()
    const atClose = journal.lines()
    expect(atClose.at(-1)).toBe('closed')
    await Bun.sleep(150)
    expect(journal.lines()).toEqual(atClose)
  })

  test('app.stop() stops the worker that app.listen() started', async () => {
    const journal = journalFile()
    const app = appWith(journalEngine({ journal: journal.path }), 20).listen({ port: 0, hostname: '127.0.0.1' })
    expect(await eventually(() => journal.lines().includes('sweep 1'))).toBe(true)
    await app.stop()
    expect(await eventually(() => journal.lines().at(-1) === 'closed')).toBe(true)
  })

  test('gcInterval 0 starts no worker, and sessions.gc() sweeps on the main thread', async () => {
    const journal = journalFile()
    const { engine, sweeps } = countingMainThreadSweeps(journalEngine({ journal: journal.path }))
    const app = appWith(engine, 0)
    app.decorator.sessions.startGc()
    expect(await app.decorator.sessions.gc()).toBe(0)
    await Bun.sleep(100)
    expect(journal.lines()).toEqual([])
    expect(sweeps()).toBe(1)
    await app.decorator.sessions.close()
  })

  test('a worker that cannot reopen the engine is reported, and GC sweeps on the main thread instead', async () => {
    const journal = journalFile()
    const logged: string[] = []
    const logger: SessionLogger = { error: (message, cause) => logged.push(`${message}: ${String(cause)}`) }
    const { engine, sweeps } = countingMainThreadSweeps(journalEngine({ journal: journal.path, failToOpen: true }))
    const app = appWith(engine, 20, logger)
    app.decorator.sessions.startGc()
    expect(await eventually(() => sweeps() >= 2)).toBe(true)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain('could not reopen the engine')
    expect(logged[0]).toContain('cannot open the journal')
    await app.decorator.sessions.close()
  })

  test('a sweep asked for while the worker is still opening its engine settles when GC stops', async () => {
    const journal = journalFile()
    const app = appWith(journalEngine({ journal: journal.path, openDelay: 300 }), 20)
    app.decorator.sessions.startGc()
    const sweep = app.decorator.sessions.gc().then(
      () => 'resolved',
      (error: Error) => error.message,
    )
    await app.decorator.sessions.close()
    const settled = await Promise.race([sweep, Bun.sleep(1_000).then(() => 'still pending')])
    expect(settled).toContain('GC was stopped')
  })

  test('a worker that exits without an error is reported, and GC sweeps on the main thread instead', async () => {
    const journal = journalFile()
    const logged: string[] = []
    const logger: SessionLogger = { error: (message) => logged.push(message) }
    const { engine, sweeps } = countingMainThreadSweeps(journalEngine({ journal: journal.path, exitOnSweep: true }))
    const app = appWith(engine, 3_600_000, logger)
    app.decorator.sessions.startGc()
    const inFlight = app.decorator.sessions.gc().then(
      () => 'resolved',
      (error: Error) => error.message,
    )
    expect(await eventually(() => logged.length > 0)).toBe(true)
    expect(await inFlight).toContain('the GC worker exited')
    expect(logged).toEqual([expect.stringContaining('the GC worker exited')])
    expect(await app.decorator.sessions.gc()).toBe(0)
    expect(sweeps()).toBe(1)
    const closing = performance.now()
    await app.decorator.sessions.close()
    expect(performance.now() - closing).toBeLessThan(1_000)
  })

  test('reopen options that cannot reach a worker fail at session(...) with a fix', () => {
    const engine = journalEngine({ journal: '/dev/null' })
    const unclonable = { ...engine, reopen: { module: engine.reopen!.module, options: { open: () => undefined } } }
    expect(() => session({ secret: SECRET, engine: unclonable })).toThrow(/must survive structuredClone/)
  })

  test('an engine whose reopen is not a module URL fails at session(...) with a fix', () => {
    const engine = { ...journalEngine({ journal: '/dev/null' }), reopen: { module: 'reopen.js', options: {} } }
    expect(() => session({ secret: SECRET, engine })).toThrow(/engine\.reopen must be .* import\.meta\.url/)
  })

  test('the worker never keeps the process alive', async () => {
    const child = Bun.spawn([process.execPath, 'test/fixtures/gc-worker-keeps-no-process-alive.ts'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const exited = await Promise.race([child.exited, Bun.sleep(8_000).then(() => 'still running')])
    if (exited === 'still running') child.kill()
    expect(exited).toBe(0)
    expect(await new Response(child.stdout).text()).toContain('served 200, swept 0')
  })
})
