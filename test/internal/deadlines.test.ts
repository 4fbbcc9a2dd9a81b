import { describe, expect, test } from 'bun:test'
import { Deadlines, EngineTimeoutError, withinDeadline } from '../../src/engines/deadlines.js'

/** A call as an engine hands it to `Deadlines`: finished by its answer or by expiring. */
class TestCall {
  finished = false
  expiredAt: number | undefined
  readonly deadline: number

  constructor(
    readonly name: string,
    timeout: number,
    readonly expired: TestCall[],
  ) {
    this.deadline = performance.now() + timeout
  }

  expire(): void {
    this.finished = true
    this.expiredAt = performance.now()
    this.expired.push(this)
  }
}

/** Deadlines whose expired calls are recorded, in the order they expired. */
function recordingDeadlines() {
  const expired: TestCall[] = []
  const deadlines = new Deadlines()
  const callOf = (name: string, timeout: number) => new TestCall(name, timeout, expired)
  return { deadlines, expired, callOf }
}

describe('Deadlines (one timer for the time limits of every call)', () => {
  test('a call that finishes before its deadline never expires', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    const call = callOf('answered', 20)
    deadlines.watch(call)
    call.finished = true
    deadlines.finished()
    await Bun.sleep(60)
    expect(expired).toEqual([])
  })

  test('each unfinished call expires at its own deadline, never before, oldest first', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    const first = callOf('first', 30)
    deadlines.watch(first)
    await Bun.sleep(40)
    // The first timer has fired by now; the second call needs a timer of its own.
    const second = callOf('second', 30)
    deadlines.watch(second)
    const third = callOf('third', 60)
    deadlines.watch(third)
    await Bun.sleep(120)
    expect(expired.map((call) => call.name)).toEqual(['first', 'second', 'third'])
    for (const call of expired) expect(call.expiredAt as number).toBeGreaterThanOrEqual(call.deadline)
  })

  test('a call with a shorter time limit, watched after calls with longer ones, expires first, at its own deadline', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    const long = callOf('long', 200)
    deadlines.watch(long)
    deadlines.watch(callOf('medium', 100))
    const short = callOf('short', 20)
    deadlines.watch(short)
    await Bun.sleep(60)
    expect(expired.map((call) => call.name)).toEqual(['short'])
    expect(short.expiredAt as number).toBeGreaterThanOrEqual(short.deadline)
    long.finished = true
    deadlines.finished()
    await Bun.sleep(200)
    expect(expired.map((call) => call.name)).toEqual(['short', 'medium'])
  })

  test('calls finished behind one that hangs are let go; only the one that hangs expires', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    const hangs = callOf('hangs', 40)
    deadlines.watch(hangs)
    const answered = Array.from({ length: 3_000 }, (_, index) => callOf(`answered ${index}`, 40))
    for (const call of answered) {
      deadlines.watch(call)
      call.finished = true
      deadlines.finished()
    }
    const late = callOf('late', 40)
    deadlines.watch(late)
    await Bun.sleep(100)
    expect(expired.map((call) => call.name)).toEqual(['hangs', 'late'])
  })

  test('under steady load, where some call is always unfinished, the one that hangs still expires', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    let previous = callOf('answered 0', 40)
    deadlines.watch(previous)
    for (let index = 1; index <= 5_000; index++) {
      const next = callOf(`answered ${index}`, 40)
      deadlines.watch(next)
      previous.finished = true
      deadlines.finished()
      previous = next
    }
    await Bun.sleep(100)
    expect(expired.map((call) => call.name)).toEqual(['answered 5000'])
  })

  test('a call watched after all others finished starts the timer again', async () => {
    const { deadlines, expired, callOf } = recordingDeadlines()
    const answered = callOf('answered', 20)
    deadlines.watch(answered)
    answered.finished = true
    deadlines.finished()
    const hangs = callOf('hangs', 20)
    deadlines.watch(hangs)
    await Bun.sleep(60)
    expect(expired.map((call) => call.name)).toEqual(['hangs'])
  })

  test('no timer is left once every call has finished, so the process can exit', async () => {
    const script = `
      import { Deadlines } from ${JSON.stringify(`${import.meta.dir}/../../src/engines/deadlines.ts`)}
      const deadlines = new Deadlines()
      const call = { deadline: performance.now() + 60_000, finished: false, expire() {} }
      deadlines.watch(call)
      call.finished = true
      deadlines.finished()
    `
    const started = performance.now()
    const child = Bun.spawn([process.execPath, '-e', script], { stderr: 'pipe' })
    expect(await child.exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})

describe('withinDeadline', () => {
  test('settles as its work does within the time limit', async () => {
    expect(await withinDeadline(async () => 'answer', 1_000, 'A call')).toBe('answer')
    const failure = new Error('refused')
    expect(withinDeadline(() => Promise.reject(failure), 1_000, 'A call')).rejects.toBe(failure)
  })

  test('a work function that throws at once rejects the call', async () => {
    const failure = new Error('thrown')
    const work = (): Promise<never> => {
      throw failure
    }
    expect(withinDeadline(work, 1_000, 'A call')).rejects.toBe(failure)
  })

  test('at the time limit it rejects with an EngineTimeoutError naming the stated limit, and ignores a late answer', async () => {
    const late = Promise.withResolvers<string>()
    const started = performance.now()
    const call = withinDeadline(() => late.promise, 30, 'A slow call', 5_000)
    expect(call).rejects.toThrow(new EngineTimeoutError('A slow call got no answer within 5000 ms'))
    await call.catch(() => undefined)
    expect(performance.now() - started).toBeGreaterThanOrEqual(29)
    late.resolve('too late')
    expect(call).rejects.toBeInstanceOf(EngineTimeoutError)
  })

  test('the work’s signal aborts with the timeout before the caller hears of it', async () => {
    const events: string[] = []
    let reason: unknown
    const call = withinDeadline(
      (signal) => {
        signal.addEventListener('abort', () => {
          reason = signal.reason
          events.push('aborted')
        })
        return new Promise<never>(() => {})
      },
      20,
      'A call',
    )
    await call.catch((error: unknown) => {
      events.push('rejected')
      expect(error).toBe(reason)
    })
    expect(events).toEqual(['aborted', 'rejected'])
    expect(reason).toBeInstanceOf(EngineTimeoutError)
  })

  test('a call that settles in time never aborts its signal', async () => {
    let signalOf: AbortSignal | undefined
    const work = async (signal: AbortSignal) => {
      signalOf = signal
    }
    await withinDeadline(work, 20, 'A call')
    await Bun.sleep(50)
    expect(signalOf?.aborted).toBe(false)
  })
})
