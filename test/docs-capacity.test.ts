import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { blockMarkers, fillCapacityPage, renderFigures } from '../bench/capacity'
import { LOAD_FIGURES } from '../bench/load/figures'
import type { Measure, Results } from '../bench/results'
import { ROOT } from './support/serverless-cli'

// docs/capacity.md's tables are generated from bench/results.json and src/limits.ts: the page as checked in must be
// what the generator writes, so a run, a new limit or an edited generator cannot leave its figures behind.
const page = () => readFileSync(join(ROOT, 'docs/capacity.md'), 'utf8')
const results = () => JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) as Results

/** A results file with one case 13 whose every figure is `value` (and whose latency is 12 ms, p99 40 ms). */
function resultsWithLoadCase(value: number): Results {
  const measures: Measure[] = Object.entries(LOAD_FIGURES)
    .filter(([key]) => key !== 'mix' && key !== 'latency')
    .map(([, name]) => ({ name, unit: 'x', value }))
  measures.push({ name: LOAD_FIGURES.latency, unit: 'ms', summary: { n: 3, min: 5, median: 12, mean: 19, p90: 40, p99: 40, max: 40 } })
  return { ...results(), cases: [{ id: '13', title: 'load', measures, comparisons: [], targets: [], notes: [] }] }
}

describe('the capacity page', () => {
  it('holds the tables bench/capacity.ts generates from bench/results.json and src/limits.ts (run `tsx bench/report.ts`)', () => {
    expect(page()).toBe(fillCapacityPage(page(), results()))
  })

  it('rewrites only what is between its markers', () => {
    const [start, end] = blockMarkers('capacity figures')
    const stale = page().replace(new RegExp(`${start}[\\s\\S]*?${end}`), `${start}\nstale\n${end}`)
    expect(stale).not.toBe(page())
    expect(fillCapacityPage(stale, results())).toBe(fillCapacityPage(page(), results()))
  })

  it("computes each shape's dispatches per second of Redis from the load case's figures", () => {
    const figures = renderFigures(resultsWithLoadCase(50))
    // 1 recipient online: 50 µs, 20,000 a second; 100 online: 50 + 99 x 50 µs = 5,000 µs, 200 a second.
    expect(figures).toContain('| 1 recipient, online | 50.0 µs | 20,000 |')
    expect(figures).toContain('| 100 recipients, online | 5,000 µs | 200 |')
    expect(figures).toContain('| latency, dispatch() to settled: p50 / p99 | 12.0 / 40.0 ms |')
  })

  it('refuses a page that lost a marker', () => {
    const [start] = blockMarkers('upstash limits')
    expect(() => fillCapacityPage(page().replace(start, ''), results())).toThrow(/lacks the markers of its upstash limits/)
  })
})
