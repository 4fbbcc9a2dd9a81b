import type { SessionValue } from './engine.js'
import { SessionValueError } from './errors.js'
import { deepFreeze } from './frozen.js'
import { DATA_KEY_PREFIX } from './internal-keys.js'
import { jsonSafeCopy } from './json-safe.js'
import type { KeyValidator } from './key-validator.js'
import { type SchemaRules, where } from './schema-rules.js'
import type { SessionState } from './session-state.js'

/** A key's value as this request has checked it, valid for as long as the stored value is the same one. */
interface CheckedValue {
  readonly stored: SessionValue | undefined
  /** What `get` returns: the validated value, else the key's default (or `undefined`). */
  readonly value: unknown
  /** Whether a value is stored and matches the schema. */
  readonly held: boolean
}

/**
 * The schema-typed values of one session in one request, behind `session.get`, `set`, `delete`, `has` and `data`.
 * Each stored value is validated the first time it is read and remembered while it stays the stored one, so a value
 * `set` validated is never checked again in the request.
 */
export class SchemaValues {
  readonly #checked = new Map<string, CheckedValue>()

  constructor(
    readonly state: SessionState,
    readonly rules: SchemaRules,
  ) {}

  get(key: string): unknown {
    return this.#checkedValue(key, this.rules.validatorFor(key, 'get')).value
  }

  has(key: string): boolean {
    return this.#checkedValue(key, this.rules.validatorFor(key, 'has')).held
  }

  set(key: string, value: unknown): void {
    const validator = this.rules.validatorFor(key, 'set')
    const copy = jsonSafeCopy(value, 'session.set', key)
    let checked: unknown = copy
    if (validator !== undefined) {
      const result = validator.check(copy)
      if (!result.ok) {
        throw new SessionValueError(
          `session.set(${JSON.stringify(key)}, value): the value does not match the schema of ${JSON.stringify(key)} (${where(result.issues)})`,
          key,
          result.issues,
        )
      }
      checked = result.value
    }
    this.state.write(DATA_KEY_PREFIX + key, copy)
    this.#checked.set(key, { stored: copy, value: deepFreeze(checked), held: true })
  }

  delete(key: string): void {
    this.rules.validatorFor(key, 'delete')
    this.state.remove(DATA_KEY_PREFIX + key)
  }

  /** Every key that holds a valid value or has a default, frozen. */
  data(): Readonly<Record<string, unknown>> {
    const entries: [string, unknown][] = []
    const keys = this.rules.keys ?? this.state.keysWithPrefix(DATA_KEY_PREFIX).map(withoutPrefix)
    for (const key of keys) {
      const { value } = this.#checkedValue(key, this.rules.validatorFor(key, 'data'))
      if (value !== undefined) entries.push([key, value])
    }
    // fromEntries defines own properties, so a key such as "__proto__" is kept as a key.
    return Object.freeze(Object.fromEntries(entries))
  }

  /** The storage keys of values that no longer match the schema, for the next write to remove. */
  staleStorageKeys(): string[] {
    const stale: string[] = []
    for (const key of this.rules.keys ?? []) {
      // Only a stored value can be stale: an absent key's default is none of the save's business.
      if (this.state.read(DATA_KEY_PREFIX + key) === undefined) continue
      if (!this.#checkedValue(key, this.rules.validatorFor(key, 'data')).held) stale.push(DATA_KEY_PREFIX + key)
    }
    return stale
  }

  #checkedValue(key: string, validator: KeyValidator | undefined): CheckedValue {
    const stored = this.state.read(DATA_KEY_PREFIX + key)
    const known = this.#checked.get(key)
    if (known !== undefined && known.stored === stored) return known
    const checked = validator === undefined ? untyped(stored) : this.#check(key, stored, validator)
    this.#checked.set(key, checked)
    return checked
  }

  #check(key: string, stored: SessionValue | undefined, validator: KeyValidator): CheckedValue {
    if (stored === undefined) return { stored, value: deepFreeze(validator.absent()), held: false }
    const result = validator.check(stored)
    if (result.ok) return { stored, value: deepFreeze(result.value), held: true }
    this.rules.reportStale(key, result.issues)
    return { stored, value: deepFreeze(validator.absent()), held: false }
  }
}

function untyped(stored: SessionValue | undefined): CheckedValue {
  return { stored, value: deepFreeze(stored), held: stored !== undefined }
}

function withoutPrefix(storageKey: string): string {
  return storageKey.slice(DATA_KEY_PREFIX.length)
}
