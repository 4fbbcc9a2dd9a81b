import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The outcome of one of the other benchmark suites (bench/micro, bench/resources). */
export interface ExtraResult {
  readonly name: string
  readonly entry: string
  /** `ok` with the JSON it printed, or why there is none. */
  readonly status: 'ok' | 'missing' | 'skipped' | 'failed'
  readonly note: string
  readonly seconds: number
  readonly json?: unknown
}

const TIMEOUT_MS = 45 * 60_000

/**
 * Runs `bun <entry> --json` from the project's root when the entry exists and parses the JSON document it prints on
 * stdout; its stderr goes to ours, so its progress shows.
 */
export async function runExtra(root: string, name: string, entry: string, skip?: string): Promise<ExtraResult> {
  if (skip) return { name, entry, status: 'skipped', note: skip, seconds: 0 }
  if (!existsSync(join(root, entry))) {
    return {
      name,
      entry,
      status: 'missing',
      note: `${entry} does not exist yet, so this section was skipped`,
      seconds: 0,
    }
  }
  console.log(`\n== ${name}: bun ${entry} --json`)
  const started = performance.now()
  const proc = Bun.spawn([process.execPath, entry, '--json'], { cwd: root, stdout: 'pipe', stderr: 'inherit' })
  // Its servers and wrk clients too: killed alone, it would leave them loading the cores for the rest of the session.
  const timer = setTimeout(() => {
    for (const pid of descendantsOf(proc.pid)) killQuietly(pid)
    proc.kill('SIGKILL')
  }, TIMEOUT_MS)
  const stdout = await new Response(proc.stdout).text()
  const code = await proc.exited
  clearTimeout(timer)
  const seconds = Math.round((performance.now() - started) / 100) / 10
  if (code !== 0) {
    const why =
      proc.signalCode === 'SIGKILL' ? `was stopped after ${TIMEOUT_MS / 60_000} minutes` : `exited with ${code}`
    return { name, entry, status: 'failed', note: `${entry} ${why}`, seconds }
  }
  const json = parseJsonDocument(stdout)
  if (json === undefined) {
    return { name, entry, status: 'failed', note: `${entry} --json printed no JSON document on stdout`, seconds }
  }
  return { name, entry, status: 'ok', note: '', seconds, json }
}

/** The JSON document in `text`: all of it, or else the last line that parses, or else from the first `{` or `[`. */
function parseJsonDocument(text: string): unknown {
  const attempts = [
    text,
    ...text
      .split('\n')
      .filter((line) => line.trim())
      .reverse(),
    text.slice(Math.max(0, Math.min(...['{', '['].map((c) => text.indexOf(c)).filter((i) => i >= 0)))),
  ]
  for (const attempt of attempts) {
    try {
      return JSON.parse(attempt)
    } catch {}
  }
  return undefined
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function isPrimitive(value: unknown): value is null | boolean | number | string {
  return value === null || ['boolean', 'number', 'string'].includes(typeof value)
}

function isPlainObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US')
    const digits = Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 2 : 4
    return value.toLocaleString('en-US', { maximumFractionDigits: digits })
  }
  const text = isPrimitive(value) ? String(value) : `\`${JSON.stringify(value)}\``
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * Renders any JSON document as Markdown, since the other suites' formats are theirs: arrays of records become
 * tables, objects key/value tables with a heading per nested part, anything deeper inline JSON.
 */
export function jsonToMarkdown(value: unknown, level = 3): string[] {
  if (isPrimitive(value)) return [formatValue(value), '']
  if (Array.isArray(value)) {
    if (value.length === 0) return ['(none)', '']
    if (value.every(isPrimitive)) return [value.map(formatValue).join(', '), '']
    if (value.every(isPlainObject)) {
      const keys = [...new Set(value.flatMap((record) => Object.keys(record)))]
      return [
        `| ${keys.join(' | ')} |`,
        `| ${keys.map(() => '---').join(' | ')} |`,
        ...value.map(
          (record) => `| ${keys.map((key) => (key in record ? formatValue(record[key]) : '')).join(' | ')} |`,
        ),
        '',
      ]
    }
    return value.flatMap((item, index) => [
      `${'#'.repeat(Math.min(level, 6))} ${index + 1}`,
      '',
      ...jsonToMarkdown(item, level + 1),
    ])
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value)
    const flat = entries.filter(([, v]) => isPrimitive(v) || (Array.isArray(v) && v.every(isPrimitive)))
    const nested = entries.filter((entry) => !flat.includes(entry))
    const lines: string[] = []
    if (flat.length) {
      lines.push('| key | value |', '| --- | --- |')
      for (const [key, v] of flat)
        lines.push(`| ${key} | ${Array.isArray(v) ? v.map(formatValue).join(', ') || '(none)' : formatValue(v)} |`)
      lines.push('')
    }
    for (const [key, v] of nested)
      lines.push(`${'#'.repeat(Math.min(level, 6))} ${key}`, '', ...jsonToMarkdown(v, level + 1))
    return lines
  }
  return [`\`${String(value)}\``, '']
}

/** The ids of every process below `root`, children first found, from /proc (none where there is no /proc). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>()
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        // Field 4 is the parent's id, counted after the name's closing parenthesis (the name may hold spaces).
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    return []
  }
  const found: number[] = []
  for (let queue = [root]; queue.length > 0; ) {
    const next = children.get(queue.shift() as number) ?? []
    found.push(...next)
    queue.push(...next)
  }
  return found
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}
