/** A seeded pseudo-random source: the same seed gives the same choices, so a failing model run can be replayed. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number
  /** True with probability `probability`. */
  chance(probability: number): boolean
  pick<T>(items: readonly T[]): T
  /** A copy of `items` in a random order. */
  shuffled<T>(items: readonly T[]): T[]
}

/** A `Random` from mulberry32, a 32-bit generator: tiny, fast and plenty for choosing test steps. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[int(0, items.length - 1)] as (typeof items)[number],
    shuffled(items) {
      const copy = [...items]
      for (let index = copy.length - 1; index > 0; index--) {
        const other = int(0, index)
        ;[copy[index], copy[other]] = [copy[other] as (typeof copy)[number], copy[index] as (typeof copy)[number]]
      }
      return copy
    },
  }
}

/** A fresh 32-bit seed for a run that was not given one. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number
}
