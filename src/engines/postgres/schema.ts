import { bigint, customType, index, pgTable, text } from 'drizzle-orm/pg-core'
import type { SessionData } from '../../engine.js'

/**
 * Session data as JSON text. Not `jsonb`: PostgreSQL's jsonb rejects `\u0000` and lone surrogates, which session
 * strings may hold, while `JSON.stringify` escapes both into plain text that any `text` column keeps as it is.
 */
const jsonText = customType<{ data: SessionData; driverData: string }>({
  dataType: () => 'text',
  toDriver: (data) => JSON.stringify(data),
  fromDriver: (text) => JSON.parse(text) as SessionData,
})

/**
 * The Drizzle definition of a sessions table named `name`, for apps that keep the table in their own schema and
 * migrations (then pass `migrate: false` to `postgresEngine`).
 *
 * @example
 * // db/schema.ts of your app
 * export const userSessions = sessionsTable('user_sessions')
 */
export function sessionsTable<TName extends string>(name: TName) {
  return pgTable(
    name,
    {
      /** The session id; text equality in PostgreSQL is byte-wise, so ids differing only in case stay apart. */
      id: text('id').primaryKey(),
      /** The session's keys and values as JSON text. */
      data: jsonText('data').notNull(),
      /** When the session expires, in epoch milliseconds. */
      expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
      /** The session's owner id, kept in step with the owner in its data by each commit; null without one. */
      owner: text('owner'),
    },
    (table) => [
      index(`${name}_expires_at_idx`).on(table.expiresAt),
      index(`${name}_owner_idx`).on(table.owner, table.expiresAt),
    ],
  )
}

/** The table `postgresEngine` uses by default and the bundled migrations create. */
export const sessions = sessionsTable('sessions')

/** A sessions table made by `sessionsTable`. */
export type SessionsTable = ReturnType<typeof sessionsTable>
