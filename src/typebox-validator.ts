import { Kind, TransformKind, type TSchema, TypeRegistry } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { SessionConfigError } from './errors.js'
import { deepFreeze } from './frozen.js'
import { jsonSafeCopy } from './json-safe.js'
import type { KeyValidator } from './key-validator.js'
import type { StandardIssue } from './standard-schema.js'

/** Kinds whose values JSON cannot hold, so a session could never store them. */
const NON_JSON_KINDS = new Set([
  'Date',
  'Uint8Array',
  'BigInt',
  'Function',
  'Constructor',
  'Symbol',
  'Promise',
  'Iterator',
  'AsyncIterator',
  'File',
  'Files',
])

/** Enough issues to tell what is wrong; a stale value with thousands of them costs no more to report than one. */
const MAX_ISSUES = 10

/**
 * The kind of the stand-in for an Elysia parsing transform: a value passes when it is of the type the transform
 * converts to and the transform's own decoding leaves it as it is (so `t.NumericEnum` still checks its enum).
 */
const DECODED_KIND = 'ElysiaSessions:Decoded'

interface DecodedStandIn {
  readonly target: { Check(value: unknown): boolean }
  readonly decode: (value: unknown) => unknown
}

function checkDecoded(standIn: DecodedStandIn, value: unknown): boolean {
  if (!standIn.target.Check(value)) return false
  try {
    const decoded = standIn.decode(value)
    return decoded === value || Value.Equal(decoded, value)
  } catch {
    return false
  }
}

/** Whether `value` is a TypeBox schema (Elysia's `t` included). */
export function isTypeBoxSchema(value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value
}

/**
 * Compiles the TypeBox schema of `key` with TypeBox's compiler. Elysia's request-parsing types (`t.Integer`,
 * `t.Numeric`, `t.BooleanString`, `t.ObjectString`, `t.ArrayString`) accept a string and convert it; a session stores
 * typed JSON, so each is checked as the one type it converts to (an integer, never `"5"`), and a value passes only
 * when the type's own decoding leaves it as it is (so `t.NumericEnum` still checks its enum). Any other transform
 * (`t.Date`, a custom one) and any kind JSON cannot hold is a `SessionConfigError`, and so is a default that does not
 * match its schema.
 */
export function typeBoxValidator(key: string, schema: TSchema): KeyValidator {
  if (!TypeRegistry.Has(DECODED_KIND)) TypeRegistry.Set(DECODED_KIND, checkDecoded)
  const stored = storedForm(schema, key) as TSchema
  const compiled = compile(stored, key)
  const fallback = Object.hasOwn(stored, 'default') ? checkedDefault(key, stored, compiled) : undefined
  return {
    check(value) {
      if (compiled.Check(value)) return { ok: true, value }
      const issues: StandardIssue[] = []
      for (const error of compiled.Errors(value)) {
        issues.push(asIssue(error))
        if (issues.length === MAX_ISSUES) break
      }
      return { ok: false, issues }
    },
    absent: () => fallback,
  }
}

function compile(schema: TSchema, key: string): ReturnType<typeof TypeCompiler.Compile<TSchema>> {
  try {
    return TypeCompiler.Compile(schema)
  } catch (error) {
    throw new SessionConfigError(
      `schema.${key} cannot be compiled by TypeBox: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

function checkedDefault(key: string, schema: TSchema, compiled: { Check(value: unknown): boolean }): unknown {
  let copy: unknown
  try {
    copy = jsonSafeCopy(schema['default'], `schema.${key} default`, key)
  } catch (error) {
    throw new SessionConfigError((error as Error).message)
  }
  if (!compiled.Check(copy)) throw new SessionConfigError(`schema.${key} has a default that does not match its schema`)
  return deepFreeze(copy)
}

/** `node` with every request-parsing transform replaced by the type it converts to; refuses what cannot be stored. */
function storedForm(node: unknown, key: string): unknown {
  if (Array.isArray(node)) {
    const items = node.map((item) => storedForm(item, key))
    return items.some((item, index) => item !== node[index]) ? items : node
  }
  if (typeof node !== 'object' || node === null) return node
  if (TransformKind in node) return decodedStandIn(node, key)
  const kind = (node as { [Kind]?: unknown })[Kind]
  if (kind === 'Undefined' || kind === 'Void') {
    throw new SessionConfigError(
      `schema.${key} allows undefined, which a session cannot store: leave the key absent (session.delete(key)) instead`,
    )
  }
  if (typeof kind === 'string' && NON_JSON_KINDS.has(kind)) {
    throw new SessionConfigError(
      `schema.${key} holds ${kind} values, which JSON cannot store: store a JSON form instead (an ISO date string with t.String({ format: 'date-time' }), say)`,
    )
  }
  let copy: Record<string | symbol, unknown> | undefined
  for (const [name, child] of Object.entries(node)) {
    const replaced = storedForm(child, key)
    if (replaced === child) continue
    // Spreading keeps TypeBox's symbol-keyed markers (Kind, OptionalKind).
    copy ??= { ...node }
    copy[name] = replaced
  }
  return copy ?? node
}

/** The stand-in for a parsing transform: its target type, compiled, and its decoding; it keeps the target's default. */
function decodedStandIn(transform: object, key: string): object {
  const target = storedForm(parsedType(transform, key), key) as TSchema
  const { Decode } = (transform as { [TransformKind]: { Decode: (value: unknown) => unknown } })[TransformKind]
  const standIn: DecodedStandIn = { target: compile(target, key), decode: Decode }
  return Object.hasOwn(target, 'default')
    ? { [Kind]: DECODED_KIND, ...standIn, default: target['default'] }
    : { [Kind]: DECODED_KIND, ...standIn }
}

/** The one member of an Elysia parsing union that is not a formatted string, else a `SessionConfigError`. */
function parsedType(transform: object, key: string): unknown {
  const members = (transform as { anyOf?: unknown }).anyOf
  const typed = Array.isArray(members) ? members.filter((member) => !isFormattedString(member)) : []
  const [only] = typed
  if (typed.length === 1 && typeof only === 'object' && only !== null && !(TransformKind in only)) {
    // A default given to the whole type (withDefault's copy, say) sits on the union, not on its members.
    return Object.hasOwn(transform, 'default')
      ? { ...only, default: (transform as { default: unknown }).default }
      : only
  }
  throw new SessionConfigError(
    `schema.${key} uses a transform type (t.Date, t.ArrayQuery, a custom Transform) that converts request values into others; session values are stored as they are typed, so use the plain type (t.String({ format: 'date-time' }) for a date, t.Array for a list)`,
  )
}

function isFormattedString(member: unknown): boolean {
  const { type, format } = (member ?? {}) as { type?: unknown; format?: unknown }
  return type === 'string' && typeof format === 'string'
}

function asIssue(error: { message: string; path: string; schema: TSchema }): StandardIssue {
  const path = error.path === '' ? [] : error.path.slice(1).split('/').map(unescapePointer)
  const message =
    error.schema[Kind] === DECODED_KIND
      ? 'Expected a value of the type this Elysia type converts to, never a request string'
      : error.message
  return { message, path }
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~')
}
