import { SessionKeyError } from './errors.js'
import { OWNER_KEY } from './internal-keys.js'
import { checkOwnerId } from './owner-id.js'
import type { SchemaRules } from './schema-rules.js'
import { SchemaValues } from './schema-values.js'
import type { Frozen, SessionDataOf, SessionFields, UntypedFields } from './session-schema.js'
import type { SessionState } from './session-state.js'
import {
  checkKey,
  codecOf,
  describeValue,
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

/**
 * The typed accessors kemal-session generates per type; `Session` implements them as explicit methods, so this
 * type describes the whole family in one place.
 */
export interface TypedAccessors extends GetterSetters, NullableGetters, Snapshots, Deleters {}

let readState: (session: Session) => SessionState

/**
 * One user's session. Values declared by the plugin's `schema` (or, without one, any JSON-safe value) are read with
 * `get`, written with `set` and removed with `delete`; `data` is a frozen snapshot of them. kemal-session's typed
 * values live beside them in six namespaces (`int`, `bigint`, `string`, `float`, `bool`, `object`), each read with
 * `T(key)`, `TOrNull(key)` or the `Ts` snapshot, written with `T(key, value)` and removed with `deleteT(key)`.
 * Changes are written to the engine once, when the request is done (or on `save()`).
 *
 * `Fields` comes from the schema; a helper typed with the plain `Session` accepts a schema-typed session too.
 *
 * @example
 * app.get('/visit', ({ session }) => {
 *   session.set('visits', session.get('visits') + 1) // schema: { visits: withDefault(t.Integer(), 0) }
 *   return `visit ${session.get('visits')}`
 * })
 */
export class Session<Fields extends SessionFields = UntypedFields> implements TypedAccessors {
  readonly #state: SessionState
  readonly #rules: SchemaRules
  /** Made on first use: most requests never touch the schema's values. */
  #values: SchemaValues | undefined

  /** Sessions are made by the plugin and by `sessions.get(id)`, not by applications. */
  constructor(state: SessionState, rules: SchemaRules) {
    this.#state = state
    this.#rules = rules
    // Stale values go with the next write even when this request never reads them.
    if (rules.keys !== undefined && state.mode !== 'disabled') {
      state.staleKeys = () => this.#schemaValues.staleStorageKeys()
    }
  }

  get #schemaValues(): SchemaValues {
    this.#values ??= new SchemaValues(this.#live, this.#rules)
    return this.#values
  }

  /**
   * The value under `key`, frozen; its default, or `undefined`, while the session holds none or holds one that no
   * longer matches the schema (stale data is reported once through the logger and removed with the next write).
   */
  get<K extends keyof Fields & string>(key: K): Frozen<Fields[K]['output']> {
    return this.#schemaValues.get(key) as Frozen<Fields[K]['output']>
  }

  /**
   * Stores `value` under `key` after checking that it is JSON-safe and matches the key's schema; otherwise a TypeError
   * (a `SessionValueError` for a schema mismatch) that changes nothing.
   */
  set<K extends keyof Fields & string>(key: K, value: Frozen<Fields[K]['input']>): void {
    this.#schemaValues.set(key, value)
  }

  /** Removes the value under `key`; no error when it is absent. */
  delete<K extends keyof Fields & string>(key: K): void {
    this.#schemaValues.delete(key)
  }

  /** Whether a valid value is stored under `key` (a default does not count). */
  has<K extends keyof Fields & string>(key: K): boolean {
    return this.#schemaValues.has(key)
  }

  /** A frozen snapshot of every key that holds a valid value or has a default. */
  get data(): SessionDataOf<Fields> {
    return this.#schemaValues.data() as SessionDataOf<Fields>
  }

  get #live(): SessionState {
    if (this.#state.mode === 'disabled') {
      throw new Error('The session is turned off on this route by { session: false }; remove that option to use it')
    }
    return this.#state
  }

  /**
   * False when the engine failed to load this session and the plugin runs with `onEngineError: 'continue'`: the
   * session then reads as empty and every change throws a `SessionEngineError`.
   */
  get available(): boolean {
    return this.#live.mode !== 'unavailable'
  }

  /** The raw session id (never the signed cookie value). Reading it on a new session writes nothing. */
  get id(): string {
    return this.#live.id
  }

  /**
   * When the stored session expires (epoch ms), or `null` while it has never been saved: the earlier of its idle end
   * (`timeout` after its last activity) and its absolute end (`absoluteTimeout` after `createdAt`).
   */
  get expiresAt(): number | null {
    return this.#live.expiresAt
  }

  /**
   * When the session was created (epoch ms): its first save. `null` before that, and for a session stored before
   * creation times were recorded until its next save (or, with `absoluteTimeout`, its next touch). `regenerate()` keeps it; `reset()` and `destroy()` start over.
   */
  get createdAt(): number | null {
    return this.#live.createdAt
  }

  /** The safe integer under `key`; throws `SessionKeyError` when absent. */
  int(key: string): number
  /** Stores a safe integer under `key`. */
  int(key: string, value: number): void
  int(key: string, ...value: [] | [number]): number | undefined {
    return readOrWrite(this.#live, 'int', key, value)
  }

  /** The integer under `key`, or `null`. */
  intOrNull(key: string): number | null {
    return readOrNull(this.#live, 'int', key)
  }

  /** A frozen snapshot of every integer of the session. */
  get ints(): Readonly<Record<string, number>> {
    return snapshot(this.#live, 'int')
  }

  /** Removes the integer under `key`; no error when it is absent. */
  deleteInt(key: string): void {
    remove(this.#live, 'int', key)
  }

  /** The bigint under `key`; throws `SessionKeyError` when absent. */
  bigint(key: string): bigint
  /** Stores a bigint under `key`. */
  bigint(key: string, value: bigint): void
  bigint(key: string, ...value: [] | [bigint]): bigint | undefined {
    return readOrWrite(this.#live, 'bigint', key, value)
  }

  /** The bigint under `key`, or `null`. */
  bigintOrNull(key: string): bigint | null {
    return readOrNull(this.#live, 'bigint', key)
  }

  /** A frozen snapshot of every bigint of the session. */
  get bigints(): Readonly<Record<string, bigint>> {
    return snapshot(this.#live, 'bigint')
  }

  /** Removes the bigint under `key`; no error when it is absent. */
  deleteBigint(key: string): void {
    remove(this.#live, 'bigint', key)
  }

  /** The string under `key`; throws `SessionKeyError` when absent. */
  string(key: string): string
  /** Stores a string under `key`. */
  string(key: string, value: string): void
  string(key: string, ...value: [] | [string]): string | undefined {
    return readOrWrite(this.#live, 'string', key, value)
  }

  /** The string under `key`, or `null`. */
  stringOrNull(key: string): string | null {
    return readOrNull(this.#live, 'string', key)
  }

  /** A frozen snapshot of every string of the session. */
  get strings(): Readonly<Record<string, string>> {
    return snapshot(this.#live, 'string')
  }

  /** Removes the string under `key`; no error when it is absent. */
  deleteString(key: string): void {
    remove(this.#live, 'string', key)
  }

  /** The finite number under `key`; throws `SessionKeyError` when absent. */
  float(key: string): number
  /** Stores a finite number under `key`. */
  float(key: string, value: number): void
  float(key: string, ...value: [] | [number]): number | undefined {
    return readOrWrite(this.#live, 'float', key, value)
  }

  /** The float under `key`, or `null`. */
  floatOrNull(key: string): number | null {
    return readOrNull(this.#live, 'float', key)
  }

  /** A frozen snapshot of every float of the session. */
  get floats(): Readonly<Record<string, number>> {
    return snapshot(this.#live, 'float')
  }

  /** Removes the float under `key`; no error when it is absent. */
  deleteFloat(key: string): void {
    remove(this.#live, 'float', key)
  }

  /** The boolean under `key`; throws `SessionKeyError` when absent. */
  bool(key: string): boolean
  /** Stores a boolean under `key`. */
  bool(key: string, value: boolean): void
  bool(key: string, ...value: [] | [boolean]): boolean | undefined {
    return readOrWrite(this.#live, 'bool', key, value)
  }

  /** The boolean under `key`, or `null`. */
  boolOrNull(key: string): boolean | null {
    return readOrNull(this.#live, 'bool', key)
  }

  /** A frozen snapshot of every boolean of the session. */
  get bools(): Readonly<Record<string, boolean>> {
    return snapshot(this.#live, 'bool')
  }

  /** Removes the boolean under `key`; no error when it is absent. */
  deleteBool(key: string): void {
    remove(this.#live, 'bool', key)
  }

  /** The stored object under `key`, revived as an instance of its registered class; throws when absent. */
  object<T extends object = object>(key: string): T
  /** Stores an instance of a class registered with `storable()`. */
  object(key: string, value: object): void
  object(key: string, ...value: [] | [object]): object | undefined {
    return readOrWrite(this.#live, 'object', key, value)
  }

  /** The stored object under `key`, or `null`. */
  objectOrNull<T extends object = object>(key: string): T | null {
    return readOrNull(this.#live, 'object', key) as T | null
  }

  /** A frozen snapshot of every stored object of the session, each revived as its registered class. */
  get objects(): Readonly<Record<string, object>> {
    return snapshot(this.#live, 'object')
  }

  /** Removes the object under `key`; no error when it is absent. */
  deleteObject(key: string): void {
    remove(this.#live, 'object', key)
  }

  /**
   * The id of the owner this session is bound to (a user id, say), or `null`. Owners let `sessions.listByOwner` and
   * `sessions.destroyByOwner` find every session of one user; the owner id stays on the server.
   */
  owner(): string | null
  /**
   * Binds the session to an owner: a non-empty string of at most 256 characters, else a TypeError that changes
   * nothing. Saved with the request's other changes; `regenerate()` keeps it, `reset()` and `destroy()` drop it.
   */
  owner(ownerId: string): void
  owner(...ownerId: [] | [string]): string | null | undefined {
    const state = this.#live
    const current = state.read(OWNER_KEY)
    if (ownerId.length === 0) return typeof current === 'string' ? current : null
    const [next] = ownerId
    checkOwnerId(next, 'session.owner(ownerId)')
    // Binding the owner it already has is not a change, so binding on every request costs no write.
    if (current !== next) state.write(OWNER_KEY, next)
    return undefined
  }

  /** Unbinds the session from its owner; no error when it has none. */
  deleteOwner(): void {
    this.#live.remove(OWNER_KEY)
  }

  /** Writes the pending changes now. Sessions from `sessions.get(id)` keep their stored expiry. */
  save(): Promise<void> {
    return this.#live.save()
  }

  /** Deletes the session from the engine and expires the cookie; a later write starts a fresh session. */
  destroy(): Promise<void> {
    return this.#live.deleteAndStartOver()
  }

  /** Gives the session a new id and keeps its data, removing the old id from the engine (call it on login). */
  regenerate(): Promise<void> {
    return this.#live.regenerate()
  }

  /** kemal-session's `reset`: a new id with no data; the old session is deleted from the engine. */
  reset(): Promise<void> {
    return this.#live.deleteAndStartOver()
  }

  static {
    readState = (session) => session.#live
  }
}

/** The state behind a session, for tests that look past the typed accessors (not exported from the package). */
export function stateOf(session: Session): SessionState {
  return readState(session)
}

function readOrNull<T extends SessionValueType>(
  state: SessionState,
  type: T,
  key: string,
): SessionValueTypes[T] | null {
  checkKey(key, 'Session')
  const stored = state.read(storageKey(type, key))
  return stored === undefined ? null : (codecOf(type).decode(stored) ?? null)
}

/** `T(key)` and `T(key, value)`: reads when `value` is empty (throwing when the key is absent), writes otherwise. */
function readOrWrite<T extends SessionValueType>(
  state: SessionState,
  type: T,
  key: string,
  value: [] | [unknown],
): SessionValueTypes[T] | undefined {
  if (value.length === 0) {
    const found = readOrNull(state, type, key)
    if (found === null) throw new SessionKeyError(key, type)
    return found
  }
  writeValue(state, type, key, value[0])
  return undefined
}

function writeValue(state: SessionState, type: SessionValueType, key: string, value: unknown): void {
  checkKey(key, 'Session')
  const codec = codecOf(type)
  if (!codec.accepts(value)) {
    const hint = value === undefined || value === null ? `; to remove it use delete${capitalize(type)}(key)` : ''
    throw new TypeError(
      `session.${type}(${JSON.stringify(key)}, value) needs ${codec.expected}, got ${describeValue(value)}${hint}`,
    )
  }
  state.write(storageKey(type, key), codec.encode(value as never))
}

function remove(state: SessionState, type: SessionValueType, key: string): void {
  checkKey(key, 'Session')
  state.remove(storageKey(type, key))
}

function snapshot<T extends SessionValueType>(
  state: SessionState,
  type: T,
): Readonly<Record<string, SessionValueTypes[T]>> {
  const prefix = storageKey(type, '')
  const codec = codecOf(type)
  const entries: [string, SessionValueTypes[T]][] = []
  for (const [storedKey, stored] of state.data) {
    if (!storedKey.startsWith(prefix)) continue
    const value = codec.decode(stored)
    if (value !== undefined) entries.push([storedKey.slice(prefix.length), value])
  }
  // fromEntries defines own properties, so a key such as "__proto__" is kept as a key.
  return Object.freeze(Object.fromEntries(entries))
}

function capitalize(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1)
}
