import type { StoredSession } from '../engine.js'

/**
 * How many recently loaded sessions the memory engine keeps decoded, so that requests to them skip JSON: few enough
 * that their heap stays small beside a large store.
 */
export const HOT_SESSIONS = 10_000

/** What a released session holds: no data, and an expiry that is never alive. */
const RELEASED: StoredSession = Object.freeze({ data: Object.freeze({}), expiresAt: Number.NaN })

/**
 * A session an engine keeps decoded while it is in use: `stored` is frozen, so every load can hand out the same one;
 * `record` is the encoded form it was decoded from, while no write has changed it since.
 */
export class HotSession<Encoded> {
  constructor(
    readonly id: string,
    public stored: StoredSession,
    public record: Encoded | undefined,
  ) {}

  /** Drops the data of a session the engine no longer stores, so its slot in the ring does not keep it in memory. */
  release(): void {
    this.stored = RELEASED
    this.record = undefined
  }
}

/**
 * The most recently heated sessions, at most `capacity`: adding one more hands the oldest to `cool`, which encodes it
 * back. A ring of slots, so adding costs no allocation and no search; a session changed while hot keeps its slot.
 */
export class HotRing<Encoded> {
  readonly #slots: HotSession<Encoded>[] = []
  readonly #capacity: number
  readonly #cool: (session: HotSession<Encoded>) => void
  #next = 0

  constructor(capacity: number, cool: (session: HotSession<Encoded>) => void) {
    this.#capacity = capacity
    this.#cool = cool
  }

  add(session: HotSession<Encoded>): void {
    const oldest = this.#slots[this.#next]
    if (oldest !== undefined) this.#cool(oldest)
    this.#slots[this.#next] = session
    this.#next = this.#next + 1 === this.#capacity ? 0 : this.#next + 1
  }

  /** Forgets every slot without cooling it: for when the store itself was emptied. */
  clear(): void {
    this.#slots.length = 0
    this.#next = 0
  }
}
