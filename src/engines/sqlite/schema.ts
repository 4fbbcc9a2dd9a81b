import { isNotNull } from 'drizzle-orm'
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { SessionData } from '../../engine.js'

/**
 * The Drizzle definition of a sessions table named `name`, for apps that keep the table in their own schema and
 * migrations (then pass `migrate: false` to `sqliteEngine`).
 *
 * @example
 * // db/schema.ts of your app
 * export const userSessions = sessionsTable('user_sessions')
 */
export function sessionsTable<TName extends string>(name: TName) {
  return sqliteTable(
    name,
    {
      /** The session id; SQLite compares text byte-wise, so ids differing only in case stay apart. */
      id: text('id').primaryKey(),
      /** The session's keys and values as JSON text. */
      data: text('data', { mode: 'json' }).$type<SessionData>().notNull(),
      /** When the session expires, in epoch milliseconds. */
      expiresAt: integer('expires_at').notNull(),
      /** The session's owner id, or null for a session without one; the same value as the owner in `data`. */
      owner: text('owner'),
    },
    (table) => [
      index(`${name}_expires_at_idx`).on(table.expiresAt),
      // Partial: sessions without an owner (most of them) cost the index nothing when they are written.
      index(`${name}_owner_idx`).on(table.owner).where(isNotNull(table.owner)),
    ],
  )
}

/** The table `sqliteEngine` uses by default and the bundled migrations create. */
export const sessions = sessionsTable('sessions')

/** A sessions table made by `sessionsTable`. */
export type SessionsTable = ReturnType<typeof sessionsTable>
