import type { SessionValue } from './engine.js'
import type { StandardIssue } from './standard-schema.js'

/** What checking one value against its key's schema found: the value `get` returns, or the issues. */
export type CheckResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: readonly StandardIssue[] }

/** One key's schema, compiled when `session(...)` is called. */
export interface KeyValidator {
  /** Checks a JSON-safe value; a Standard Schema's output may differ from it (a transform). */
  check(value: SessionValue): CheckResult
  /** What the key reads as while absent: its default, or `undefined`. */
  absent(): unknown
}

/** An issue's path as a JSON pointer (`/cart/0/qty`); the empty string is the value itself. */
export function issuePath(issue: StandardIssue): string {
  let pointer = ''
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment
    pointer += `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`
  }
  return pointer
}
