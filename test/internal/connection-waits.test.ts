import { describe, expect, test } from 'bun:test'
import { waitForConnection } from '../../src/engines/connection-waits.js'

/** A pool whose waits for a connection the test answers, one by one, in the order they were asked. */
function heldPool() {
  const asked: { name: string; answer: (connection: string) => void; fail: (error: unknown) => void }[] = []
  const pool = {}
  const take = (name: string) => () => {
    const { promise, resolve, reject } = Promise.withResolvers<string>()
    asked.push({ name, answer: resolve, fail: reject })
    return promise
  }
  return { pool, asked, take }
}

/**
 * How `promise` has settled so far, read after a `Bun.sleep(0)`: awaiting it would hang the test (Bun's time limit
 * does not end a test whose promise can never settle) when a broken queue never settles it.
 */
function outcomeOf(promise: Promise<unknown>) {
  const outcome: { value?: unknown; error?: string } = {}
  promise.then(
    (value) => {
      outcome.value = value
    },
    (error: unknown) => {
      outcome.error = (error as Error).message
    },
  )
  return outcome
}

describe('waitForConnection', () => {
  test('asks the pool for at most `limit` connections at once; the others get their turn in order', async () => {
    const { pool, asked, take } = heldPool()
    const never = new AbortController().signal
    const answers = ['a', 'b', 'c', 'd'].map((name) => waitForConnection(pool, () => 2, never, take(name)))
    expect(asked.map((wait) => wait.name)).toEqual(['a', 'b'])
    asked[1]!.answer('connection b')
    await answers[1]
    expect(asked.map((wait) => wait.name)).toEqual(['a', 'b', 'c'])
    asked[0]!.fail(new Error('refused'))
    await expect(answers[0]).rejects.toThrow('refused')
    await Bun.sleep(0)
    expect(asked.map((wait) => wait.name)).toEqual(['a', 'b', 'c', 'd'])
    asked[2]!.answer('connection c')
    asked[3]!.answer('connection d')
    expect(await Promise.all(answers.slice(1))).toEqual(['connection b', 'connection c', 'connection d'])
  })

  test('a call abandoned while it waits for its turn leaves at once and never asks the pool', async () => {
    const { pool, asked, take } = heldPool()
    const never = new AbortController().signal
    const first = waitForConnection(pool, () => 1, never, take('first'))
    const abandoned = new AbortController()
    const left = outcomeOf(waitForConnection(pool, () => 1, abandoned.signal, take('abandoned')))
    const last = outcomeOf(waitForConnection(pool, () => 1, never, take('last')))
    abandoned.abort(new Error('timed out'))
    await Bun.sleep(0)
    expect(left).toEqual({ error: 'timed out' })
    asked[0]!.answer('connection 1')
    await first
    await Bun.sleep(0)
    expect(asked.map((wait) => wait.name)).toEqual(['first', 'last'])
    asked[1]!.answer('connection 2')
    await Bun.sleep(0)
    expect(last).toEqual({ value: 'connection 2' })
  })

  test('a call abandoned before it starts never asks the pool; each pool has its own turns', async () => {
    const { pool, asked, take } = heldPool()
    const other = heldPool()
    const abandoned = new AbortController()
    abandoned.abort(new Error('timed out'))
    await expect(waitForConnection(pool, () => 1, abandoned.signal, take('abandoned'))).rejects.toThrow('timed out')
    const never = new AbortController().signal
    void waitForConnection(pool, () => 1, never, take('held'))
    void waitForConnection(other.pool, () => 1, never, other.take('elsewhere'))
    expect(asked.map((wait) => wait.name)).toEqual(['held'])
    expect(other.asked.map((wait) => wait.name)).toEqual(['elsewhere'])
  })

  test('a pool of no fixed size (a limit of 0 or NaN) is asked at once by every call', () => {
    const { pool, asked, take } = heldPool()
    const other = heldPool()
    const never = new AbortController().signal
    for (const name of ['a', 'b', 'c']) {
      void waitForConnection(pool, () => 0, never, take(name))
      void waitForConnection(other.pool, () => Number.NaN, never, other.take(name))
    }
    expect(asked.map((wait) => wait.name)).toEqual(['a', 'b', 'c'])
    expect(other.asked.map((wait) => wait.name)).toEqual(['a', 'b', 'c'])
  })
})
