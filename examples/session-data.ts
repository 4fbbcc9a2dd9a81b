import { type Static, t } from 'elysia'
import { withDefault } from 'elysia-sessions'

/** The logged-in user as the session keeps it: plain JSON, checked by its schema when it is set and when it is read. */
export const userSchema = t.Object({
  name: t.String({ minLength: 1, maxLength: 64 }),
  loggedInAt: t.String(),
})

/** The logged-in user. */
export type User = Static<typeof userSchema>

/**
 * What the demo keeps in a session, one schema per key. Every handler reads `session.get('user')` as
 * `User | undefined` and `session.get('visits')` as a number (0 until the first visit is counted).
 */
export const demoSchema = {
  user: userSchema,
  visits: withDefault(t.Integer({ minimum: 0 }), 0),
}
