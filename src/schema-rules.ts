import { SessionConfigError } from './errors.js'
import { issuePath, type KeyValidator } from './key-validator.js'
import { type SessionLogger, warnThrough } from './options.js'
import type { SessionSchema } from './session-schema.js'
import { isStandardSchema, type StandardIssue } from './standard-schema.js'
import { standardValidator } from './standard-validator.js'
import { isTypeBoxSchema, typeBoxValidator } from './typebox-validator.js'
import { checkKey } from './value-types.js'

/**
 * The `schema` of one `session(...)` plugin, compiled once: each key's validator, and which keys' stale data was
 * already reported. Without a schema, any key is allowed and nothing is validated beyond JSON-safety.
 */
export class SchemaRules {
  readonly #validators: ReadonlyMap<string, KeyValidator> | undefined
  /** The schema's keys, or `undefined` without a schema. */
  readonly keys: readonly string[] | undefined
  readonly #logger: SessionLogger
  readonly #reported = new Set<string>()

  /** Compiles `schema`; throws a `SessionConfigError` naming the key whose schema cannot be used. */
  constructor(schema: SessionSchema | undefined, logger: SessionLogger) {
    this.#logger = logger
    this.#validators = schema === undefined ? undefined : compile(schema)
    this.keys = this.#validators && Object.freeze([...this.#validators.keys()])
  }

  /**
   * The validator of `key` for a call of `session.<method>(key…)`, or `undefined` without a schema. A key outside the
   * schema (or not a string) is a TypeError, since types would have refused it.
   */
  validatorFor(key: unknown, method: string): KeyValidator | undefined {
    checkKey(key, 'Session')
    const validators = this.#validators
    if (validators === undefined) return undefined
    const validator = validators.get(key)
    if (validator !== undefined) return validator
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

function compile(schema: unknown): ReadonlyMap<string, KeyValidator> {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new SessionConfigError(
      'schema must be an object with one schema per key, e.g. schema: { userId: t.Number(), theme: t.String() }',
    )
  }
  const validators = new Map<string, KeyValidator>()
  for (const [key, each] of Object.entries(schema)) {
    if (isTypeBoxSchema(each)) validators.set(key, typeBoxValidator(key, each))
    else if (isStandardSchema(each)) validators.set(key, standardValidator(key, each))
    else {
      throw new SessionConfigError(
        `schema.${key} must be a TypeBox schema (Elysia's t) or a Standard Schema v1 validator (Zod, Valibot, ArkType, …)`,
      )
    }
  }
  return validators
}
