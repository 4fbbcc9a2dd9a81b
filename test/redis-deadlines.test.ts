import { describe, expect, test } from 'bun:test'
import { Deadlines } from '../src/engines/redis/deadlines.js'

/** A call as the redis engine's connection tracks it: finished by its answer or by timing out. */
interface TestCall {
  readonly name: string
  readonly deadline: number
  finished: boolean
  expiredAt?: number
}

function callOf(name: string, timeout: number): TestCall {
  return { name, deadline: performance.now() + timeout, finished: false }
}

/** Deadlines whose expired calls are recorded, in the order they expired. */
function recordingDeadlines() {
  const expired: TestCall[] = []
  const deadlines = new Deadlines<TestCall>((call) => {
    call.finished = true
    call.expiredAt = performance.now()
    expired.push(call)
  })
  return { deadlines, expired }
}

describe('Deadlines (the redis engine’s time limits)', () => {
  test('a call that finishes before its deadline never expires', async () => {
    const { deadlines, expired } = recordingDeadlines()
    const call = callOf('answered', 20)
    deadlines.add(call)
    call.finished = true
    deadlines.finished()
    await Bun.sleep(60)
    expect(expired).toEqual([])
  })

  test('each unfinished call expires at its own deadline, never before, oldest first', async () => {
    const { deadlines, expired } = recordingDeadlines()
    const first = callOf('first', 30)
    deadlines.add(first)
    await Bun.sleep(40)
    // The first timer has fired by now; the second call needs a timer of its own.
    const second = callOf('second', 30)
    deadlines.add(second)
    const third = callOf('third', 60)
    deadlines.add(third)
    await Bun.sleep(120)
    expect(expired.map((call) => call.name)).toEqual(['first', 'second', 'third'])
    for (const call of expired) expect(call.expiredAt as number).toBeGreaterThanOrEqual(call.deadline)
  })

  test('calls finished behind one that hangs are let go; only the one that hangs expires', async () => {
    const { deadlines, expired } = recordingDeadlines()
    const hangs = callOf('hangs', 40)
    deadlines.add(hangs)
    const answered = Array.from({ length: 3_000 }, (_, index) => callOf(`answered ${index}`, 40))
    for (const call of answered) {
      deadlines.add(call)
      call.finished = true
      deadlines.finished()
    }
    const late = callOf('late', 40)
    deadlines.add(late)
    await Bun.sleep(100)
    expect(expired.map((call) => call.name)).toEqual(['hangs', 'late'])
  })

  test('under steady load, where some call is always unfinished, the one that hangs still expires', async () => {
    const { deadlines, expired } = recordingDeadlines()
    let previous = callOf('answered 0', 40)
    deadlines.add(previous)
    for (let index = 1; index <= 5_000; index++) {
      const next = callOf(`answered ${index}`, 40)
      deadlines.add(next)
      previous.finished = true
      deadlines.finished()
      previous = next
    }
    await Bun.sleep(100)
    expect(expired.map((call) => call.name)).toEqual(['answered 5000'])
  })

  test('a call added after all others finished starts the timer again', async () => {
    const { deadlines, expired } = recordingDeadlines()
    const answered = callOf('answered', 20)
    deadlines.add(answered)
    answered.finished = true
    deadlines.finished()
    const hangs = callOf('hangs', 20)
    deadlines.add(hangs)
    await Bun.sleep(60)
    expect(expired.map((call) => call.name)).toEqual(['hangs'])
  })

  test('no timer is left once every call has finished, so the process can exit', async () => {
    const script = `
      import { Deadlines } from ${JSON.stringify(`${import.meta.dir}/../src/engines/redis/deadlines.ts`)}
      const deadlines = new Deadlines(() => {})
      const call = { deadline: performance.now() + 60_000, finished: false }
      deadlines.add(call)
      call.finished = true
      deadlines.finished()
    `
    const started = performance.now()
    const child = Bun.spawn([process.execPath, '-e', script], { stderr: 'pipe' })
    expect(await child.exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
