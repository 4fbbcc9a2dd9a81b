import { t } from 'elysia'
import { withDefault } from '../src/session-schema.js'

/** The three-key schema of the benchmarks' schema rows: the counter they keep, and two keys a shop would have. */
export const benchSchema = {
  counter: withDefault(t.Integer({ minimum: 0 }), 0),
  theme: t.Union([t.Literal('light'), t.Literal('dark')]),
  cart: t.Array(t.Object({ sku: t.String(), qty: t.Integer({ minimum: 1 }) })),
}
