import { existsSync } from 'node:fs'

/** Where Debian's `chromium` package puts the browser; CHROMIUM_PATH points elsewhere. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium'

/** What a browser test file needs to know about the Chromium it drives. */
export interface TestBrowser {
  /** The Chromium executable, or undefined when none is installed and the tests are skipped. */
  readonly executablePath: string | undefined
  /** `name`, plus how to install Chromium when the tests are skipped, so `bun test` shows it. */
  readonly label: string
}

/**
 * Finds the Chromium that playwright-core drives (it downloads none): CHROMIUM_PATH, or else Debian's package. Without
 * one the tests are skipped and their label says how to install it; with CI set they fail instead, so CI never passes
 * without having run them.
 *
 * @example
 * const chromium = testChromium('demo in a browser')
 * describe.skipIf(!chromium.executablePath)(chromium.label, () => { ... })
 */
export function testChromium(name: string, env: Record<string, string | undefined> = process.env): TestBrowser {
  const { CHROMIUM_PATH, CI } = env
  const executablePath = CHROMIUM_PATH || DEBIAN_CHROMIUM
  if (existsSync(executablePath)) return { executablePath, label: name }
  const install = `install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH to a Chromium executable`
  if (CI) throw new Error(`${name}: no Chromium at ${executablePath} and CI is set: ${install}`)
  return { executablePath: undefined, label: `${name} (skipped: no Chromium at ${executablePath}; ${install})` }
}
