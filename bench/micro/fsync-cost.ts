/**
 * What one fsync costs after writing N pages of 4 KiB into a file as large as the SQLite engine's with 1,000,000
 * sessions stored, the pages scattered at random (as the rows of sessions in use among a million) or side by side (as
 * among few): the price of the database sync that ends each WAL checkpoint cycle. Medians over the rounds, in ms.
 *
 *   bun bench/micro/fsync-cost.ts [--megabytes 160] [--rounds 5]
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from '../load/summary.js'
import { positiveInteger } from '../resources/shared.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: { megabytes: { type: 'string', default: '160' }, rounds: { type: 'string', default: '5' } },
  strict: true,
})
const rounds = positiveInteger('rounds', flags.rounds)
const PAGE = 4_096
const pageCount = Math.floor((positiveInteger('megabytes', flags.megabytes) * 1_048_576) / PAGE)
const DIRTY_PAGES = [10, 100, 500, 1_000, 2_000, 5_000]

const dir = mkdtempSync(join(tmpdir(), 'elysia-sessions-fsync-'))
const fd = openSync(join(dir, 'pages.bin'), 'w+')
try {
  const page = Buffer.alloc(PAGE, 1)
  for (let index = 0; index < pageCount; index++) writeSync(fd, page, 0, PAGE, index * PAGE)
  fsyncSync(fd)

  /** Writes `count` pages at the page numbers `at` gives, then times the fsync that makes them durable. */
  const syncAfter = (count: number, at: (index: number) => number): number => {
    for (let index = 0; index < count; index++) writeSync(fd, page, 0, PAGE, at(index) * PAGE)
    const started = performance.now()
    fsyncSync(fd)
    return performance.now() - started
  }
  const rows = DIRTY_PAGES.map((count) => {
    const scattered: number[] = []
    const together: number[] = []
    for (let round = 0; round < rounds; round++) {
      scattered.push(syncAfter(count, () => Math.floor(Math.random() * pageCount)))
      const first = Math.floor(Math.random() * (pageCount - count))
      together.push(syncAfter(count, (index) => first + index))
    }
    return {
      'pages written': count,
      'fsync ms, scattered': median(scattered).toFixed(2),
      'fsync ms, side by side': median(together).toFixed(2),
      'µs per scattered page': ((median(scattered) * 1_000) / count).toFixed(1),
    }
  })
  console.log(`fsync after writing pages into a ${flags.megabytes} MB file (${tmpdir()}), medians of ${rounds} rounds`)
  console.table(rows)
} finally {
  closeSync(fd)
  rmSync(dir, { recursive: true, force: true })
}
