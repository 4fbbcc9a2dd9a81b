import type { SessionValue } from './engine.js'
import { SessionValueError } from './errors.js'
import { deepFreeze } from './frozen.js'
import { DATA_KEY_PREFIX } from './internal-keys.js'
import { jsonSafeCopy } from './json-safe.js'
import type { KeyValidator } from './key-validator.js'
import { type KeyRule, type SchemaRules, where } from './schema-rules.js'
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
  /** By schema index; without a schema, by key. */
  readonly #checked: (CheckedValue | undefined)[] | Map<string, CheckedValue>

  constructor(
    readonly state: SessionState,
    readonly rules: SchemaRules,
  ) {
    // An array slot per schema key costs less than a Map on the hot path.
    this.#checked = rules.keys === undefined ? new Map() : new Array(rules.keys.length)
  }

  get(key: string): unknown {
    return this.#checkedValue(this.rules.ruleFor(key, 'get')).value
  }

  has(key: string): boolean {
    return this.#checkedValue(this.rules.ruleFor(key, 'has')).held
  }

  set(key: string, value: unknown): void {
    const rule = this.rules.ruleFor(key, 'set')
    const { storageKey, validator } = rule
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
    this.state.write(storageKey, copy)
    this.#remember(rule, { stored: copy, value: deepFreeze(checked), held: true })
  }

  delete(key: string): void {
    this.state.remove(this.rules.ruleFor(key, 'delete').storageKey)
  }

  /** Every key that holds a valid value or has a default, frozen. */
  data(): Readonly<Record<string, unknown>> {
    const entries: [string, unknown][] = []
    const keys = this.rules.keys ?? this.state.keysWithPrefix(DATA_KEY_PREFIX).map(withoutPrefix)
    for (const key of keys) {
      const { value } = this.#checkedValue(this.rules.ruleFor(key, 'data'))
      if (value !== undefined) entries.push([key, value])
    }
    // fromEntries defines own properties, so a key such as "__proto__" is kept as a key.
    return Object.freeze(Object.fromEntries(entries))
  }

  /** The storage keys of values that no longer match the schema, for the next write to remove. */
  staleStorageKeys(): string[] {
    const stale: string[] = []
    for (const key of this.rules.keys ?? []) {
      const rule = this.rules.ruleFor(key, 'data')
      // Only a stored value can be stale: an absent key's default is none of the save's business.
      if (this.state.read(rule.storageKey) === undefined) continue
      if (!this.#checkedValue(rule).held) stale.push(rule.storageKey)
    }
    return stale
  }

  #checkedValue(rule: KeyRule): CheckedValue {
    const stored = this.state.read(rule.storageKey)
    const checks = this.#checked
    const known = Array.isArray(checks) ? checks[rule.index] : checks.get(rule.key)
    if (known !== undefined && known.stored === stored) return known
    const { key, validator } = rule
    const checked = validator === undefined ? untyped(stored) : this.#check(key, stored, validator)
    this.#remember(rule, checked)
    return checked
  }

  #remember(rule: KeyRule, checked: CheckedValue): void {
    const checks = this.#checked
    if (Array.isArray(checks)) checks[rule.index] = checked
    else checks.set(rule.key, checked)
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
