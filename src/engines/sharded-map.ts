/**
 * A Map split into shards by the first characters of its keys. One huge Map is slow in Bun: every `set` dirties the
 * whole Map for the garbage collector, which then rescans all of it on each young-generation collection, so a store
 * of a million sessions made each new one cost several times more. A shard is a small Map, rescanned alone.
 * Iteration visits the shards one after the other, so it follows insertion order within a shard only.
 */
export class ShardedMap<V> {
  readonly #shards: Map<string, V>[]
  readonly #mask: number

  /** @param shardBits the shard count is 2^shardBits */
  constructor(shardBits: number) {
    this.#shards = Array.from({ length: 2 ** shardBits }, () => new Map<string, V>())
    this.#mask = 2 ** shardBits - 1
  }

  #shardOf(key: string): Map<string, V> {
    // Session ids are random base64url, so two characters spread keys evenly; any other key still works.
    const hash = (key.charCodeAt(0) * 61 + key.charCodeAt(1)) | 0
    return this.#shards[hash & this.#mask] as Map<string, V>
  }

  get size(): number {
    let size = 0
    for (const shard of this.#shards) size += shard.size
    return size
  }

  get(key: string): V | undefined {
    return this.#shardOf(key).get(key)
  }

  set(key: string, value: V): void {
    this.#shardOf(key).set(key, value)
  }

  delete(key: string): boolean {
    return this.#shardOf(key).delete(key)
  }

  clear(): void {
    for (const shard of this.#shards) shard.clear()
  }

  *entries(): IterableIterator<[string, V]> {
    for (const shard of this.#shards) yield* shard
  }
}
