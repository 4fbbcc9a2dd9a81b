import type { SessionValue } from './engine.js'
import { flashKeyOf, newFlashStorageKey } from './flash-storage-key.js'
import { FLASH_KEY_PREFIX } from './internal-keys.js'
import { jsonSafeCopy } from './json-safe.js'
import type { SessionState } from './session-state.js'
import { checkKey } from './value-types.js'

/**
 * `T`, or `never` when `T` can never be JSON (undefined, a function, a symbol, a bigint), so that such a call fails to
 * compile; what types cannot tell (a Date, NaN, a cycle) is refused at run time.
 */
export type FlashValue<T> = T extends undefined | symbol | bigint | ((...args: never[]) => unknown) ? never : T

let settle: (flash: Flash) => void

/**
 * Flash messages: `set` one now, and the next request that loads the session sees it and is the last to see it
 * (read or not). `now` shows a message in this request only; `keep` carries incoming messages one request further.
 * Values are JSON-safe and stored in the session apart from its typed values.
 *
 * @example
 * app
 *   .post('/posts', ({ flash }) => {
 *     flash.set('notice', 'Post saved.')
 *     return redirect('/', 303)
 *   })
 *   .get('/', ({ flash }) => flash.get<string>('notice') ?? 'No news.')
 */
export class Flash {
  readonly #state: SessionState
  /** The incoming messages not yet consumed (the newest under each key), read from the session on first use. */
  #incoming: Map<string, SessionValue> | undefined
  /** The session's `startedOver` when `#incoming` was read: a destroy since then dropped those messages. */
  #incomingRead = 0
  #now: Map<string, SessionValue> | undefined
  /** The storage key of each message set in this request, by key: a second `set` of the key writes it again. */
  #set: Map<string, string> | undefined
  #kept: Set<string> | undefined
  #keepAll = false

  /** Made by the plugin, one per request, over that request's session. */
  constructor(state: SessionState) {
    this.#state = state
  }

  /** The message under `key` (a `now` one first, else the incoming one), or `undefined`; a second `get` gives `undefined`. */
  get<T = unknown>(key: string): T | undefined {
    const value = this.peek<T>(key)
    if (value !== undefined) {
      this.#incoming?.delete(key)
      this.#now?.delete(key)
    }
    return value
  }

  /** The message under `key`, or `undefined`, without consuming it. */
  peek<T = unknown>(key: string): T | undefined {
    checkKey(key, 'Flash')
    if (this.#disabled) return undefined
    const now = this.#now?.get(key)
    return (now !== undefined ? now : this.#incomingMessages().get(key)) as T | undefined
  }

  /** Every message of this request (`now` ones over incoming ones) as a plain object, and consumes them all. */
  all<T = unknown>(): Record<string, T> {
    if (this.#disabled) return {}
    const incoming = this.#incomingMessages()
    const entries = [...incoming, ...(this.#now ?? [])]
    incoming.clear()
    this.#now?.clear()
    // fromEntries defines own properties, so a key such as "__proto__" stays a key.
    return Object.fromEntries(entries) as Record<string, T>
  }

  /**
   * Stores a message for the next request that loads the session; this request does not see it. Creates the
   * session when there is none. Throws a TypeError when `value` is not JSON-safe.
   */
  set<T>(key: string, value: FlashValue<T>): void {
    this.#refuseWhenDisabled('set')
    checkKey(key, 'Flash')
    const copy = jsonSafeCopy(value, 'flash.set', key)
    // Read before writing, so that the incoming messages never include this request's own.
    this.#incomingMessages()
    this.#set ??= new Map()
    const storageKey = this.#set.get(key) ?? newFlashStorageKey(key)
    // Recorded once written: a write refused for its size leaves an incoming message under the key as it was.
    this.#state.write(storageKey, copy)
    this.#set.set(key, storageKey)
  }

  /** Shows a message in this request only, over an incoming one under the same key; it is never stored. */
  now<T>(key: string, value: FlashValue<T>): void {
    this.#refuseWhenDisabled('now')
    checkKey(key, 'Flash')
    const copy = jsonSafeCopy(value, 'flash.now', key)
    this.#now ??= new Map()
    this.#now.set(key, copy)
  }

  /** Keeps the incoming message under `key` (every incoming message without a key), read or not, for one more request. */
  keep(key?: string): void {
    if (key !== undefined) checkKey(key, 'Flash')
    // The disabled flash is shared by every request on routes without a session: it keeps nothing.
    if (this.#disabled) return
    if (key === undefined) this.#keepAll = true
    else {
      this.#kept ??= new Set()
      this.#kept.add(key)
    }
  }

  get #disabled(): boolean {
    return this.#state.mode === 'disabled'
  }

  #refuseWhenDisabled(method: string): void {
    if (this.#disabled) {
      throw new Error(
        `flash.${method}() needs the session, which is turned off on this route by { session: false }; remove that option to use it`,
      )
    }
  }

  #incomingMessages(): Map<string, SessionValue> {
    const state = this.#state
    if (this.#incoming !== undefined && this.#incomingRead === state.startedOver) return this.#incoming
    // Every flash key this request did not set is incoming: it is read before the first `set`. Sorted, the keys are
    // in stamp order, so the newest message under a key is the one the map ends with.
    const incoming = new Map<string, SessionValue>()
    for (const storageKey of state.keysWithPrefix(FLASH_KEY_PREFIX).toSorted()) {
      incoming.set(flashKeyOf(storageKey), state.read(storageKey) as SessionValue)
    }
    this.#incoming = incoming
    this.#incomingRead = state.startedOver
    return incoming
  }

  /**
   * Removes the incoming messages, unless kept and not replaced by a `set` of their key. The session holds only what
   * this request loaded or set, so a message another request sets meanwhile, under its own storage key, survives.
   */
  #settle(): void {
    const state = this.#state
    for (const storageKey of state.keysWithPrefix(FLASH_KEY_PREFIX)) {
      const key = flashKeyOf(storageKey)
      const setHere = this.#set?.get(key)
      if (storageKey === setHere) continue
      if (setHere === undefined && (this.#keepAll || this.#kept?.has(key))) continue
      state.remove(storageKey)
    }
  }

  static {
    settle = (flash) => flash.#settle()
  }
}

/**
 * Ends the request's part in the flash, before its session is saved: incoming messages are removed unless kept, and
 * those set in this request stay for the next one. Runs whether or not the handler used the flash.
 */
export function settleFlash(flash: Flash): void {
  settle(flash)
}
