import { describe, expect, test } from 'bun:test'
import { EngineTimeoutError } from '../../src/engines/deadlines.js'
import {
  addGroupedCall,
  type GroupedCall,
  giveBackUnlessLate,
  takeIntoGroup,
} from '../../src/engines/postgres/grouped-call.js'
import { createTurnQueue, type TurnQueue } from '../../src/engines/turn-queue.js'

type Call = GroupedCall<string, string>

/** A queue of grouped calls whose runner records each group and lets the test end it. */
function recordingGroups() {
  const groups: { inputs: string[]; calls: readonly Call[]; end: () => void }[] = []
  const queue: TurnQueue<Call> = createTurnQueue(
    (calls) => {
      takeIntoGroup(calls)
      const ended = Promise.withResolvers<void>()
      groups.push({ inputs: calls.map((call) => call.input), calls, end: ended.resolve })
      return ended.promise
    },
    { batchesAtOnce: 1, callsPerBatch: 100 },
  )
  /** Answers every call of group `index` with its input, and ends the group. */
  const answer = (index: number) => {
    const group = groups[index]!
    for (const call of group.calls) call.resolve(call.input)
    group.end()
  }
  return { groups, queue, answer }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('grouped calls (the postgres engine’s loads and commits)', () => {
  test('a call still waiting at its deadline times out without running', async () => {
    const { groups, queue, answer } = recordingGroups()
    const first = addGroupedCall(queue, 'a', 50, 'A slow call got no answer within 50 ms')
    await nextTurn()
    const waiting = addGroupedCall(queue, 'b', 50, 'A slow call got no answer within 50 ms').catch(
      (error: unknown) => error,
    )
    await Bun.sleep(80)
    // At its deadline, while the group it waits for still runs.
    expect(await waiting).toEqual(new EngineTimeoutError('A slow call got no answer within 50 ms'))
    answer(0)
    expect(await first).toBe('a')
    await nextTurn()
    expect(groups.length).toBe(1)
  })

  test('a call in a group is left to the group’s time limit: its own deadline does not settle it', async () => {
    const { groups, queue, answer } = recordingGroups()
    const call = addGroupedCall(queue, 'a', 20, 'A call got no answer')
    await nextTurn()
    await Bun.sleep(50)
    answer(0)
    expect(await call).toBe('a')
    expect(groups.length).toBe(1)
  })

  test('calls given back run again if their time is not up, ahead of later calls; the others time out', async () => {
    const { groups, queue, answer } = recordingGroups()
    // Sleeps only ever overshoot: 'old' is always out of time when given back, and 'young' has 80 ms to spare.
    void addGroupedCall(queue, 'first', 200, 'A call got no answer')
    await nextTurn()
    // Made 100 ms apart, they wait for the first group together, and form the next.
    const old = addGroupedCall(queue, 'old', 200, 'A call got no answer')
    await Bun.sleep(100)
    const young = addGroupedCall(queue, 'young', 200, 'A call got no answer')
    answer(0)
    await nextTurn()
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['first'], ['old', 'young']])
    const later = addGroupedCall(queue, 'later', 200, 'A call got no answer')
    await Bun.sleep(120)
    const error = new EngineTimeoutError('the group ran out of time')
    giveBackUnlessLate(queue, groups[1]!.calls, error)
    groups[1]!.end()
    expect(old).rejects.toBe(error)
    await nextTurn()
    await nextTurn()
    expect(groups.map((group) => group.inputs)).toEqual([['first'], ['old', 'young'], ['young', 'later']])
    answer(2)
    expect(await young).toBe('young')
    expect(await later).toBe('later')
  })
})
