export { csrf } from './csrf.js'
export type { CsrfErrorContext, CsrfErrorHandler, CsrfOptions, CsrfRefusal } from './csrf-options.js'
export type {
  EngineCapabilities,
  IterateOptions,
  SessionChanges,
  SessionData,
  SessionEngine,
  SessionEntry,
  SessionValue,
  StoredSession,
  SynchronousCalls,
} from './engine.js'
export { EngineTimeoutError } from './engines/deadlines.js'
export { type MemoryEngineOptions, memoryEngine } from './engines/memory.js'
export {
  SessionConfigError,
  SessionEngineError,
  SessionKeyError,
  SessionSizeError,
  SessionValueError,
} from './errors.js'
export { Flash, type FlashValue } from './flash.js'
export type { EngineErrorMode, SameSite, SessionLogger, SessionOptions } from './options.js'
export { session } from './plugin.js'
export { Session, type TypedAccessors } from './session.js'
export {
  type FieldOf,
  type FieldsOf,
  type Frozen,
  type SessionDataOf,
  type SessionField,
  type SessionFields,
  type SessionSchema,
  type UntypedFields,
  withDefault,
} from './session-schema.js'
export { type DestroyByOwnerOptions, Sessions } from './sessions.js'
export type { StandardIssue, StandardSchemaV1 } from './standard-schema.js'
export { type StorableClass, storable } from './storable.js'
export type { SessionValueType, SessionValueTypes } from './value-types.js'
