import { SchemaRules } from '../../src/schema-rules.js'

/** The rules of a plugin without a schema, for tests that build sessions by hand. */
export const NO_SCHEMA = new SchemaRules(undefined, console)
