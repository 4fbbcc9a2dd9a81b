import { RATIO_TARGETS } from './rows.js'
import type { Cell } from './summary.js'
import { type RowSpec, SCENARIOS, type ScenarioId } from './types.js'

const COLORS: Record<ScenarioId, string> = { a: '#4e79a7', b: '#59a14f', c: '#e8893a' }
const WIDTH = 960
const LABEL_RIGHT = 300
const PLOT_LEFT = 312
const PLOT_RIGHT = 900
const TOP = 96
const BAR = 12
const BAR_GAP = 2
const GROUP_GAP = 14

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function rowLabel(row: RowSpec): string {
  return row.runtime === 'node' ? `${row.label} (Node)` : row.label
}

/**
 * A horizontal grouped bar chart of each row's ratio to bare Elysia in each scenario, as a standalone SVG document.
 * Targets are drawn as black ticks on their bars; the dashed line is bare Elysia (1.0).
 */
export function ratioChart(cells: readonly Cell[], rows: readonly RowSpec[], subtitle: string): string {
  const scenarios = SCENARIOS.filter((s) => cells.some((c) => c.scenario === s.id))
  const shown = rows.filter((row) => cells.some((c) => c.row === row.id))
  const groupHeight = scenarios.length * (BAR + BAR_GAP) - BAR_GAP + GROUP_GAP
  const plotBottom = TOP + shown.length * groupHeight
  const height = plotBottom + 48
  const largest = Math.max(1, ...cells.map((c) => c.ratio ?? 0))
  const maxRatio = Math.ceil(largest * 4) / 4
  const x = (ratio: number) => PLOT_LEFT + (Math.max(0, ratio) / maxRatio) * (PLOT_RIGHT - PLOT_LEFT)
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="bold">Requests per second as a ratio to bare Elysia (higher is better)</text>`,
    `<text x="16" y="46" fill="#555555">${escapeXml(subtitle)}</text>`,
  )
  let legendX = 16
  for (const scenario of scenarios) {
    const text = `(${scenario.id}) ${scenario.short}`
    out.push(
      `<rect x="${legendX}" y="60" width="12" height="12" fill="${COLORS[scenario.id]}"/>`,
      `<text x="${legendX + 16}" y="70">${escapeXml(text)}</text>`,
    )
    legendX += 24 + text.length * 6.2
  }
  out.push(
    `<line x1="${PLOT_RIGHT - 120}" y1="82" x2="${PLOT_RIGHT - 120}" y2="92" stroke="#000000" stroke-width="2"/>`,
    `<text x="${PLOT_RIGHT - 114}" y="91" fill="#333333">target</text>`,
  )
  for (let tick = 0; tick <= maxRatio + 1e-9; tick += 0.25) {
    const tx = x(tick).toFixed(1)
    out.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${plotBottom}" stroke="#e3e3e3"/>`,
      `<text x="${tx}" y="${plotBottom + 16}" text-anchor="middle" fill="#555555">${tick.toFixed(2)}</text>`,
    )
  }
  out.push(
    `<line x1="${x(1).toFixed(1)}" y1="${TOP - 8}" x2="${x(1).toFixed(1)}" y2="${plotBottom}" stroke="#333333" stroke-dasharray="4 3"/>`,
    `<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="#333333">ratio of req/s to bare Elysia in the same run (1.0 = bare Elysia)</text>`,
  )
  shown.forEach((row, index) => {
    const groupTop = TOP + index * groupHeight
    const weight = row.kind === 'engine' ? ' font-weight="bold"' : ''
    // The hand-written session is a ceiling under bare Elysia's: set apart in italics.
    const style = row.kind === 'handwritten' ? ' font-style="italic"' : ''
    const fill = row.kind === 'peer' ? '#555555' : '#000000'
    const labelY = groupTop + (groupHeight - GROUP_GAP) / 2 + 4
    out.push(
      `<text x="${LABEL_RIGHT}" y="${labelY}" text-anchor="end" fill="${fill}"${weight}${style}>${escapeXml(rowLabel(row))}</text>`,
    )
    scenarios.forEach((scenario, lane) => {
      const y = groupTop + lane * (BAR + BAR_GAP)
      const cell = cells.find((c) => c.row === row.id && c.scenario === scenario.id)
      if (cell?.ratio === undefined) return
      const end = x(cell.ratio)
      const targets = RATIO_TARGETS.filter((t) => t.row === row.id && t.scenario === scenario.id).map((t) => x(t.min))
      // The value goes right of the bar, or of its target tick when that is further right.
      const labelX = Math.max(end, ...targets.map((tx) => tx + 1)) + 4
      out.push(
        `<rect x="${PLOT_LEFT}" y="${y}" width="${(end - PLOT_LEFT).toFixed(1)}" height="${BAR}" fill="${COLORS[scenario.id]}"/>`,
        `<text x="${labelX.toFixed(1)}" y="${y + BAR - 2}" font-size="10" fill="#333333">${cell.ratio.toFixed(2)}</text>`,
        ...targets.map(
          (tx) =>
            `<line x1="${tx.toFixed(1)}" y1="${y - 1}" x2="${tx.toFixed(1)}" y2="${y + BAR + 1}" stroke="#000000" stroke-width="2"/>`,
        ),
      )
    })
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
