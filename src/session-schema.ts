import { CloneType, type Static, type TSchema } from '@sinclair/typebox'
import type { StandardInput, StandardOutput, StandardSchemaV1 } from './standard-schema.js'

/**
 * The `schema` option of `session(...)`: one schema per key, each a TypeBox schema (Elysia's `t`) or a Standard Schema
 * v1 validator (Zod, Valibot, ArkType, …) whose `validate` is synchronous.
 */
export type SessionSchema = { readonly [key: string]: TSchema | StandardSchemaV1 }

/** What one key of a session takes and gives: `set`'s value type and `get`'s result (with `undefined` when absent). */
export interface SessionField {
  readonly input: unknown
  readonly output: unknown
}

/** The fields of a session, by key. */
export type SessionFields = { readonly [key: string]: SessionField }

/** The fields of a session without a schema: any key, any JSON-safe value, read as `unknown`. */
export type UntypedFields = { readonly [key: string]: { readonly input: unknown; readonly output: unknown } }

/** A TypeBox schema whose type carries its default, as `withDefault` makes it: reads never give `undefined`. */
type TypeBoxWithDefault = TSchema & { readonly default: unknown }

/**
 * The field of one schema. A TypeBox schema reads as `Static<T>`, or `undefined` while absent unless its type carries a
 * default (`withDefault`). A Standard Schema takes its input and reads as its output; one that accepts `undefined`
 * (a default, say) reads as its output for an absent key, so `undefined` is possible only when its output allows it.
 */
export type FieldOf<S> = S extends TSchema
  ? { readonly input: Static<S>; readonly output: S extends TypeBoxWithDefault ? Static<S> : Static<S> | undefined }
  : S extends StandardSchemaV1
    ? {
        readonly input: Exclude<StandardInput<S>, undefined>
        readonly output: HasDefault<StandardInput<S>> extends true ? StandardOutput<S> : StandardOutput<S> | undefined
      }
    : never

/**
 * Whether a Standard Schema's input type says it fills in `undefined`: it accepts `undefined` but is not a schema that
 * takes anything (`unknown` input, as coercions and preprocessors have), which may well refuse it.
 */
type HasDefault<Input> = unknown extends Input ? false : undefined extends Input ? true : false

/** The fields a `schema` option gives a session; without a schema, `UntypedFields`. */
export type FieldsOf<S> = [S] extends [SessionSchema]
  ? { readonly [K in keyof S & string]: FieldOf<S[K]> }
  : UntypedFields

/** A value as the session hands it out: frozen, plain objects and arrays included. */
export type Frozen<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T

/** The keys a session reads as defined even while absent: those with a default. */
type DefaultedKeys<F extends SessionFields> = {
  [K in keyof F & string]: undefined extends F[K]['output'] ? never : K
}[keyof F & string]

/** `session.data`: every key that holds a valid value or has a default. */
export type SessionDataOf<F extends SessionFields> = Readonly<
  Flatten<
    { [K in DefaultedKeys<F>]: Frozen<F[K]['output']> } & {
      [K in Exclude<keyof F & string, DefaultedKeys<F>>]?: Frozen<Exclude<F[K]['output'], undefined>>
    }
  >
>

/** One object type in place of an intersection, so editors show `data` as one shape. */
type Flatten<T> = { [K in keyof T]: T[K] }

/**
 * A copy of a TypeBox schema with `value` as its `default`, typed so that the session reads the key as that value
 * while it is absent (TypeBox's own `default` option works at run time, but its type does not record it).
 *
 * @example
 * session({ secret, schema: { visits: withDefault(t.Integer(), 0) } })
 * // in a handler: session.set('visits', session.get('visits') + 1)
 */
export function withDefault<T extends TSchema>(schema: T, value: Static<T>): T & { readonly default: Static<T> } {
  // Spread after the schema, so a default the schema already has gives way.
  return CloneType({ ...schema, default: value }) as T & { readonly default: Static<T> }
}
