import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { createGcTimer } from '../src/gc.js'
import { memoryEngine, session } from '../src/index.js'
import { callsOf, recordingEngine, SECRET, send } from './support/http.js'

const quietLogger = { error: () => undefined }

describe('GC timer', () => {
  test('sweeps exactly once per interval', async () => {
    let sweeps = 0
    const timer = createGcTimer(async () => ++sweeps, 40, quietLogger)
    timer.start()
    await Bun.sleep(430)
    await timer.stop()
    // kemal-session slept twice per tick (about 5 sweeps here); allow for a loaded machine but not for doubling.
    expect(sweeps).toBeGreaterThanOrEqual(7)
    expect(sweeps).toBeLessThanOrEqual(11)
  })

  test('never overlaps sweeps: a tick is skipped while one runs', async () => {
    let running = 0
    let maxRunning = 0
    let sweeps = 0
    const timer = createGcTimer(
      async () => {
        maxRunning = Math.max(maxRunning, ++running)
        await Bun.sleep(50)
        running--
        return ++sweeps
      },
      10,
      quietLogger,
    )
    timer.start()
    await Bun.sleep(300)
    await Promise.all([timer.runNow(), timer.runNow()])
    await timer.stop()
    expect(maxRunning).toBe(1)
    expect(sweeps).toBeGreaterThan(2)
  })

  test('logs a failing sweep and runs the next tick', async () => {
    const logged: unknown[] = []
    let calls = 0
    const timer = createGcTimer(
      async () => {
        calls++
        if (calls === 1) throw new Error('disk on fire')
        return 0
      },
      20,
      { error: (message, cause) => logged.push([message, cause]) },
    )
    timer.start()
    await Bun.sleep(120)
    await timer.stop()
    expect(logged).toHaveLength(1)
    expect(String(logged[0])).toContain('GC sweep failed')
    expect(calls).toBeGreaterThan(2)
  })

  test('an interval of 0 turns GC off', async () => {
    let sweeps = 0
    const timer = createGcTimer(async () => ++sweeps, 0, quietLogger)
    timer.start()
    await Bun.sleep(50)
    expect(sweeps).toBe(0)
    expect(await timer.runNow()).toBe(1)
  })

  test('stop clears the timer and waits for the sweep in progress', async () => {
    let finished = 0
    const timer = createGcTimer(
      async () => {
        await Bun.sleep(40)
        return ++finished
      },
      10,
      quietLogger,
    )
    timer.start()
    await Bun.sleep(15)
    await timer.stop()
    const atStop = finished
    expect(atStop).toBe(1)
    await Bun.sleep(60)
    expect(finished).toBe(atStop)
  })

  test('the timer never keeps the process alive', async () => {
    const child = Bun.spawn([process.execPath, 'test/fixtures/gc-keeps-no-process-alive.ts'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const exited = await Promise.race([child.exited, Bun.sleep(5_000).then(() => 'still running')])
    if (exited === 'still running') child.kill()
    expect(exited).toBe(0)
    expect(await new Response(child.stdout).text()).toContain('served 200')
  })
})

describe('GC in the plugin', () => {
  test('starts with the first request and sweeps the engine every gcInterval', async () => {
    const engine = recordingEngine(memoryEngine())
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 30 })).get('/', () => 'ok')
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(0)
    await send(app, '/')
    await Bun.sleep(100)
    expect(callsOf(engine, 'deleteExpired').length).toBeGreaterThanOrEqual(2)
    await app.decorator.sessions.close()
    const afterClose = callsOf(engine, 'deleteExpired').length
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(afterClose)
  })

  test('removes expired sessions so the memory engine does not leak', async () => {
    const engine = memoryEngine()
    const app = new Elysia()
      .use(session({ secret: SECRET, engine, timeout: 30, touchInterval: 0, gcInterval: 20 }))
      .get('/', ({ session }) => {
        session.int('n', 1)
        return 'ok'
      })
    for (let index = 0; index < 20; index++) await send(app, '/')
    const countAll = async () => {
      let total = 0
      for await (const batch of engine.entries(0, { batchSize: 100 })) total += batch.length
      return total
    }
    expect(await countAll()).toBe(20)
    await Bun.sleep(150)
    expect(await countAll()).toBe(0)
    await app.decorator.sessions.close()
  })

  test('app.stop() stops GC', async () => {
    const engine = recordingEngine(memoryEngine())
    const app = new Elysia().use(session({ secret: SECRET, engine, gcInterval: 20 })).get('/', () => 'ok')
    app.listen({ port: 0, hostname: '127.0.0.1' })
    await Bun.sleep(70)
    expect(callsOf(engine, 'deleteExpired').length).toBeGreaterThanOrEqual(1)
    await app.stop()
    const atStop = callsOf(engine, 'deleteExpired').length
    await Bun.sleep(80)
    expect(callsOf(engine, 'deleteExpired')).toHaveLength(atStop)
  })
})
