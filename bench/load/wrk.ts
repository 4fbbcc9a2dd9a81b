import type { WrkResult } from './types.js'

const LUA_SCRIPT = new URL('./session.lua', import.meta.url).pathname

export interface WrkOptions {
  readonly wrk: string
  /** The Lua script, which must print the same `WRK_JSON` line as session.lua's `done()`; default session.lua. */
  readonly script?: string
  readonly url: string
  /** A file with one Cookie header value per line, or undefined to send no cookie. */
  readonly cookieFile: string | undefined
  readonly seconds: number
  readonly connections: number
  readonly core: number
  /** Kills wrk when aborted. */
  readonly signal?: AbortSignal
}

/** Runs `wrk -t1 -c<connections> -d<seconds>s --latency` pinned to `core`, with the session Lua script (or `script`). */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const command = [
    'taskset',
    '-c',
    String(options.core),
    options.wrk,
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    '--timeout',
    '5s',
    '-s',
    options.script ?? LUA_SCRIPT,
    options.url,
    '--',
    options.cookieFile ?? '',
  ]
  const proc = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', signal: options.signal })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  const code = await proc.exited
  const cpu = proc.resourceUsage()?.cpuTime
  const line = stdout.split('\n').find((text) => text.startsWith('WRK_JSON '))
  if (code !== 0 || !line) throw new Error(`wrk failed (exit code ${code}):\n${stdout}\n${stderr}`)
  const parsed = JSON.parse(line.slice('WRK_JSON '.length)) as Omit<WrkResult, 'rps' | 'cpuSeconds'>
  return {
    ...parsed,
    rps: parsed.durationUs > 0 ? (parsed.requests * 1e6) / parsed.durationUs : 0,
    cpuSeconds: cpu ? Number(cpu.user + cpu.system) / 1e6 : 0,
  }
}
