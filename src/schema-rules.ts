import { SessionConfigError } from './errors.js'
import { DATA_KEY_PREFIX } from './internal-keys.js'
import { issuePath, type KeyValidator } from './key-validator.js'
import { type SessionLogger, warnThrough } from './options.js'
import type { SessionSchema } from './session-schema.js'
import { isStandardSchema, type StandardIssue } from './standard-schema.js'
import { standardValidator } from './standard-validator.js'
import { isTypeBoxSchema, typeBoxValidator } from './typebox-validator.js'
import { checkKey } from './value-types.js'

/** One key as `session.get`/`set` use it: where it is stored, and its validator (none without a schema). */
export interface KeyRule {
  readonly key: string
  readonly storageKey: string
  readonly validator: KeyValidator | undefined
  /** The key's place in the schema (a slot for per-request state), or -1 without a schema. */
  readonly index: number
}

/**
 * The `schema` of one `session(...)` plugin, compiled once: each key's validator, and which keys' stale data was
 * already reported. Without a schema, any key is allowed and nothing is validated beyond JSON-safety.
 */
export class SchemaRules {
  readonly #rules: ReadonlyMap<string, KeyRule> | undefined
  /** The schema's keys, or `undefined` without a schema. */
  readonly keys: readonly string[] | undefined
  readonly #logger: SessionLogger
  readonly #reported = new Set<string>()

  /** Compiles `schema`; throws a `SessionConfigError` naming the key whose schema cannot be used. */
  constructor(schema: SessionSchema | undefined, logger: SessionLogger) {
    this.#logger = logger
    this.#rules = schema === undefined ? undefined : compile(schema)
    this.keys = this.#rules && Object.freeze([...this.#rules.keys()])
  }

  /**
   * The rule of `key` for a call of `session.<method>(key…)`. A key outside the schema (or not a string) is a
   * TypeError, since types would have refused it; without a schema, every string key has a rule with no validator.
   */
  ruleFor(key: unknown, method: string): KeyRule {
    checkKey(key, 'Session')
    const rules = this.#rules
    if (rules === undefined) return { key, storageKey: DATA_KEY_PREFIX + key, validator: undefined, index: -1 }
    const rule = rules.get(key)
    if (rule !== undefined) return rule
    const known = (this.keys ?? []).map((each) => JSON.stringify(each)).join(', ')
    throw new TypeError(
      `session.${method}(${JSON.stringify(key)}): ${JSON.stringify(key)} is not in the session schema (its keys: ${known || 'none'})`,
    )
  }

  /** Reports, once per key, a stored value that no longer matches its schema; never the value itself. */
  reportStale(key: string, issues: readonly StandardIssue[]): void {
    if (this.#reported.has(key)) return
    this.#reported.add(key)
    const message = `elysia-sessions: a stored value of session key ${JSON.stringify(key)} does not match its schema (${where(issues)}): it reads as absent and is removed with the session's next write; reported once per key`
    try {
      warnThrough(this.#logger, message)
    } catch {
      // Stale data must never fail a request, not even through a logger that throws.
    }
  }
}

/** Where the first issue failed, as `at /path`, counting the others. */
export function where(issues: readonly StandardIssue[]): string {
  const [first] = issues
  if (first === undefined) return 'no issue given'
  const path = issuePath(first)
  const more = issues.length > 1 ? ` and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''}` : ''
  return `${path === '' ? 'at the top level' : `at ${path}`}${more}`
}

function compile(schema: unknown): ReadonlyMap<string, KeyRule> {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new SessionConfigError(
      'schema must be an object with one schema per key, e.g. schema: { userId: t.Number(), theme: t.String() }',
    )
  }
  const rules = new Map<string, KeyRule>()
  for (const [key, each] of Object.entries(schema)) {
    const storageKey = DATA_KEY_PREFIX + key
    const index = rules.size
    if (isTypeBoxSchema(each)) rules.set(key, { key, storageKey, validator: typeBoxValidator(key, each), index })
    else if (isStandardSchema(each)) {
      rules.set(key, { key, storageKey, validator: standardValidator(key, each), index })
    } else {
      throw new SessionConfigError(
        `schema.${key} must be a TypeBox schema (Elysia's t) or a Standard Schema v1 validator (Zod, Valibot, ArkType, …)`,
      )
    }
  }
  return rules
}
