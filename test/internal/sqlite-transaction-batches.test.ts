import { expect, test } from 'bun:test'
import { type BatchedWork, createTransactionBatches } from '../../src/engines/sqlite/transaction-batches.js'

/** The error a batch throws while another connection holds the write lock. */
const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })

/**
 * A batch that records each run as the names of its works, with whether it wrote. While `lock.held`, a batch that
 * writes fails with SQLITE_BUSY before running anything, as BEGIN IMMEDIATE does.
 */
function recordingBatch(fail: (names: readonly string[]) => boolean = () => false, lock = { held: false }) {
  const runs: string[][] = []
  const names = new WeakMap<BatchedWork, string>()
  const batch = createTransactionBatches(
    (works, writes) => {
      const run = works.map((work) => names.get(work)!)
      runs.push([writes ? 'write' : 'read', ...run])
      if (writes && lock.held) throw busy
      if (fail(run)) throw new Error('disk full')
      return works.map((work) => work.run())
    },
    { isBusy: (error) => error === busy, budget: 1_000 },
  )
  const add = (name: string, writes: boolean) => {
    const work = { run: () => `${name} done`, writes }
    names.set(work, name)
    return batch.add(work)
  }
  return { batch, runs, add }
}

test('works asked for in one turn of the event loop run as one batch, in order, and each gets its own result', async () => {
  const { runs, add } = recordingBatch()
  expect(await Promise.all([add('a', false), add('b', false)])).toEqual(['a done', 'b done'])
  expect(await Promise.all([add('c', false), add('d', true), add('e', false)])).toEqual(['c done', 'd done', 'e done'])
  expect(await add('f', false)).toBe('f done')
  expect(runs).toEqual([
    ['read', 'a', 'b'],
    ['write', 'c', 'd', 'e'],
    ['read', 'f'],
  ])
})

test('when a batch fails, each work runs again on its own and only the failing one is rejected', async () => {
  const { runs, add } = recordingBatch((names) => names.includes('bad'))
  const settled = await Promise.allSettled([add('a', false), add('bad', true), add('c', false)])
  expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect(String((settled[1] as PromiseRejectedResult).reason)).toContain('disk full')
  expect(runs).toEqual([
    ['write', 'a', 'bad', 'c'],
    ['read', 'a'],
    ['write', 'bad'],
    ['read', 'c'],
  ])
})

test('a work that throws rejects its own caller', async () => {
  const batch = createTransactionBatches((works) => works.map((work) => work.run()))
  const failing = batch.add({
    run: () => {
      throw new Error('no such table')
    },
    writes: true,
  })
  await expect(failing).rejects.toThrow('no such table')
})

test('close runs the waiting batch at once', async () => {
  const { batch, runs, add } = recordingBatch()
  const pending = add('a', true)
  batch.close(new Error('closed'))
  expect(runs).toEqual([['write', 'a']])
  expect(await pending).toBe('a done')
})

test('writes locked out wait, in their order, while the reads of their batch are answered at once', async () => {
  const lock = { held: true }
  const { runs, add } = recordingBatch(undefined, lock)
  const order: string[] = []
  const track = (name: string, result: Promise<string>) => result.then(() => order.push(name))
  const settled = Promise.all([
    track('w1', add('w1', true)),
    track('r1', add('r1', false)),
    track('w2', add('w2', true)),
  ])
  await Bun.sleep(20)
  expect(order).toEqual(['r1'])
  // Work asked for meanwhile queues behind the waiting writes.
  const later = track('w3', add('w3', true))
  lock.held = false
  await Promise.all([settled, later])
  expect(order).toEqual(['r1', 'w1', 'w2', 'w3'])
  expect(runs[0]).toEqual(['write', 'w1', 'r1', 'w2'])
  expect(runs[1]).toEqual(['read', 'r1'])
  expect(runs.at(-1)).toEqual(['write', 'w1', 'w2', 'w3'])
})

test('writes rerun alone after a failed batch keep their order when the lock is held', async () => {
  const lock = { held: false }
  let failed = false
  const { add } = recordingBatch((names) => {
    // The batch fails once for an unrelated reason, then the lock is taken before the writes rerun alone.
    if (names.length > 1 && !failed) {
      failed = true
      lock.held = true
      setTimeout(() => {
        lock.held = false
      }, 20)
      throw new Error('disk full')
    }
    return false
  }, lock)
  const order: string[] = []
  const track = (name: string, result: Promise<string>) => result.then(() => order.push(name))
  await Promise.all([track('w1', add('w1', true)), track('w2', add('w2', true)), track('w3', add('w3', true))])
  expect(order).toEqual(['w1', 'w2', 'w3'])
})

test('writes locked out for longer than the budget fail with the busy error', async () => {
  const lock = { held: true }
  const batch = createTransactionBatches(
    (works, writes) => {
      if (writes && lock.held) throw busy
      return works.map((work) => work.run())
    },
    { isBusy: (error) => error === busy, budget: 50 },
  )
  const started = performance.now()
  await expect(batch.add({ run: () => 'never', writes: true })).rejects.toBe(busy)
  expect(performance.now() - started).toBeGreaterThanOrEqual(50)
})

test('close fails work still locked out with the reason it is given', async () => {
  const lock = { held: true }
  const { batch, add } = recordingBatch(undefined, lock)
  const pending = add('w1', true)
  await Bun.sleep(5)
  batch.close(new Error('The sqlite session engine is closed'))
  await expect(pending).rejects.toThrow('The sqlite session engine is closed')
})

test('work added after close fails with the reason close was given, unrun', async () => {
  const { batch, runs, add } = recordingBatch()
  batch.close(new Error('The sqlite session engine is closed'))
  await expect(add('late', true)).rejects.toThrow('The sqlite session engine is closed')
  expect(runs).toEqual([])
})
