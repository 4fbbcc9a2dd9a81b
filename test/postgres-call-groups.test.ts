import { describe, expect, test } from 'bun:test'
import { callGroups, type GroupedCall } from '../src/engines/postgres/call-groups.js'
import { EngineTimeoutError } from '../src/engines/time-limit.js'

type Call = GroupedCall<string, string>

/** A runner that records each group and lets the test end it. */
function recordingRunner() {
  const groups: { inputs: string[]; calls: readonly Call[]; end: () => void }[] = []
  const run = (calls: readonly Call[]) => {
    const ended = Promise.withResolvers<void>()
    groups.push({ inputs: calls.map((call) => call.input), calls, end: ended.resolve })
    return ended.promise
  }
  /** Answers every call of group `index` with its input, and ends the group. */
  const answer = (index: number) => {
    const group = groups[index]!
    for (const call of group.calls) call.resolve(call.input)
    group.end()
  }
  return { groups, run, answer }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('callGroups', () => {
  test('the calls of one turn form one group, and later calls the next', async () => {
    const { groups, run, answer } = recordingRunner()
    const grouped = callGroups(run, { running: 1, size: 100 }, 1_000, 'A call')
    const first = [grouped.add('a'), grouped.add('b')]
    await nextTurn()
    const later = grouped.add('c')
    await nextTurn()
    // One group runs at a time: 'c' waits for the first group to end.
    expect(groups.map((group) => group.inputs)).toEqual([['a', 'b']])
    answer(0)
    expect(await Promise.all(first)).toEqual(['a', 'b'])
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['a', 'b'], ['c']])
    answer(1)
    expect(await later).toBe('c')
  })

  test('as many groups run at once as allowed, each of at most the allowed size', async () => {
    const { groups, run, answer } = recordingRunner()
    const grouped = callGroups(run, { running: 2, size: 2 }, 1_000, 'A call')
    const calls = ['a', 'b', 'c', 'd', 'e'].map((input) => grouped.add(input))
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
    answer(1)
    await nextTurn()
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    answer(0)
    answer(2)
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c', 'd', 'e'])
    await grouped.idle()
  })

  test('a call still waiting at its deadline times out without running', async () => {
    const { groups, run, answer } = recordingRunner()
    const grouped = callGroups(run, { running: 1, size: 100 }, 50, 'A slow call')
    const first = grouped.add('a')
    await nextTurn()
    const waiting = grouped.add('b')
    await Bun.sleep(80)
    answer(0)
    expect(await first).toBe('a')
    expect(waiting).rejects.toThrow(new EngineTimeoutError('A slow call got no answer within 50 ms'))
    await nextTurn()
    expect(groups.length).toBe(1)
  })

  test('calls given back run again if their time is not up, ahead of later calls; the others time out', async () => {
    const { groups, run, answer } = recordingRunner()
    // Sleeps only ever overshoot: 'old' is always out of time when given back, and 'young' has 80 ms to spare.
    const grouped = callGroups(run, { running: 1, size: 100 }, 200, 'A call')
    void grouped.add('first')
    await nextTurn()
    // Made 100 ms apart, they wait for the first group together, and form the next.
    const old = grouped.add('old')
    await Bun.sleep(100)
    const young = grouped.add('young')
    answer(0)
    await nextTurn()
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['first'], ['old', 'young']])
    const later = grouped.add('later')
    await Bun.sleep(120)
    const error = new EngineTimeoutError('the group ran out of time')
    grouped.giveBack(groups[1]!.calls, error)
    groups[1]!.end()
    expect(old).rejects.toBe(error)
    await nextTurn()
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['first'], ['old', 'young'], ['young', 'later']])
    answer(2)
    expect(await young).toBe('young')
    expect(await later).toBe('later')
  })

  test('once refused, waiting, new and given-back calls all reject with the refusal; running groups go on', async () => {
    const { groups, run } = recordingRunner()
    const grouped = callGroups(run, { running: 1, size: 100 }, 1_000, 'A call')
    const running = grouped.add('running')
    await nextTurn()
    const waiting = grouped.add('waiting')
    const refusal = new Error('closed')
    grouped.refuse(refusal)
    expect(waiting).rejects.toBe(refusal)
    expect(grouped.add('new')).rejects.toBe(refusal)
    let idle = false
    const settled = grouped.idle().then(() => {
      idle = true
    })
    await nextTurn()
    expect(idle).toBe(false)
    grouped.giveBack(groups[0]!.calls, new Error('the group failed'))
    groups[0]!.end()
    expect(running).rejects.toBe(refusal)
    await settled
    await nextTurn()
    expect(groups.length).toBe(1)
  })

  test('a runner that throws rejects its calls instead of leaving them waiting', async () => {
    const failure = new Error('runner bug')
    const grouped = callGroups(() => Promise.reject(failure), { running: 1, size: 100 }, 1_000, 'A call')
    expect(grouped.add('a')).rejects.toBe(failure)
  })
})
