import { parseArgs } from 'node:util'

/** The engines the soak can run: those that keep sessions in the server's own process or file. */
export const SOAK_ENGINES = ['memory', 'sqlite'] as const
export type SoakEngine = (typeof SOAK_ENGINES)[number]

export interface SoakOptions {
  /** Minutes of load per engine; the first is warm-up, the second the reference, the last is compared with it. */
  readonly minutes: number
  readonly engines: readonly SoakEngine[]
  /** wrk connections. */
  readonly connections: number
  /** A session not used for this long expires, so GC always has sessions to remove. */
  readonly timeoutMs: number
  readonly gcIntervalMs: number
}

export const DEFAULTS: SoakOptions = {
  minutes: 10,
  engines: SOAK_ENGINES,
  connections: 32,
  timeoutMs: 30_000,
  gcIntervalMs: 5_000,
}

export const HELP = `bun run bench:soak [-- options]

  --minutes N        minutes of load per engine, at least 3 (default ${DEFAULTS.minutes})
  --engines LIST     engines to run, comma-separated (default ${DEFAULTS.engines.join(',')})
  --connections N    wrk connections (default ${DEFAULTS.connections})
  --timeout S        seconds a session lives after its last use (default ${DEFAULTS.timeoutMs / 1000})
  --gc-interval S    seconds between GC sweeps (default ${DEFAULTS.gcIntervalMs / 1000})`

/** The options of `bench:soak` from `args`, or undefined when `--help` was asked for. */
export function parseSoakOptions(args: readonly string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: args.filter((arg) => arg !== '--'),
    options: {
      minutes: { type: 'string' },
      engines: { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
      'gc-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) return undefined
  const whole = (name: string, raw: string | undefined, fallback: number, least: number): number => {
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isSafeInteger(value) || value < least)
      throw new Error(`--${name} must be a whole number of at least ${least}`)
    return value
  }
  const engines = values.engines?.split(',').map((name) => name.trim()) ?? [...DEFAULTS.engines]
  const unknown = engines.filter((name) => !(SOAK_ENGINES as readonly string[]).includes(name))
  if (unknown.length > 0 || engines.length === 0)
    throw new Error(`--engines takes ${SOAK_ENGINES.join(', ')}; got ${values.engines}`)
  return {
    minutes: whole('minutes', values.minutes, DEFAULTS.minutes, 3),
    engines: [...new Set(engines)] as SoakEngine[],
    connections: whole('connections', values.connections, DEFAULTS.connections, 1),
    timeoutMs: whole('timeout', values.timeout, DEFAULTS.timeoutMs / 1000, 1) * 1000,
    gcIntervalMs: whole('gc-interval', values['gc-interval'], DEFAULTS.gcIntervalMs / 1000, 1) * 1000,
  }
}
