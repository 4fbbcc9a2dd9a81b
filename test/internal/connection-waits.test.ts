import { describe, expect, test } from 'bun:test'
import { createPool } from 'mysql2'
import { waitForConnection } from '../../src/engines/connection-waits.js'
import { lendConnection, poolOf } from '../../src/engines/mysql/connection.js'

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

describe('MySQL engines on one mysql2 callback pool', () => {
  test('share its limit of waits, though each gets a promise wrapper of its own', async () => {
    // Accepts connections and never greets: each connection attempt of the pool hangs, its wait with it.
    const mute = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const pool = createPool({ host: '127.0.0.1', port: mute.port, connectionLimit: 2, connectTimeout: 10_000 })
    let asked = 0
    const getConnection = pool.getConnection.bind(pool)
    pool.getConnection = (callback) => {
      asked++
      getConnection(callback)
    }
    const calls = new AbortController()
    try {
      // What two engines given the same callback pool each lend their connections from.
      const [first, second] = [poolOf(pool), poolOf(pool)]
      expect(first).toBeDefined()
      expect(first).not.toBe(second)
      const lent = [first, first, first, second, second, second].map((wrapper) =>
        lendConnection(wrapper as NonNullable<typeof wrapper>, calls.signal, async () => 'lent').catch(
          (error: unknown) => (error as Error).message,
        ),
      )
      await Bun.sleep(50)
      expect(asked).toBe(2)
      calls.abort(new Error('timed out'))
      // The four calls queued in the engines leave at once; the two with the pool fail once the server hangs up.
      mute.stop(true)
      expect(await Promise.all(lent)).toEqual(Array(6).fill(expect.any(String)))
      expect(asked).toBe(2)
    } finally {
      calls.abort(new Error('timed out'))
      mute.stop(true)
      await new Promise<void>((resolve) => pool.end(() => resolve()))
    }
  })
})
