import type { SessionData, SessionValue } from './engine.js'
import { CREATED_AT_KEY } from './internal-keys.js'

/** The two lifetimes a session's expiry follows, in milliseconds. */
export interface Lifetimes {
  /** Idle lifetime: how long after its last activity a session expires. */
  readonly timeout: number
  /** How long after its creation a session ends however active it is; absent means never. */
  readonly absoluteTimeout?: number | undefined
}

/**
 * The expiry of a session active at `now`: `timeout` after now, but never later than `absoluteTimeout` after its
 * creation. Every expiry the plugin gives a request session (save, touch, regenerate) comes from here.
 */
export function expiryAt(lifetimes: Lifetimes, createdAt: number | null, now: number): number {
  return cappedExpiry(lifetimes, createdAt, now + lifetimes.timeout)
}

/** `expiresAt`, or the session's absolute end when that comes first. */
export function cappedExpiry(lifetimes: Lifetimes, createdAt: number | null, expiresAt: number): number {
  const end = absoluteEndOf(lifetimes, createdAt)
  return end !== null && end < expiresAt ? end : expiresAt
}

/** When a session created at `createdAt` ends however active it is, or `null` without `absoluteTimeout` or a creation time. */
export function absoluteEndOf(lifetimes: Lifetimes, createdAt: number | null): number | null {
  const { absoluteTimeout } = lifetimes
  return absoluteTimeout === undefined || createdAt === null ? null : createdAt + absoluteTimeout
}

/** The creation time recorded in a session's data, or `null` when it has none (never saved, or saved before the key existed). */
export function createdAtOf(data: SessionData | undefined): number | null {
  return asCreatedAt(data !== undefined && Object.hasOwn(data, CREATED_AT_KEY) ? data[CREATED_AT_KEY] : undefined)
}

/** A stored creation time as a number, or `null` when the value under its key is absent or not a number. */
export function asCreatedAt(value: SessionValue | undefined): number | null {
  return typeof value === 'number' ? value : null
}

/**
 * Whether a stored session has outlived `absoluteTimeout` at `now`: it was stored before the option was set or
 * lowered, so its engine expiry is later than its absolute end.
 */
export function hasOutlived(lifetimes: Lifetimes, data: SessionData, now: number): boolean {
  if (lifetimes.absoluteTimeout === undefined) return false
  const end = absoluteEndOf(lifetimes, createdAtOf(data))
  return end !== null && end <= now
}

/**
 * The cookie's `Max-Age` for a session that expires at `expiresAt`, seen at `now`: whole seconds rounded up (Elysia
 * rejects fractions, and rounding down could give 0, which deletes the cookie), at least 1.
 */
export function cookieMaxAge(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil((expiresAt - now) / 1000))
}
