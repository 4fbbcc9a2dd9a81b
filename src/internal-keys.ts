/**
 * Storage keys the plugin keeps for itself. Typed values are stored as `<type>:<key>` (see `storageKey`), so none of
 * these can collide with one, and no typed accessor or snapshot ever shows them.
 */

/** Each flash message is stored on its own under this prefix and its key, so concurrent messages never overwrite each other. */
export const FLASH_KEY_PREFIX = 'flash:'

/** The session's CSRF secret (base64url), from which every masked token is derived. */
export const CSRF_SECRET_KEY = 'csrf:secret'

/** When the session was first saved, in epoch milliseconds: the start of its absolute lifetime. */
export const CREATED_AT_KEY = 'meta:createdAt'
