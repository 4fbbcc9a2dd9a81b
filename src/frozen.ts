/**
 * Freezes `value` and every plain object and array inside it, so a value the session hands out cannot be changed in
 * place (a change must go through `set`). Other objects (a Date a transform made) are left as they are.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) freezeWithin(value, [])
  return value
}

/** Walks into frozen objects too: a validator may hand out one frozen only at its top. */
function freezeWithin(value: object, ancestors: object[]): void {
  const prototype: unknown = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return
  if (ancestors.includes(value)) return
  Object.freeze(value)
  ancestors.push(value)
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) freezeWithin(child, ancestors)
  }
  ancestors.pop()
}
