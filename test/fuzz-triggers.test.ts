import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { EventBridgeInput } from '../functions/eventbridge'
import { type DispatchResult, ValidationError } from '../src/index'
import { eventBridgeEvent, lambdaContext, sqsEvent, sqsRecord } from './support/events'
import { useFuzzStack } from './support/fuzz/harness'
import { parseTriggerPayload } from './support/fuzz/oracle'
import { RUNS } from './support/fuzz/settings'
import { eventBridgeInput, sqsBatch } from './support/fuzz/trigger-arbitraries'

// Property tests of the trigger entry points (SQS and EventBridge) against the real stack: whatever comes in, no
// unhandled rejection, and no publish for input the request parser (the oracle) calls invalid.
const fuzz = useFuzzStack()
let sqsHandler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>
let eventBridgeHandler: (event: EventBridgeInput, context: Context) => Promise<DispatchResult>

beforeAll(async () => {
  // useFuzzStack has set process.env by now, which the functions read when they are first imported.
  ;({ handler: sqsHandler } = await import('../functions/sqs'))
  ;({ handler: eventBridgeHandler } = await import('../functions/eventbridge'))
})

describe('fuzzing the trigger entry points', () => {
  it('reports exactly the invalid SQS records as failures and never publishes them', () =>
    fuzz.assertProperty(RUNS.sqs, ['valid', 'invalid'], (seen) =>
      fc.asyncProperty(sqsBatch, async ({ bodies, fifo }) => {
        const queue = fifo ? 'mesa-dispatch-fuzz.fifo' : 'mesa-dispatch-fuzz'
        const records = bodies.map((body) => sqsRecord(body, { queue }))
        const requests = bodies.map(parseTriggerPayload)
        for (const request of requests) seen.add(request ? 'valid' : 'invalid')
        // A standard queue reports each invalid record; a FIFO queue stops at the first and reports the rest too.
        const firstInvalid = requests.indexOf(undefined)
        const stopped = (i: number) => fifo && firstInvalid >= 0 && i >= firstInvalid
        const failed = records.filter((_, i) => requests[i] === undefined || stopped(i))
        const processed = requests.filter((request, i) => request !== undefined && !stopped(i))
        // Two records with one id and different dispatches: the second is a conflict, and fails (test/script-call.test.ts).
        const ids = processed.flatMap((request) => (request!.id === undefined ? [] : [request!.id]))
        fc.pre(new Set(ids).size === ids.length)
        await fuzz.forgetIds()

        const mark = fuzz.recorder.messages.length
        const response = await sqsHandler(sqsEvent(records), lambdaContext())
        const published = await fuzz.publishedSince(mark)

        // Powertools lists a standard queue's failures as they settle, and SQS reads them as a set: compare in record order.
        const inRecordOrder = (failures: { itemIdentifier: string }[]) =>
          failures.toSorted((a, b) => records.findIndex((r) => r.messageId === a.itemIdentifier) - records.findIndex((r) => r.messageId === b.itemIdentifier))
        expect({ batchItemFailures: inRecordOrder(response.batchItemFailures) }).toEqual({
          batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })),
        })
        // Each payload is the message of a distinct processed valid record, so no invalid record published.
        const unclaimed = processed.map((request) => `{"message":${request!.event.json},"recipients":`)
        for (const payload of published) {
          const claim = unclaimed.findIndex((prefix) => payload.startsWith(prefix))
          expect(claim, `a payload no valid record accounts for: ${payload}`).toBeGreaterThanOrEqual(0)
          unclaimed.splice(claim, 1)
        }
      }),
    ))

  it('rejects invalid EventBridge input with a ValidationError, publishing nothing, and resolves valid input', () =>
    fuzz.assertProperty(RUNS.eventBridge, ['valid', 'invalid'], (seen) =>
      fc.asyncProperty(eventBridgeInput, async ({ envelope, value }) => {
        const event = (envelope ? eventBridgeEvent(value) : value) as EventBridgeInput
        const valid = parseTriggerPayload(value) !== undefined
        seen.add(valid ? 'valid' : 'invalid')
        await fuzz.forgetIds()

        const mark = fuzz.recorder.messages.length
        const outcome = await eventBridgeHandler(event, lambdaContext()).then(
          (result) => ({ resolved: result }),
          (error: unknown) => ({ rejected: error }),
        )
        const published = await fuzz.publishedSince(mark)

        if (valid) {
          expect(outcome).toEqual({ resolved: expect.objectContaining({ servers: expect.any(Number) }) })
        } else {
          expect(outcome).toEqual({ rejected: expect.any(ValidationError) })
          expect(published).toEqual([])
        }
      }),
    ))
})
