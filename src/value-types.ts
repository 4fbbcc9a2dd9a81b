import type { SessionValue } from './engine.js'
import { decodeStorable, encodeStorable } from './storable.js'

/** The JavaScript type of each typed namespace of a session. */
export interface SessionValueTypes {
  int: number
  bigint: bigint
  string: string
  float: number
  bool: boolean
  object: object
}

/** The name of one typed namespace: `'int'`, `'bigint'`, `'string'`, `'float'`, `'bool'` or `'object'`. */
export type SessionValueType = keyof SessionValueTypes

/** How one namespace checks, encodes and decodes its values. */
interface ValueCodec<T> {
  /** What a valid value is, for error messages. */
  readonly expected: string
  readonly accepts: (value: unknown) => value is T
  readonly encode: (value: T) => SessionValue
  /** The decoded value, or `undefined` when what is stored is not a value of this type. */
  readonly decode: (stored: SessionValue) => T | undefined
}

const isSafeInteger = (value: unknown): value is number => Number.isSafeInteger(value)
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const BIGINT_PATTERN = /^-?\d+$/

const codecs: { readonly [T in SessionValueType]: ValueCodec<SessionValueTypes[T]> } = {
  int: {
    expected: 'a safe integer',
    accepts: isSafeInteger,
    encode: (value) => value,
    decode: (stored) => (isSafeInteger(stored) ? stored : undefined),
  },
  bigint: {
    expected: 'a bigint',
    accepts: (value): value is bigint => typeof value === 'bigint',
    // Decimal text keeps every digit; JSON numbers would round past 2^53.
    encode: (value) => value.toString(),
    decode: (stored) => (typeof stored === 'string' && BIGINT_PATTERN.test(stored) ? BigInt(stored) : undefined),
  },
  string: {
    expected: 'a string',
    accepts: (value): value is string => typeof value === 'string',
    encode: (value) => value,
    decode: (stored) => (typeof stored === 'string' ? stored : undefined),
  },
  float: {
    expected: 'a finite number',
    accepts: isFiniteNumber,
    encode: (value) => value,
    decode: (stored) => (isFiniteNumber(stored) ? stored : undefined),
  },
  bool: {
    expected: 'a boolean',
    accepts: (value): value is boolean => typeof value === 'boolean',
    encode: (value) => value,
    decode: (stored) => (typeof stored === 'boolean' ? stored : undefined),
  },
  object: {
    expected: 'an instance of a class registered with storable()',
    accepts: (value): value is object => typeof value === 'object' && value !== null,
    encode: encodeStorable,
    decode: decodeStorable,
  },
}

/** The codec of one namespace. */
export function codecOf<T extends SessionValueType>(type: T): ValueCodec<SessionValueTypes[T]> {
  return codecs[type] as ValueCodec<SessionValueTypes[T]>
}

/** The engine key of `key` in namespace `type`: each type is its own namespace, so `int:x` and `string:x` coexist. */
export function storageKey(type: SessionValueType, key: string): string {
  return `${type}:${key}`
}

/** Describes a rejected value for a TypeError message. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`
  if (typeof value === 'object')
    return `an object (${(value.constructor as { name?: string } | undefined)?.name ?? 'Object'})`
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `${typeof value} ${String(value)}`
}
