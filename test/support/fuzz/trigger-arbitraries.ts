import fc from 'fast-check'
import { anyJson, anyText, loneSurrogate, nestedArrays, toJsonText } from './json-arbitraries'
import { singleRequestText } from './request-arbitraries'

// SQS records and EventBridge events: one request each, with no body size limit in front of them.

/** A request whose `d` nests too deep to serialize again, for sources without a body size limit. */
const tooDeepRequestText = nestedArrays(50_000, 80_000).map((d) => toJsonText({ message: { d }, recipients: ['alice'] }))

/** SQS record bodies: request JSON, JSON of anything, any string, and request JSON with characters spliced in. */
const sqsBody = fc.oneof(
  { weight: 12, arbitrary: singleRequestText },
  { weight: 1, arbitrary: tooDeepRequestText },
  { weight: 2, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: anyText },
  {
    weight: 2,
    arbitrary: fc
      .tuple(singleRequestText, fc.nat(), fc.oneof(loneSurrogate, fc.constantFrom('\ufffd', '\u0000', '\ufeff', '"', '\\', '}')))
      .map(([text, at, char]) => text.slice(0, at % (text.length + 1)) + char + text.slice(at % (text.length + 1))),
  },
)
/** One SQS batch: one to six record bodies, from a standard or a FIFO queue. */
export const sqsBatch = fc.record({ bodies: fc.array(sqsBody, { minLength: 1, maxLength: 6 }), fifo: fc.boolean() })

/** What EventBridge hands the function: an envelope with `detail`, or a schedule's `input` as the event itself. */
export const eventBridgeInput = fc.record({
  envelope: fc.boolean(),
  value: fc
    .oneof(
      { weight: 12, arbitrary: singleRequestText },
      { weight: 1, arbitrary: tooDeepRequestText },
      { weight: 2, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.constantFrom('null', '[]', '0', '""', 'true') },
    )
    // As the Lambda runtime hands it over: the event's JSON text, parsed.
    .map((text) => JSON.parse(text) as unknown),
})
