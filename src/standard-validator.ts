import type { SessionValue } from './engine.js'
import type { CheckResult, KeyValidator } from './key-validator.js'
import type { StandardResult, StandardSchemaV1 } from './standard-schema.js'

/**
 * Wraps the Standard Schema of `key`. Its `validate` must be synchronous: a Promise result is a TypeError naming the
 * key, at every use (a read included), since it is a configuration mistake rather than bad data. A validator that
 * throws fails the value, so data an older app version wrote can never make a read throw.
 */
export function standardValidator(key: string, schema: StandardSchemaV1): KeyValidator {
  const props = schema['~standard']
  function run(value: SessionValue | undefined): CheckResult {
    let result: StandardResult<unknown> | Promise<StandardResult<unknown>>
    try {
      result = props.validate(value)
    } catch (error) {
      return { ok: false, issues: [{ message: error instanceof Error ? error.message : String(error) }] }
    }
    if (result instanceof Promise) {
      result.catch(() => undefined)
      throw new TypeError(
        `schema.${key} validates asynchronously (its validate returned a Promise); session schemas must validate synchronously: drop async refinements or transforms from it`,
      )
    }
    return result.issues ? { ok: false, issues: result.issues } : { ok: true, value: result.value }
  }
  return {
    check: run,
    absent() {
      const result = run(undefined)
      return result.ok ? result.value : undefined
    },
  }
}
