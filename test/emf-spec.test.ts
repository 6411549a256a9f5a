import { describe, expect, it } from 'vitest'
import { dimensionValues, emfProblems, metricValues, parseEmf } from './support/emf-spec'

// The EMF checker the handler tests rely on must itself accept what the specification allows and refuse what it
// forbids; otherwise a passing metrics test would prove nothing.
const NOW = 1_760_000_000_000

/** The specification's own example, at NOW. */
const example = () => ({
  _aws: {
    Timestamp: NOW,
    CloudWatchMetrics: [{ Namespace: 'lambda-function-metrics', Dimensions: [['functionVersion']], Metrics: [{ Name: 'time', Unit: 'Milliseconds' }] }],
  },
  functionVersion: '$LATEST',
  time: 100,
  requestId: '989ffbf8-9ace-4817-a57c-e4dd734019ee',
})
type Doc = ReturnType<typeof example> & Record<string, unknown>
const directive = (doc: Doc) => doc._aws.CloudWatchMetrics[0]! as Record<string, unknown>
const broken = (change: (doc: Doc) => void) => {
  const doc = example() as Doc
  change(doc)
  return JSON.stringify(doc)
}

describe('the EMF specification checker', () => {
  it("accepts the specification's example, an empty dimension set, unitless metrics and arrays of values", () => {
    expect(emfProblems(JSON.stringify(example()), NOW)).toEqual([])
    const variant = broken((doc) => {
      directive(doc).Dimensions = [[], ['functionVersion']]
      directive(doc).Metrics = [{ Name: 'time' }, { Name: 'samples', Unit: 'Count', StorageResolution: 60 }]
      doc.samples = [1, 2, 3]
    })
    expect(emfProblems(variant, NOW)).toEqual([])
  })

  it('reads the metrics and dimensions of a valid line', () => {
    const doc = parseEmf(JSON.stringify(example()))
    expect([metricValues(doc), dimensionValues(doc)]).toEqual([{ time: 100 }, [{ functionVersion: '$LATEST' }]])
  })

  it.each<[string, string, string]>([
    ['text around the JSON', `INFO ${JSON.stringify(example())}`, 'the line is not one JSON value with nothing before or after it'],
    ['a root that is an array', '[]', 'the root is not a JSON object'],
    ['no _aws', JSON.stringify({ time: 1 }), 'the root has no _aws object'],
    [
      'a Timestamp in seconds',
      broken((doc) => {
        doc._aws.Timestamp = NOW / 1000
      }),
      `_aws.Timestamp ${NOW / 1000} is not milliseconds since the epoch near now`,
    ],
    [
      'a Timestamp as a string',
      broken((doc) => {
        ;(doc._aws as Record<string, unknown>).Timestamp = String(NOW)
      }),
      '_aws.Timestamp is not an integer number',
    ],
    [
      'CloudWatchMetrics that is an object',
      broken((doc) => {
        ;(doc._aws as Record<string, unknown>).CloudWatchMetrics = {}
      }),
      '_aws.CloudWatchMetrics is not an array',
    ],
    [
      'an empty Namespace',
      broken((doc) => {
        directive(doc).Namespace = ''
      }),
      '_aws.CloudWatchMetrics[0].Namespace is not a string of 1 to 255 characters',
    ],
    [
      'Dimensions as a flat array',
      broken((doc) => {
        directive(doc).Dimensions = ['functionVersion']
      }),
      '_aws.CloudWatchMetrics[0].Dimensions[0] is not an array',
    ],
    [
      'no dimension sets at all',
      broken((doc) => {
        directive(doc).Dimensions = []
      }),
      '_aws.CloudWatchMetrics[0].Dimensions is not a non-empty array of DimensionSets',
    ],
    [
      'a dimension missing from the root',
      broken((doc) => {
        delete (doc as Record<string, unknown>).functionVersion
      }),
      'dimension functionVersion is not a member of the root',
    ],
    [
      'a dimension that is a number',
      broken((doc) => {
        ;(doc as Record<string, unknown>).functionVersion = 1
      }),
      'dimension functionVersion is not a string on the root',
    ],
    [
      'a dimension value that is empty',
      broken((doc) => {
        doc.functionVersion = ''
      }),
      'dimension functionVersion is not 1 to 1024 printable ASCII characters',
    ],
    [
      '31 dimension keys in one set',
      broken((doc) => {
        const keys = Array.from({ length: 31 }, (_, i) => `d${i}`)
        for (const key of keys) doc[key] = 'x'
        directive(doc).Dimensions = [keys]
      }),
      '_aws.CloudWatchMetrics[0].Dimensions[0] has 31 dimension keys, over 30',
    ],
    [
      'a metric missing from the root',
      broken((doc) => {
        delete (doc as Record<string, unknown>).time
      }),
      'metric time is not a member of the root',
    ],
    [
      'a metric that is a string',
      broken((doc) => {
        ;(doc as Record<string, unknown>).time = '100'
      }),
      'metric time is not a number or an array of numbers',
    ],
    [
      'a metric nested in an object',
      broken((doc) => {
        ;(doc as Record<string, unknown>).time = { value: 100 }
      }),
      'metric time is not a number or an array of numbers',
    ],
    [
      '101 values in one metric',
      broken((doc) => {
        ;(doc as Record<string, unknown>).time = Array.from({ length: 101 }, () => 1)
      }),
      'metric time has 101 values, over 100',
    ],
    [
      '101 metrics in one directive',
      broken((doc) => {
        const names = Array.from({ length: 101 }, (_, i) => `m${i}`)
        for (const name of names) doc[name] = 1
        directive(doc).Metrics = names.map((Name) => ({ Name, Unit: 'Count' }))
      }),
      '_aws.CloudWatchMetrics[0].Metrics has 101 MetricDefinitions, over 100',
    ],
    [
      'a unit not in the list',
      broken((doc) => {
        directive(doc).Metrics = [{ Name: 'time', Unit: 'Millisecond' }]
      }),
      '_aws.CloudWatchMetrics[0].Metrics[0].Unit "Millisecond" is not a CloudWatch unit',
    ],
    [
      'a member the directive does not define',
      broken((doc) => {
        directive(doc).Dimension = [['functionVersion']]
      }),
      '_aws.CloudWatchMetrics[0] has members the specification does not define: Dimension',
    ],
  ])('refuses %s', (_, line, problem) => {
    expect(emfProblems(line, NOW)).toEqual([problem])
  })

  it('refuses a line over 256 KiB', () => {
    const line = broken((doc) => {
      doc.requestId = 'x'.repeat(256 * 1024)
    })
    expect(emfProblems(line, NOW)).toEqual(['the line is over 262144 bytes'])
  })
})
