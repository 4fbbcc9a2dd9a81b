import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** Runs `command`, echoing its output, and throws when it fails. */
async function run(command: string[], cwd?: string): Promise<void> {
  console.log(`$ ${command.join(' ')}`)
  const proc = Bun.spawn(command, { cwd, stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' })
  if ((await proc.exited) !== 0) throw new Error(`${command.join(' ')} failed with exit code ${proc.exitCode}`)
}

/** The path of wrk, installing Debian's package first when it is missing (this needs root). */
export async function ensureWrk(): Promise<string> {
  const found = Bun.which('wrk')
  if (found) return found
  if (process.getuid?.() !== 0) {
    throw new Error('wrk is not installed: run `apt-get update && apt-get install -y wrk` as root, then try again')
  }
  console.log('wrk is not installed: installing it from Debian')
  await run(['apt-get', 'update'])
  await run(['apt-get', 'install', '-y', 'wrk'])
  const installed = Bun.which('wrk')
  if (!installed) throw new Error('apt-get installed wrk, but it is still not on PATH')
  return installed
}

/** Installs the peers into bench/node_modules from bench/package-lock.json when that folder is missing. */
export async function ensurePeerModules(benchDir: string): Promise<void> {
  if (existsSync(join(benchDir, 'node_modules'))) return
  console.log('bench/node_modules is missing: installing the peer libraries with npm')
  await run(['npm', 'ci', '--prefix', benchDir, '--no-audit', '--no-fund'])
}

/** The path of a real Node.js (not Bun's `node` shim), for the Node peers. */
export async function findNode(): Promise<{ path: string; version: string }> {
  const path = Bun.which('node')
  if (!path) throw new Error('node is not on PATH: the express-session and @fastify/session rows need Node.js')
  const proc = Bun.spawn([path, '-p', "process.versions.bun ? 'bun' : process.version"], { stdout: 'pipe' })
  const version = (await new Response(proc.stdout).text()).trim()
  await proc.exited
  if (!version.startsWith('v')) throw new Error(`${path} is not Node.js (it says ${version}): put Node on PATH`)
  return { path, version }
}
