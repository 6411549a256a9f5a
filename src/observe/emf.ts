// A writer of CloudWatch Embedded Metric Format lines: one JSON object per line, the metric values and dimension
// values at its root, and the `_aws` metadata saying which root members are metrics under which dimensions.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

import { EMF_MAX_METRICS_PER_DIRECTIVE, EMF_MAX_VALUES_PER_METRIC } from '../limits.js'
import type { LogSink } from './logger.js'

/** The CloudWatch units this package reports in (MetricDatum's list has more; these are all it needs). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes'

/** A metric: its name, its unit, and whether its values add up (counts) or are kept one by one (timings). */
export interface MetricSpec {
  readonly name: string
  readonly unit: MetricUnit
  /** Keep each value as a sample, for percentiles, instead of adding them up. @default false */
  readonly samples?: boolean
}

/** Dimension names and values, in order; each value must be a short, low-cardinality string (never an id). */
export type DimensionValues = ReadonlyArray<readonly [name: string, value: string]>

/** Collects metric values between flushes and writes them as EMF lines. */
export interface EmfWriter {
  /**
   * Adds a value to a metric, under extra dimensions beyond the base ones (e.g. `[['Outcome', 'sent']]`), or under
   * the base dimensions alone. Values under the same dimension values share one line.
   */
  add(metric: MetricSpec, value: number, dimensions?: DimensionValues): void
  /** Writes what was added since the last flush, with these base dimensions (e.g. the function), and starts over. */
  flush(base: DimensionValues): void
}

interface Group {
  readonly dimensions: DimensionValues
  readonly metrics: Map<string, { spec: MetricSpec; values: number[] }>
}

/**
 * Creates an EMF writer for one namespace. A flush writes one line per distinct set of extra dimension values; the
 * metrics under the base dimensions alone ride on the one of those lines with the most metrics, as a directive of
 * their own, so that an invocation whose dispatches all ended alike writes exactly one line, and one that recorded
 * nothing writes none.
 */
export function createEmfWriter(namespace: string, sink: LogSink, now: () => number = Date.now): EmfWriter {
  let groups = new Map<string, Group>()
  return {
    add(metric, value, dimensions = []) {
      if (!Number.isFinite(value)) return
      const key = JSON.stringify(dimensions)
      const group = groups.get(key) ?? { dimensions, metrics: new Map() }
      groups.set(key, group)
      const entry = group.metrics.get(metric.name)
      if (!entry) group.metrics.set(metric.name, { spec: metric, values: [value] })
      else if (metric.samples) entry.values.push(value)
      else entry.values[0]! += value
    },
    flush(base) {
      const pending = [...groups.values()]
      groups = new Map()
      const own = pending.filter((group) => group.dimensions.length > 0)
      const bare = pending.find((group) => group.dimensions.length === 0)
      // The base-only metrics ride on the line with the most metrics (a batch's successes), if no name clashes.
      const carrier = own
        .filter((group) => !bare || ![...bare.metrics.keys()].some((name) => group.metrics.has(name)))
        .reduce<Group | undefined>((best, group) => (best && best.metrics.size >= group.metrics.size ? best : group), undefined)
      for (const group of own) {
        for (const line of toLines(namespace, base, group, group === carrier ? bare : undefined, now())) sink(line)
      }
      if (bare && !carrier) for (const line of toLines(namespace, base, bare, undefined, now())) sink(line)
    },
  }
}

/**
 * A group's lines: usually one. A metric with more samples than one line may hold spreads them over further lines,
 * and more metrics than one directive may hold are split across directives, as the specification requires.
 */
function toLines(namespace: string, base: DimensionValues, group: Group, rider: Group | undefined, timestamp: number): string[] {
  const lines: string[] = []
  const metrics = [...group.metrics.values()]
  const riding = rider ? [...rider.metrics.values()] : []
  const chunks = Math.max(1, ...[...metrics, ...riding].map((each) => Math.ceil(each.values.length / EMF_MAX_VALUES_PER_METRIC)))
  for (let chunk = 0; chunk < chunks; chunk++) {
    const root: Record<string, unknown> = {}
    const directives: unknown[] = []
    const addDirective = (dimensions: DimensionValues, entries: typeof metrics, sets: string[][]) => {
      const present = entries.flatMap((entry) => {
        // Sums go on the first line only; samples go EMF_MAX_VALUES_PER_METRIC to a line.
        const values = entry.spec.samples
          ? entry.values.slice(chunk * EMF_MAX_VALUES_PER_METRIC, (chunk + 1) * EMF_MAX_VALUES_PER_METRIC)
          : chunk === 0
            ? entry.values
            : []
        if (values.length === 0) return []
        root[entry.spec.name] = values.length === 1 ? values[0] : values
        return [{ Name: entry.spec.name, Unit: entry.spec.unit }]
      })
      for (const [name, value] of [...base, ...dimensions]) root[name] = value
      for (let start = 0; start < present.length; start += EMF_MAX_METRICS_PER_DIRECTIVE) {
        directives.push({ Namespace: namespace, Dimensions: sets, Metrics: present.slice(start, start + EMF_MAX_METRICS_PER_DIRECTIVE) })
      }
    }
    addDirective(group.dimensions, metrics, rollups(base, group.dimensions))
    if (rider) addDirective([], riding, rollups(base, []))
    if (directives.length > 0) lines.push(JSON.stringify({ _aws: { Timestamp: timestamp, CloudWatchMetrics: directives }, ...root }))
  }
  return lines
}

/**
 * The dimension sets of a group: the base plus each prefix of its own dimensions, so that `Outcome, ErrorName`
 * values are also summed by Outcome alone (`[[Function, Outcome], [Function, Outcome, ErrorName]]`).
 */
function rollups(base: DimensionValues, own: DimensionValues): string[][] {
  const names = base.map(([name]) => name)
  if (own.length === 0) return [names]
  return own.map((_, index) => [...names, ...own.slice(0, index + 1).map(([name]) => name)])
}
