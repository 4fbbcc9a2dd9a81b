/**
 * The part of the Standard Schema v1 interface (standardschema.dev) that session schemas use, declared here so the
 * package depends on no validation library: Zod, Valibot, ArkType and others implement it.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>
}

/** The `~standard` property of a Standard Schema. */
export interface StandardSchemaProps<Input, Output> {
  readonly version: 1
  readonly vendor: string
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
  /** Carries the input and output types; never set at run time. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined
}

/** What `validate` returns: the (possibly transformed) value, or the issues that failed it. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] }

/** One problem a Standard Schema found, and where. */
export interface StandardIssue {
  readonly message: string
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined
}

/** The type a Standard Schema accepts. */
export type StandardInput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['input']

/** The type a Standard Schema returns. */
export type StandardOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output']

/** Whether `value` implements Standard Schema v1. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const props = (value as { '~standard'?: { version?: unknown; validate?: unknown } })['~standard']
  return typeof props === 'object' && props !== null && props.version === 1 && typeof props.validate === 'function'
}
