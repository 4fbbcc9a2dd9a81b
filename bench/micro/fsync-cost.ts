/**
 * What one fsync costs after writing N distinct pages of 4 KiB into a file as large as the SQLite engine's with
 * 1,000,000 sessions stored, the pages scattered at random (as the rows of sessions in use among a million) or side by
 * side (as among few): the price of the database sync that ends each WAL checkpoint cycle. Medians over the rounds, in
 * ms. The file goes in `--dir` (the system's temporary folder by default), which must be on the disk being measured: on
 * a tmpfs an fsync writes nothing.
 *
 *   bun bench/micro/fsync-cost.ts [--dir /tmp] [--megabytes 160] [--rounds 5]
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median } from '../load/summary.js'
import { positiveInteger } from '../resources/shared.js'

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    dir: { type: 'string', default: tmpdir() },
    megabytes: { type: 'string', default: '160' },
    rounds: { type: 'string', default: '5' },
  },
  strict: true,
})
const rounds = positiveInteger('rounds', flags.rounds)
const PAGE = 4_096
const DIRTY_PAGES = [10, 100, 500, 1_000, 2_000, 5_000]
const pageCount = Math.floor((positiveInteger('megabytes', flags.megabytes) * 1_048_576) / PAGE)
const mostDirty = Math.max(...DIRTY_PAGES)
if (pageCount < mostDirty * 4) {
  throw new Error(`--megabytes needs at least ${Math.ceil((mostDirty * 4 * PAGE) / 1_048_576)} for ${mostDirty} pages`)
}

/** `count` distinct page numbers, drawn at random. */
function scatteredPages(count: number): number[] {
  const pages = new Set<number>()
  while (pages.size < count) pages.add(Math.floor(Math.random() * pageCount))
  return [...pages]
}

/** `count` page numbers side by side, from a random first one. */
function adjacentPages(count: number): number[] {
  const first = Math.floor(Math.random() * (pageCount - count))
  return Array.from({ length: count }, (_, index) => first + index)
}

const dir = mkdtempSync(join(flags.dir, 'elysia-sessions-fsync-'))
try {
  const fd = openSync(join(dir, 'pages.bin'), 'w+')
  try {
    const page = Buffer.alloc(PAGE, 1)
    for (let index = 0; index < pageCount; index++) writeSync(fd, page, 0, PAGE, index * PAGE)
    fsyncSync(fd)

    /** Writes the pages numbered `pages`, then times the fsync that makes them durable, in ms. */
    const syncAfter = (pages: readonly number[]): number => {
      for (const number of pages) writeSync(fd, page, 0, PAGE, number * PAGE)
      const started = performance.now()
      fsyncSync(fd)
      return performance.now() - started
    }

    const rows = DIRTY_PAGES.map((count) => {
      const scattered: number[] = []
      const adjacent: number[] = []
      for (let round = 0; round < rounds; round++) {
        scattered.push(syncAfter(scatteredPages(count)))
        adjacent.push(syncAfter(adjacentPages(count)))
      }
      const scatteredMs = median(scattered)
      return {
        'pages written': count,
        'fsync ms, scattered': scatteredMs.toFixed(2),
        'fsync ms, side by side': median(adjacent).toFixed(2),
        'µs per scattered page': ((scatteredMs * 1_000) / count).toFixed(1),
      }
    })
    console.log(
      `fsync after writing pages into a ${flags.megabytes} MB file in ${flags.dir}, medians of ${rounds} rounds`,
    )
    console.table(rows)
  } finally {
    closeSync(fd)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
