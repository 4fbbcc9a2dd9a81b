import { extname } from 'node:path'

/**
 * The URL of the module `name` in the folder of the module at `moduleUrl`, with that module's own extension:
 * `.ts` when running from source, `.js` from the built package. For workers and other modules loaded by URL.
 */
export function siblingModule(name: string, moduleUrl: string): string {
  return new URL(`./${name}${extname(new URL(moduleUrl).pathname)}`, moduleUrl).href
}
