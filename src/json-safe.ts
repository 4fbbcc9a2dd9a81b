import type { SessionValue } from './engine.js'
import { describeValue } from './value-types.js'

/**
 * A private copy of `value` that JSON round-trips unchanged. Otherwise throws a TypeError naming the call
 * (`method(key, value)`), what was wrong and where: undefined, a function, a symbol, a bigint, NaN or ±Infinity, an
 * array hole, an object that is neither a plain object nor an array (a Date, a Map, a class instance), or a cycle.
 *
 * @example
 * jsonSafeCopy({ text: 'Saved' }, 'flash.set', 'notice') // { text: 'Saved' }
 * jsonSafeCopy({ at: new Date() }, 'flash.set', 'notice') // TypeError: … got an object (Date) at value.at
 */
export function jsonSafeCopy(value: unknown, method: string, key: string): SessionValue {
  // Most values are strings or other JSON primitives, which need no walk.
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  return new Copier(method, key).copy(value)
}

/** One deep copy: the path from the top to the node being copied, and the objects along it. */
class Copier {
  readonly #path: (string | number)[] = []
  readonly #ancestors: object[] = []

  constructor(
    readonly method: string,
    readonly key: string,
  ) {}

  copy(value: unknown): SessionValue {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value
      case 'number':
        if (Number.isFinite(value)) return value
        break
      case 'object': {
        if (value === null) return null
        const isArray = Array.isArray(value)
        const prototype: unknown = Object.getPrototypeOf(value)
        if (!isArray && prototype !== Object.prototype && prototype !== null) break
        if (this.#ancestors.includes(value)) throw this.#error('a cycle: it refers back to an object that contains it')
        this.#ancestors.push(value)
        const copy = isArray ? this.#copyArray(value) : this.#copyObject(value)
        this.#ancestors.pop()
        return copy
      }
    }
    // A bigint is named, not shown: the value may be private.
    throw this.#error(typeof value === 'bigint' ? 'a bigint' : describeValue(value))
  }

  #copyArray(array: unknown[]): SessionValue[] {
    const copy: SessionValue[] = []
    for (let index = 0; index < array.length; index++) {
      this.#path.push(index)
      // JSON turns a hole into null, so the array would not come back as it was.
      if (!(index in array)) throw this.#error('an empty array slot')
      copy.push(this.copy(array[index]))
      this.#path.pop()
    }
    return copy
  }

  #copyObject(object: object): Record<string, SessionValue> {
    const entries: [string, SessionValue][] = []
    for (const [key, child] of Object.entries(object)) {
      this.#path.push(key)
      entries.push([key, this.copy(child)])
      this.#path.pop()
    }
    // fromEntries defines own properties, so a key such as "__proto__" stays a key.
    return Object.fromEntries(entries)
  }

  #error(got: string): TypeError {
    const where = this.#path.length === 0 ? '' : ` at value${this.#path.map(pathSegment).join('')}`
    return new TypeError(
      `${this.method}(${JSON.stringify(this.key)}, value) needs a JSON-safe value (a string, finite number, boolean, null, array or plain object), got ${got}${where}`,
    )
  }
}

function pathSegment(segment: string | number): string {
  if (typeof segment === 'number') return `[${segment}]`
  return /^[A-Za-z_$][\w$]*$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
}
