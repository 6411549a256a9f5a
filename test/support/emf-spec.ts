// A checker of CloudWatch Embedded Metric Format lines against the specification, written from it and not from our
// writer (src/observe/emf.ts), so that a test can tell the two apart:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

/** The units a MetricDefinition may name: MetricDatum's list, as the specification's JSON schema spells them. */
export const EMF_UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
])

/** A parsed EMF document: the metadata and every root member. */
export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit?: string }> }> }
  [member: string]: unknown
}

const MAX_LINE_BYTES = 256 * 1024 // a CloudWatch Logs event; the specification's older text says 256 KB, the newer 1 MB
const MAX_METRICS = 100 // MetricDefinitions per MetricDirective
const MAX_DIMENSIONS = 30 // keys per DimensionSet (the current text; it said 9 before CloudWatch allowed 30)
const MAX_VALUES = 100 // members of an array metric target
const PAST_MS = 14 * 24 * 3600 * 1000 // CloudWatch drops metric points older than two weeks…
const FUTURE_MS = 2 * 3600 * 1000 // …or more than two hours ahead
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isName = (value: unknown) => typeof value === 'string' && value.length >= 1 && value.length <= 255 && !/[\r\n]/.test(value)
/** Dimension values as CloudWatch's Dimension API takes them: 1 to 1024 ASCII characters, no control characters. */
const isDimensionValue = (value: unknown) => typeof value === 'string' && /^[\x20-\x7e]{1,1024}$/.test(value) && value.trim() !== ''

/** Every way a log line breaks the EMF specification, as sentences; an empty list means it is a valid EMF document. */
export function emfProblems(line: string, now = Date.now()): string[] {
  const problems: string[] = []
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) problems.push(`the line is over ${MAX_LINE_BYTES} bytes`)
  let root: unknown
  try {
    root = JSON.parse(line)
  } catch {
    return [...problems, 'the line is not one JSON value with nothing before or after it']
  }
  if (!isObject(root)) return [...problems, 'the root is not a JSON object']
  const aws = root._aws
  if (!isObject(aws)) return [...problems, 'the root has no _aws object']
  const { Timestamp: timestamp, CloudWatchMetrics: directives } = aws
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp)) problems.push('_aws.Timestamp is not an integer number')
  else if (timestamp < now - PAST_MS || timestamp > now + FUTURE_MS) problems.push(`_aws.Timestamp ${timestamp} is not milliseconds since the epoch near now`)
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics is not an array']
  for (const [d, directive] of directives.entries()) {
    const at = `_aws.CloudWatchMetrics[${d}]`
    if (!isObject(directive)) {
      problems.push(`${at} is not an object`)
      continue
    }
    const extra = Object.keys(directive).filter((key) => !['Namespace', 'Dimensions', 'Metrics'].includes(key))
    if (extra.length > 0) problems.push(`${at} has members the specification does not define: ${extra.join(', ')}`)
    if (!isName(directive.Namespace)) problems.push(`${at}.Namespace is not a string of 1 to 255 characters`)
    const sets = directive.Dimensions
    if (!Array.isArray(sets) || sets.length === 0) problems.push(`${at}.Dimensions is not a non-empty array of DimensionSets`)
    else {
      for (const [s, set] of sets.entries()) {
        if (!Array.isArray(set)) {
          problems.push(`${at}.Dimensions[${s}] is not an array`)
          continue
        }
        if (set.length > MAX_DIMENSIONS) problems.push(`${at}.Dimensions[${s}] has ${set.length} dimension keys, over ${MAX_DIMENSIONS}`)
        for (const key of set) {
          if (!isName(key)) problems.push(`${at}.Dimensions[${s}] holds ${JSON.stringify(key)}, not a string of 1 to 255 characters`)
          else if (!(key in root)) problems.push(`dimension ${key} is not a member of the root`)
          else if (typeof root[key] !== 'string') problems.push(`dimension ${key} is not a string on the root`)
          else if (!isDimensionValue(root[key])) problems.push(`dimension ${key} is not 1 to 1024 printable ASCII characters`)
        }
      }
    }
    const metrics = directive.Metrics
    if (!Array.isArray(metrics)) {
      problems.push(`${at}.Metrics is not an array`)
      continue
    }
    if (metrics.length > MAX_METRICS) problems.push(`${at}.Metrics has ${metrics.length} MetricDefinitions, over ${MAX_METRICS}`)
    for (const [m, metric] of metrics.entries()) {
      if (!isObject(metric)) {
        problems.push(`${at}.Metrics[${m}] is not an object`)
        continue
      }
      const unknown = Object.keys(metric).filter((key) => !['Name', 'Unit', 'StorageResolution'].includes(key))
      if (unknown.length > 0) problems.push(`${at}.Metrics[${m}] has members the specification does not define: ${unknown.join(', ')}`)
      if (metric.Unit !== undefined && (typeof metric.Unit !== 'string' || !EMF_UNITS.has(metric.Unit)))
        problems.push(`${at}.Metrics[${m}].Unit ${JSON.stringify(metric.Unit)} is not a CloudWatch unit`)
      if (metric.StorageResolution !== undefined && metric.StorageResolution !== 1 && metric.StorageResolution !== 60)
        problems.push(`${at}.Metrics[${m}].StorageResolution is neither 1 nor 60`)
      const name = metric.Name
      if (!isName(name)) {
        problems.push(`${at}.Metrics[${m}].Name is not a string of 1 to 255 characters`)
        continue
      }
      const key = name as string
      const value = root[key]
      const values = Array.isArray(value) ? value : [value]
      if (!(key in root)) problems.push(`metric ${name} is not a member of the root`)
      else if (values.length === 0 || !values.every((each) => typeof each === 'number' && Number.isFinite(each)))
        problems.push(`metric ${name} is not a number or an array of numbers`)
      else if (values.length > MAX_VALUES) problems.push(`metric ${name} has ${values.length} values, over ${MAX_VALUES}`)
    }
  }
  return problems
}

/** Whether a console line is meant as an EMF document (it carries `_aws`), valid or not. */
export function isEmfLine(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line)
    return isObject(value) && '_aws' in value
  } catch {
    return false
  }
}

/** Parses a line already checked with emfProblems. */
export function parseEmf(line: string): EmfDocument {
  return JSON.parse(line) as EmfDocument
}

/** A document's metrics as `name: value`, for comparing whole objects in a test. */
export function metricValues(document: EmfDocument): Record<string, number | number[]> {
  const names = document._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name))
  return Object.fromEntries(names.map((name) => [name, document[name] as number | number[]]))
}

/** A document's dimension sets per directive, each resolved to `name: value`. */
export function dimensionValues(document: EmfDocument): Array<Record<string, string>> {
  return document._aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Dimensions.map((set) => Object.fromEntries(set.map((name) => [name, document[name] as string]))),
  )
}
