import type { SessionEngine } from 'elysia-sessions'

/** The storage key of the owner; public tests see only the package, so it is repeated here. */
const OWNER_KEY = 'meta:owner'

/** How many other owners the filler sessions are spread over. */
const OTHER_OWNERS = 10_000

/** How many commits a fill sends at once. */
const COMMITS_AT_ONCE = 500

/**
 * Commits `count` sessions bound to owners other than `owner` (several sessions each), then `owned` sessions bound to
 * `owner`, all alive for an hour from `now`.
 */
export async function fillOwnedStore(
  engine: SessionEngine,
  { count, owned, owner, now }: { count: number; owned: number; owner: string; now: number },
): Promise<void> {
  const commitOwned = (id: string, to: string) =>
    engine.commit(
      id,
      { set: { [OWNER_KEY]: to, 'int:filler': 1 }, deleted: [], expiresAt: now + 3_600_000, owner: to },
      now,
    )
  for (let start = 0; start < count; start += COMMITS_AT_ONCE) {
    const chunk: Promise<boolean>[] = []
    for (let index = start; index < Math.min(count, start + COMMITS_AT_ONCE); index++) {
      chunk.push(commitOwned(`filler-${index}-${crypto.randomUUID()}`, `other-owner-${index % OTHER_OWNERS}`))
    }
    await Promise.all(chunk)
  }
  for (let index = 0; index < owned; index++) await commitOwned(`owned-${index}-${crypto.randomUUID()}`, owner)
}

/** Options of `listingCostRatio`. */
export interface ListingRatioOptions {
  /** How many samples of each store are taken; the median of each is compared. */
  readonly samples?: number
  /** How many listings one sample times, so that one sample is long enough for the clock. */
  readonly listingsPerSample?: number
}

/**
 * How much longer listing `owner`'s sessions takes on `large` than on `small`: the median of several samples of
 * each, taken alternately (so a slow moment of the machine hits both) after a warm-up, with a full GC before each
 * sample so that neither pays for the other's garbage. A ratio within one run, never a wall-clock bound.
 */
export async function listingCostRatio(
  small: SessionEngine,
  large: SessionEngine,
  owner: string,
  { samples = 41, listingsPerSample = 100 }: ListingRatioOptions = {},
): Promise<number> {
  const list = (engine: SessionEngine, now: number) => {
    if (!engine.listByOwner) throw new Error(`${engine.name} has no listByOwner`)
    return engine.listByOwner(owner, now)
  }
  const sample = async (engine: SessionEngine): Promise<number> => {
    Bun.gc(true)
    const now = Date.now()
    const started = Bun.nanoseconds()
    for (let index = 0; index < listingsPerSample; index++) await list(engine, now)
    return Bun.nanoseconds() - started
  }
  for (const engine of [small, large, small, large]) await sample(engine)
  const smallTimes: number[] = []
  const largeTimes: number[] = []
  for (let index = 0; index < samples; index++) {
    // Alternating which store goes first keeps a steady drift from favouring either.
    if (index % 2 === 0) {
      smallTimes.push(await sample(small))
      largeTimes.push(await sample(large))
    } else {
      largeTimes.push(await sample(large))
      smallTimes.push(await sample(small))
    }
  }
  return median(largeTimes) / median(smallTimes)
}

function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
