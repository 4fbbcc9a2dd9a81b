import { describe, expect, test } from 'bun:test'
import { closedError } from '../../src/engines/closed-error.js'
import { SessionEngineError } from '../../src/errors.js'
import { createGcTimer } from '../../src/gc.js'

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

  test('after stop(), a sweep cut short by the closed engine is not logged, but any other failure still is', async () => {
    for (const [failure, expected] of [
      [new SessionEngineError('sweep expired sessions', closedError('test')), 0],
      [new SessionEngineError('sweep expired sessions', new Error('disk on fire')), 1],
    ] as const) {
      const logged: unknown[] = []
      const { promise: sweepStarted, resolve: started } = Promise.withResolvers<void>()
      const { promise: failNow, resolve: fail } = Promise.withResolvers<void>()
      const timer = createGcTimer(
        async () => {
          started()
          await failNow
          throw failure
        },
        10,
        { error: (_message, cause) => logged.push(cause) },
      )
      timer.start()
      await sweepStarted
      const stopped = timer.stop()
      fail()
      await stopped
      await Bun.sleep(0)
      expect(logged).toHaveLength(expected)
    }
  })
})
