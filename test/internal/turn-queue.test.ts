import { describe, expect, test } from 'bun:test'
import { createTurnQueue, type TurnQueue, type TurnQueueLimits } from '../../src/engines/turn-queue.js'

/** A call with a name, answered with its name by the test. */
class TestCall {
  finished = false
  readonly answer: Promise<string>
  readonly #settle: { resolve: (value: string) => void; reject: (error: unknown) => void }

  constructor(readonly name: string) {
    const { promise, resolve, reject } = Promise.withResolvers<string>()
    this.answer = promise
    this.#settle = { resolve, reject }
  }

  resolve(): void {
    this.finished = true
    this.#settle.resolve(this.name)
  }

  reject(error: unknown): void {
    this.finished = true
    this.#settle.reject(error)
  }
}

/** A queue whose runner records each batch and lets the test end it. */
function recordingQueue(limits?: TurnQueueLimits) {
  const batches: { names: string[]; calls: TestCall[]; end: () => void }[] = []
  const queue: TurnQueue<TestCall> = createTurnQueue((calls) => {
    const ended = Promise.withResolvers<void>()
    batches.push({ names: calls.map((call) => call.name), calls, end: ended.resolve })
    return ended.promise
  }, limits)
  /** Answers every call of batch `index` with its name, and ends the batch. */
  const answer = (index: number) => {
    const batch = batches[index]!
    for (const call of batch.calls) call.resolve()
    batch.end()
  }
  const add = (name: string) => {
    const call = new TestCall(name)
    queue.add(call)
    return call
  }
  const namesOf = () => batches.map((batch) => batch.names)
  return { queue, batches, answer, add, namesOf }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('createTurnQueue', () => {
  test('the calls of one turn form one batch, in order, and later calls the next', async () => {
    const { answer, add, namesOf } = recordingQueue({ batchesAtOnce: 1, callsPerBatch: 100 })
    const first = [add('a'), add('b')]
    expect(namesOf()).toEqual([])
    await nextTurn()
    const later = add('c')
    await nextTurn()
    // One batch runs at a time: 'c' waits for the first batch to end.
    expect(namesOf()).toEqual([['a', 'b']])
    answer(0)
    expect(await Promise.all(first.map((call) => call.answer))).toEqual(['a', 'b'])
    await nextTurn()
    expect(namesOf()).toEqual([['a', 'b'], ['c']])
    answer(1)
    expect(await later.answer).toBe('c')
  })

  test('without limits, every call of a turn joins one batch, and batches do not wait for each other', async () => {
    const { add, namesOf } = recordingQueue()
    for (const name of ['a', 'b', 'c']) add(name)
    await nextTurn()
    add('d')
    await nextTurn()
    expect(namesOf()).toEqual([['a', 'b', 'c'], ['d']])
  })

  test('as many batches run at once as allowed, each of at most the allowed size', async () => {
    const { queue, answer, add, namesOf } = recordingQueue({ batchesAtOnce: 2, callsPerBatch: 2 })
    const calls = ['a', 'b', 'c', 'd', 'e'].map(add)
    await nextTurn()
    expect(namesOf()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
    answer(1)
    await nextTurn()
    await nextTurn()
    expect(namesOf()).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    answer(0)
    answer(2)
    expect(await Promise.all(calls.map((call) => call.answer))).toEqual(['a', 'b', 'c', 'd', 'e'])
    await queue.idle()
  })

  test('a call that finished while it waited (it timed out, say) is dropped unrun', async () => {
    const { add, namesOf } = recordingQueue()
    const timedOut = add('timed out')
    add('b')
    timedOut.reject(new Error('timed out'))
    await timedOut.answer.catch(() => undefined)
    await nextTurn()
    expect(namesOf()).toEqual([['b']])
  })

  test('calls given back run again at the end of the turn, ahead of the calls made since', async () => {
    const { queue, batches, add, namesOf } = recordingQueue({ batchesAtOnce: 1, callsPerBatch: 100 })
    add('a')
    add('b')
    await nextTurn()
    add('later')
    queue.giveBack(batches[0]!.calls)
    batches[0]!.end()
    await nextTurn()
    await nextTurn()
    expect(namesOf()).toEqual([
      ['a', 'b'],
      ['a', 'b', 'later'],
    ])
  })

  test('calls given back with a pause hold the queue until it ends; runNow ends it at once', async () => {
    const { queue, batches, add, namesOf } = recordingQueue()
    add('locked out')
    await nextTurn()
    batches[0]!.end()
    queue.giveBack(batches[0]!.calls, 40)
    add('later')
    await Bun.sleep(10)
    expect(namesOf()).toEqual([['locked out']])
    await Bun.sleep(60)
    expect(namesOf()).toEqual([['locked out'], ['locked out', 'later']])
    queue.giveBack(batches[1]!.calls, 10_000)
    queue.runNow()
    expect(namesOf()).toEqual([['locked out'], ['locked out', 'later'], ['locked out', 'later']])
  })

  test('once refused, waiting, new and given-back calls all reject with the refusal; running batches go on', async () => {
    const { queue, batches, add } = recordingQueue({ batchesAtOnce: 1, callsPerBatch: 100 })
    const running = add('running')
    await nextTurn()
    const waiting = add('waiting')
    const refusal = new Error('closed')
    queue.refuse((call) => (call.name === 'waiting' ? refusal : new Error(`closed (${call.name})`)))
    expect(waiting.answer).rejects.toBe(refusal)
    expect(add('new').answer).rejects.toThrow('closed (new)')
    let idle = false
    const settled = queue.idle().then(() => {
      idle = true
    })
    await nextTurn()
    expect(idle).toBe(false)
    queue.giveBack(batches[0]!.calls)
    batches[0]!.end()
    expect(running.answer).rejects.toThrow('closed (running)')
    await settled
    await nextTurn()
    expect(batches.length).toBe(1)
  })

  test('a runner that throws, or whose batch rejects, rejects its calls instead of leaving them waiting', async () => {
    const failure = new Error('runner bug')
    const rejecting = createTurnQueue<TestCall>(() => Promise.reject(failure))
    const throwing = createTurnQueue<TestCall>(() => {
      throw failure
    })
    const calls = [new TestCall('a'), new TestCall('b')]
    rejecting.add(calls[0]!)
    throwing.add(calls[1]!)
    const settled = await Promise.allSettled(calls.map((call) => call.answer))
    expect(settled.map((result) => result.status === 'rejected' && result.reason)).toEqual([failure, failure])
  })
})
