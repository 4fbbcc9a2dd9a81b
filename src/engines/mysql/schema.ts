import { bigint, customType, index, mysqlTable, varbinary } from 'drizzle-orm/mysql-core'
import type { SessionData } from '../../engine.js'

/**
 * Session data as JSON text in utf8mb4: not MySQL's JSON type, whose check rejects the lone surrogates a JS string
 * may hold. `JSON.stringify` escapes those and U+0000, so every string the session API accepts round-trips.
 */
const sessionDataText = customType<{ data: SessionData; driverData: string }>({
  dataType: () => 'longtext CHARACTER SET utf8mb4',
  toDriver: (data) => JSON.stringify(data),
  fromDriver: (text) => JSON.parse(text) as SessionData,
})

/** The longest session id the table stores, in bytes of UTF-8; the plugin's ids have 32. */
export const ID_MAX_BYTES = 255

/** The longest owner id the table stores, in bytes of UTF-8: 256 UTF-16 code units take at most 768. */
export const OWNER_MAX_BYTES = 768

/**
 * The Drizzle definition of a MySQL sessions table named `name`, for apps that keep the table in their own schema
 * and migrations (then pass `migrate: false` to `mysqlEngine`).
 *
 * @example
 * // db/schema.ts of your app
 * export const userSessions = sessionsTable('user_sessions')
 */
export function sessionsTable<TName extends string>(name: TName) {
  return mysqlTable(
    name,
    {
      /** The session id; binary, so ids compare byte-wise and ids differing only in case stay apart. */
      id: varbinary('id', { length: ID_MAX_BYTES }).primaryKey(),
      /** The session's keys and values as JSON text. */
      data: sessionDataText('data').notNull(),
      /** When the session expires, in epoch milliseconds. */
      expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
      /**
       * The session's owner id as UTF-8, kept in step with the owner in its data by each commit; null without one.
       * Binary, like the id: owners compare byte-wise, so owners differing in case or trailing spaces stay apart.
       */
      owner: varbinary('owner', { length: OWNER_MAX_BYTES }),
    },
    (table) => [
      index(`${name}_expires_at_idx`).on(table.expiresAt),
      index(`${name}_owner_idx`).on(table.owner, table.expiresAt),
    ],
  )
}

/** The table `mysqlEngine` uses by default and the bundled migrations create. */
export const sessions = sessionsTable('sessions')

/** A sessions table made by `sessionsTable`. */
export type SessionsTable = ReturnType<typeof sessionsTable>
