import type { SessionValue } from './engine.js'
import { SessionKeyError } from './errors.js'
import type { SessionState } from './session-state.js'
import {
  codecOf,
  describeValue,
  SESSION_VALUE_TYPES,
  type SessionValueType,
  type SessionValueTypes,
  storageKey,
} from './value-types.js'

type PrimitiveType = Exclude<SessionValueType, 'object'>

/** `session.int(key)` reads (throwing `SessionKeyError` when absent); `session.int(key, value)` writes. */
type GetterSetters = {
  [T in PrimitiveType]: {
    (key: string): SessionValueTypes[T]
    (key: string, value: SessionValueTypes[T]): void
  }
}

/** `session.intOrNull(key)`: the value, or `null` when absent. */
type NullableGetters = {
  [T in PrimitiveType as `${T}OrNull`]: (key: string) => SessionValueTypes[T] | null
}

/** `session.ints`: a frozen snapshot of every value of that type. */
type Snapshots = {
  readonly [T in SessionValueType as `${T}s`]: Readonly<Record<string, SessionValueTypes[T]>>
}

/** `session.deleteInt(key)`: removes the key; no error when it is absent. */
type Deleters = {
  [T in SessionValueType as `delete${Capitalize<T>}`]: (key: string) => void
}

/** The typed accessors kemal-session generates per type, installed on `Session.prototype` below. */
export interface TypedAccessors extends GetterSetters, NullableGetters, Snapshots, Deleters {}

let readState: (session: Session) => SessionState

export interface Session extends TypedAccessors {}

/**
 * One user's session: typed values in six namespaces (`int`, `bigint`, `string`, `float`, `bool`, `object`), each
 * read with `T(key)`, `TOrNull(key)` or the `Ts` snapshot, written with `T(key, value)` and removed with `deleteT(key)`.
 * Changes are written to the engine once, when the request is done (or on `save()`).
 *
 * @example
 * app.get('/visit', ({ session }) => {
 *   session.int('visits', (session.intOrNull('visits') ?? 0) + 1)
 *   return `visit ${session.int('visits')}`
 * })
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class Session {
  readonly #state: SessionState

  /** Sessions are made by the plugin and by `sessions.get(id)`, not by applications. */
  constructor(state: SessionState) {
    this.#state = state
  }

  get #live(): SessionState {
    if (this.#state.mode === 'disabled') {
      throw new Error('The session is turned off on this route by { session: false }; remove that option to use it')
    }
    return this.#state
  }

  /** The raw session id (never the signed cookie value). Reading it on a new session writes nothing. */
  get id(): string {
    return this.#live.id
  }

  /** When the stored session expires (epoch ms), or `null` while it has never been saved. */
  get expiresAt(): number | null {
    return this.#live.expiresAt
  }

  /** The stored object under `key`, revived as an instance of its registered class; throws when absent. */
  object<T extends object = object>(key: string): T
  /** Stores an instance of a class registered with `storable()`. */
  object(key: string, value: object): void
  object(key: string, ...value: [] | [object]): object | undefined {
    if (value.length === 0) return readOrThrow(this.#live, 'object', key)
    writeValue(this.#live, 'object', key, value[0])
    return undefined
  }

  /** The stored object under `key`, or `null`. */
  objectOrNull<T extends object = object>(key: string): T | null {
    return readOrNull(this.#live, 'object', key) as T | null
  }

  /** Writes the pending changes now. Sessions from `sessions.get(id)` keep their stored expiry. */
  save(): Promise<void> {
    return this.#live.save()
  }

  /** Deletes the session from the engine and expires the cookie; a later write starts a fresh session. */
  destroy(): Promise<void> {
    return this.#live.discard()
  }

  /** Gives the session a new id and keeps its data, removing the old id from the engine (call it on login). */
  regenerate(): Promise<void> {
    return this.#live.regenerate()
  }

  /** kemal-session's `reset`: a new id with no data; the old session is deleted from the engine. */
  reset(): Promise<void> {
    return this.#live.discard()
  }

  static {
    readState = (session) => session.#live
  }
}

/** The state behind a session, for the plugin and the admin API (not exported from the package). */
export function stateOf(session: Session): SessionState {
  return readState(session)
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`Session keys are strings, got ${describeValue(key)}`)
}

function readOrNull<T extends SessionValueType>(
  state: SessionState,
  type: T,
  key: string,
): SessionValueTypes[T] | null {
  checkKey(key)
  const stored = state.read(storageKey(type, key))
  return stored === undefined ? null : (codecOf(type).decode(stored) ?? null)
}

function readOrThrow<T extends SessionValueType>(state: SessionState, type: T, key: string): SessionValueTypes[T] {
  const value = readOrNull(state, type, key)
  if (value === null) throw new SessionKeyError(key, type)
  return value
}

function writeValue(state: SessionState, type: SessionValueType, key: string, value: unknown): void {
  checkKey(key)
  const codec = codecOf(type)
  if (!codec.accepts(value)) {
    const hint = value === undefined || value === null ? `; to remove it use delete${capitalize(type)}(key)` : ''
    throw new TypeError(
      `session.${type}(${JSON.stringify(key)}, value) needs ${codec.expected}, got ${describeValue(value)}${hint}`,
    )
  }
  state.write(storageKey(type, key), codec.encode(value as never))
}

function snapshot(state: SessionState, type: SessionValueType): Readonly<Record<string, unknown>> {
  const prefix = storageKey(type, '')
  const codec = codecOf(type)
  const entries: [string, unknown][] = []
  for (const [storedKey, stored] of state.data) {
    if (!storedKey.startsWith(prefix)) continue
    const value = codec.decode(stored as SessionValue)
    if (value !== undefined) entries.push([storedKey.slice(prefix.length), value])
  }
  // fromEntries defines own properties, so a key such as "__proto__" is kept as a key.
  return Object.freeze(Object.fromEntries(entries))
}

function capitalize(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1)
}

for (const type of SESSION_VALUE_TYPES) {
  const descriptors: PropertyDescriptorMap = {
    [`${type}s`]: {
      get(this: Session) {
        return snapshot(stateOf(this), type)
      },
    },
    [`delete${capitalize(type)}`]: {
      value(this: Session, key: string) {
        checkKey(key)
        stateOf(this).remove(storageKey(type, key))
      },
    },
  }
  if (type !== 'object') {
    descriptors[type] = {
      value(this: Session, key: string, ...value: unknown[]) {
        if (value.length === 0) return readOrThrow(stateOf(this), type, key)
        writeValue(stateOf(this), type, key, value[0])
      },
    }
    descriptors[`${type}OrNull`] = {
      value(this: Session, key: string) {
        return readOrNull(stateOf(this), type, key)
      },
    }
  }
  Object.defineProperties(Session.prototype, descriptors)
}
