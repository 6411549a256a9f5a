import type { Machine } from './machine'
import { type Ratio, ratio, type Summary, summarize } from './stats'

/** One reported figure: a timing summary (ms unless `unit` says otherwise) or a single counted value. */
export interface Measure {
  name: string
  unit: string
  summary?: Summary
  value?: number
  note?: string
}

/** A comparison of two variants measured in the same interleaved rounds. */
export interface Comparison {
  name: string
  a: string
  b: string
  ratio: Ratio
}

/** A target from the brief, judged honestly against what this run measured. */
export interface Target {
  name: string
  goal: string
  measured: string
  met: boolean
}

/** Everything one case measured. */
export interface CaseResult {
  id: string
  title: string
  measures: Measure[]
  comparisons: Comparison[]
  targets: Target[]
  /** Plain facts worth recording beside the numbers, e.g. what exactly was timed. */
  notes: string[]
}

/** The whole run, as written to bench/results.json. */
export interface Results {
  command: string
  quick: boolean
  durationSeconds: number
  machine: Machine
  cases: CaseResult[]
}

/** Collects one case's figures as it runs. */
export class CaseRecorder {
  readonly result: CaseResult

  constructor(id: string, title: string) {
    this.result = { id, title, measures: [], comparisons: [], targets: [], notes: [] }
  }

  /** Records a timing (or rate) summary of samples. */
  samples(name: string, values: readonly number[], unit = 'ms', note?: string): Measure {
    const measure: Measure = { name, unit, summary: summarize(values), ...(note ? { note } : {}) }
    this.result.measures.push(measure)
    return measure
  }

  /** Records a single counted or computed value. */
  value(name: string, value: number, unit: string, note?: string): void {
    this.result.measures.push({ name, unit, value, ...(note ? { note } : {}) })
  }

  /** Records A over B from samples taken in the same rounds, and returns the ratio. */
  compare(name: string, a: string, aSamples: readonly number[], b: string, bSamples: readonly number[]): Ratio {
    const measured = ratio(aSamples, bSamples)
    this.result.comparisons.push({ name, a, b, ratio: measured })
    return measured
  }

  /** Records a target and whether it was met. */
  target(name: string, goal: string, measured: string, met: boolean): void {
    this.result.targets.push({ name, goal, measured, met })
  }

  /** Records a fact about the case. */
  note(text: string): void {
    this.result.notes.push(text)
  }
}
