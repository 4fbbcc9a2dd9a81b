import { ShardedMap } from './sharded-map.js'

/** The session ids an unknown owner has: shared, so asking about one allocates nothing. */
const NO_IDS: ReadonlySet<string> = new Set()

/**
 * Which sessions each owner has, for an engine that keeps its sessions in this process: owner to ids, and id to owner
 * so that deleting a session finds its owner without reading the session.
 */
export class OwnerIndex {
  readonly #idsByOwner = new Map<string, Set<string>>()
  readonly #ownerById: ShardedMap<string>

  /** @param shardBits how finely the id-to-owner map is sharded (see `ShardedMap`) */
  constructor(shardBits: number) {
    this.#ownerById = new ShardedMap<string>(shardBits)
  }

  /** Makes `owner` the owner of session `id`; `null` leaves it without one. */
  bind(id: string, owner: string | null): void {
    const previous = this.#ownerById.get(id)
    if (previous === owner) return
    if (previous !== undefined) this.unbind(id)
    if (owner === null) return
    this.#ownerById.set(id, owner)
    let ids = this.#idsByOwner.get(owner)
    if (ids === undefined) {
      ids = new Set()
      this.#idsByOwner.set(owner, ids)
    }
    ids.add(id)
  }

  /** Forgets the owner of session `id`, if it has one. */
  unbind(id: string): void {
    const owner = this.#ownerById.get(id)
    if (owner === undefined) return
    this.#ownerById.delete(id)
    const ids = this.#idsByOwner.get(owner)
    if (ids === undefined) return
    ids.delete(id)
    if (ids.size === 0) this.#idsByOwner.delete(owner)
  }

  /** How many sessions have an owner. */
  get size(): number {
    return this.#ownerById.size
  }

  /** The ids of the sessions bound to `owner`; the set is live, so copy it before unbinding while reading. */
  idsOf(owner: string): ReadonlySet<string> {
    return this.#idsByOwner.get(owner) ?? NO_IDS
  }

  clear(): void {
    this.#idsByOwner.clear()
    this.#ownerById.clear()
  }
}
