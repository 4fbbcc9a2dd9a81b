import type { SessionValue } from './engine.js'
import { SessionConfigError } from './errors.js'

/** A class whose instances can be stored with `session.object(key, instance)`. */
export interface StorableClass<T extends object = object> {
  new (...args: never[]): T
  /** Rebuilds an instance from what its `toJSON()` returned. */
  fromJSON(json: never): T
  readonly name: string
}

const classesByName = new Map<string, StorableClass>()
const namesByClass = new Map<StorableClass, string>()

/**
 * Registers a class for `session.object`. The registry is process-wide. Pass a stable `name` when a minifier may
 * rename classes; registering the same class again is a no-op.
 *
 * @example
 * class User {
 *   constructor(readonly id: number, readonly name: string) {}
 *   toJSON() { return { id: this.id, name: this.name } }
 *   static fromJSON(json: { id: number; name: string }) { return new User(json.id, json.name) }
 * }
 * storable(User)
 */
export function storable<T extends object>(storableClass: StorableClass<T>, name?: string): void {
  if (typeof storableClass !== 'function' || typeof storableClass.fromJSON !== 'function') {
    throw new SessionConfigError('storable(Class) needs a class with a static fromJSON(json) method')
  }
  name ??= storableClass.name
  if (typeof storableClass.prototype?.toJSON !== 'function') {
    throw new SessionConfigError(`storable(${name}) needs instances with a toJSON() method`)
  }
  if (typeof name !== 'string' || name === '')
    throw new SessionConfigError('storable(Class, name) needs a non-empty name')
  const registered = classesByName.get(name)
  if (registered === storableClass) return
  if (registered) {
    throw new SessionConfigError(
      `Another class is already registered as storable ${JSON.stringify(name)}; pass a unique name: storable(Class, 'UniqueName')`,
    )
  }
  if (namesByClass.has(storableClass)) {
    throw new SessionConfigError(`${name} is already registered as ${JSON.stringify(namesByClass.get(storableClass))}`)
  }
  classesByName.set(name, storableClass)
  namesByClass.set(storableClass, name)
}

/** How a storable object is stored: the registered name and the JSON of `toJSON()`. */
type StoredObject = {
  readonly type: string
  readonly object: SessionValue
}

/** Encodes a registered instance; throws a TypeError for anything else. */
export function encodeStorable(value: object): StoredObject {
  const name = namesByClass.get(value.constructor as StorableClass)
  if (name === undefined) {
    const className = (value.constructor as { name?: string } | undefined)?.name ?? 'object'
    throw new TypeError(
      `Cannot store an instance of ${className} in a session: register its class first with storable(${className})`,
    )
  }
  // A JSON round trip makes the memory engine hold exactly what a persistent engine would give back.
  return { type: name, object: JSON.parse(JSON.stringify(value)) as SessionValue }
}

/** Revives a stored object, or returns `undefined` when it is not one of a registered class. */
export function decodeStorable(stored: SessionValue): object | undefined {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return undefined
  const { type, object } = stored as Partial<StoredObject>
  const storableClass = typeof type === 'string' ? classesByName.get(type) : undefined
  if (!storableClass || object === undefined) return undefined
  // Each read revives from a private copy, so an instance that keeps and mutates its input changes nothing stored.
  return storableClass.fromJSON(structuredClone(object) as never)
}
