import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UnexpectedEventError } from '../src/errors'
import { assertEventShape, describeEvent } from '../src/triggers/event-shape'
import { eventBridgeEvent, httpApiEvent, sqsEvent, sqsRecord } from './support/events'
import { ROOT } from './support/serverless-cli'

// Each Lambda function checks the shape of its event before reading it, so that a wrong one (another function's
// sample under `serverless invoke local -p`, a record missing a field) is named, not a TypeError from deep inside.

const sample = (name: string): unknown => JSON.parse(readFileSync(join(ROOT, 'events', `${name}.json`), 'utf8'))

/** The message a function fails with, or 'accepted'. */
function verdict(fn: Parameters<typeof assertEventShape>[0], event: unknown): string {
  try {
    assertEventShape(fn, event)
    return 'accepted'
  } catch (error) {
    if (!(error instanceof UnexpectedEventError)) throw error
    return error.message
  }
}

describe('the sqs function', () => {
  it('takes the SQS sample, and names what it got instead of Records[]', () => {
    expect({
      sqs: verdict('sqs', sample('sqs')),
      eventbridge: verdict('sqs', sample('eventbridge')),
      schedule: verdict('sqs', sample('schedule')),
      http: verdict('sqs', sample('http-api-v2')),
      nothing: verdict('sqs', undefined),
    }).toEqual({
      sqs: 'accepted',
      eventbridge:
        'the sqs function got no Records[]: is this an SQS event? It is an EventBridge event (detail-type "mesa.dispatch"), which the eventbridge function takes',
      schedule: 'the sqs function got no Records[]: is this an SQS event? It is an object with message, recipients',
      http: 'the sqs function got no Records[]: is this an SQS event? It is an HTTP event (API Gateway or a Function URL), which the http function takes',
      nothing: 'the sqs function got no Records[]: is this an SQS event? It is undefined',
    })
  })

  it('names the record and the field it lacks', () => {
    const { eventSourceARN: _, ...withoutArn } = sqsRecord('{}')
    expect(verdict('sqs', { Records: [sqsRecord('{}'), withoutArn] })).toBe(
      'the sqs function got Records[1] without eventSourceARN: is this an SQS event? Each record has messageId, body, eventSourceARN',
    )
  })
})

describe('the eventbridge function', () => {
  it('takes its samples and any schedule input, and refuses another trigger’s event', () => {
    expect({
      eventbridge: verdict('eventbridge', sample('eventbridge')),
      schedule: verdict('eventbridge', sample('schedule')),
      scheduleInputNull: verdict('eventbridge', null),
      sqs: verdict('eventbridge', sample('sqs')),
      http: verdict('eventbridge', httpApiEvent({ method: 'POST', path: '/dispatch' })),
      envelopeWithoutDetail: verdict('eventbridge', { 'detail-type': 'mesa.dispatch', source: 'app' }),
    }).toEqual({
      eventbridge: 'accepted',
      schedule: 'accepted',
      scheduleInputNull: 'accepted',
      sqs: "the eventbridge function got an SQS event (Records[]), which the sqs function takes: is this an EventBridge event or a schedule's input?",
      http: "the eventbridge function got an HTTP event (API Gateway or a Function URL), which the http function takes: is this an EventBridge event or a schedule's input?",
      envelopeWithoutDetail:
        'the eventbridge function got an EventBridge event without its id or detail: is this an EventBridge event? It needs detail-type, id and detail',
    })
  })
})

describe('the cleanup function', () => {
  it('takes its Scheduled Event or nothing, and refuses a dispatch meant for another function', () => {
    expect({
      scheduled: verdict('cleanup', sample('cleanup')),
      empty: verdict('cleanup', {}),
      sqs: verdict('cleanup', sqsEvent([sqsRecord('{}')])),
      eventbridge: verdict('cleanup', eventBridgeEvent({})),
    }).toEqual({
      scheduled: 'accepted',
      empty: 'accepted',
      sqs: 'the cleanup function got an SQS event (Records[]), which the sqs function takes: it runs on its schedule and takes a Scheduled Event (or {})',
      eventbridge:
        'the cleanup function got an EventBridge event (detail-type "mesa.dispatch"), which the eventbridge function takes: it runs on its schedule and takes a Scheduled Event (or {})',
    })
  })
})

describe('an event described in a message', () => {
  it('shows its keys, at most five, never a value', () => {
    expect(describeEvent({ a: 'secret', b: 1, c: 2, d: 3, e: 4, f: 5 })).toBe('an object with a, b, c, d, e, …')
    expect([describeEvent([]), describeEvent('text'), describeEvent({})]).toEqual(['an array', 'a string', 'an empty object'])
  })
})
