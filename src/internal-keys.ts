/**
 * Storage keys the plugin keeps for itself. Typed values are stored as `<type>:<key>` (see `storageKey`), so none of
 * these can collide with one, and no typed accessor or snapshot ever shows them.
 */

/**
 * Each flash message is stored on its own as `flash:<stamp>:<key>` (see `newFlashStorageKey`): a storage key unique to
 * the message, so a request that removes the messages it saw never removes one that another request set meanwhile.
 */
export const FLASH_KEY_PREFIX = 'flash:'

/** The session's CSRF secret (base64url), from which every masked token is derived. */
export const CSRF_SECRET_KEY = 'csrf:secret'

/** When the session was first saved, in epoch milliseconds: the start of its absolute lifetime. */
export const CREATED_AT_KEY = 'meta:createdAt'

/** The session's owner id (a user id, say), mirrored in each commit's `owner` for engines that index owners. */
export const OWNER_KEY = 'meta:owner'

/** Values set with `session.set(key, value)` are stored as `data:<key>`, apart from the typed namespaces. */
export const DATA_KEY_PREFIX = 'data:'
