import { describe, expect, it } from 'vitest'
import { checkDispatch, type DispatchInput } from '../src/core/dispatch-input'
import { createRequestParser, toDispatchInput } from '../src/core/request'
import { DispatchEvent, Message, ValidationError } from '../src/index'

// The Dispatcher's check of a dispatch's values, the one place they are checked: a library call and a request off
// the wire (an HTTP body, an SQS record, an EventBridge detail) meet the same rules and the same field names.
const parser = createRequestParser()
const MAX_RECIPIENTS = 3
const disconnect = new DispatchEvent('DISCONNECT_CLIENT')

/** What the check says of a JSON request, through the path the HTTP app and the triggers take. */
function checkWire(body: unknown) {
  return outcome(() => checkDispatch(toDispatchInput(parser.parseOne(body)), MAX_RECIPIENTS))
}

function outcome(check: () => unknown): { field: string; message: string } | 'accepted' {
  try {
    check()
    return 'accepted'
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, message: error.message }
    throw error
  }
}

describe('checkDispatch', () => {
  it('returns the targets Mesa would reach, the id and its TTL', () => {
    const note = new Message(0, { n: 1 }, 'NOTE')
    expect(checkDispatch({ event: note, recipients: ['a', 7, 'b'], excluding: ['b'], options: { id: 'order-1', ttlSeconds: 60 } }, MAX_RECIPIENTS)).toEqual({
      event: note,
      targets: ['a', 7],
      excludingIgnored: false,
      id: 'order-1',
      ttlSeconds: 60,
    })
  })

  it("sends to every client by default, and says when an exclusion is ignored because '*' reaches everyone anyway", () => {
    expect(checkDispatch({ event: disconnect, excluding: ['a'] }, MAX_RECIPIENTS)).toEqual({ event: disconnect, targets: ['*'], excludingIgnored: true })
  })

  it.each<[string, unknown, string, string]>([
    [
      'recipients that are a string',
      { event: 'DISCONNECT_CLIENT', recipients: 'a' },
      'recipients',
      'must be an array of strings or numbers, got a value of type string',
    ],
    ['recipients that are null', { event: 'DISCONNECT_CLIENT', recipients: null }, 'recipients', 'must be an array of strings or numbers, got null'],
    ['too many recipients', { event: 'DISCONNECT_CLIENT', recipients: ['a', 'b', 'c', 'd'] }, 'recipients', 'must name at most 3 recipients, got 4'],
    ['a null recipient', { event: 'DISCONNECT_CLIENT', recipients: ['a', null] }, 'recipients[1]', 'must be a string or a finite number, got null'],
    ['an excluded object', { event: 'DISCONNECT_CLIENT', excluding: [{}] }, 'excluding[0]', 'must be a string or a finite number, got a value of type object'],
    ['an empty id', { event: 'DISCONNECT_CLIENT', id: '' }, 'id', 'must be a non-empty string of at most 256 characters'],
    ['a numeric id', { event: 'DISCONNECT_CLIENT', id: 1 }, 'id', 'must be a non-empty string of at most 256 characters'],
    ['an id over 256 characters', { event: 'DISCONNECT_CLIENT', id: 'k'.repeat(257) }, 'id', 'must be a non-empty string of at most 256 characters'],
    ['a lone surrogate in an id', { event: 'DISCONNECT_CLIENT', id: 'order-\ud800' }, 'id', 'must be well-formed UTF-16, without a lone surrogate'],
    [
      'a lone surrogate in a recipient',
      { event: 'DISCONNECT_CLIENT', recipients: ['\udc00'] },
      'recipients[0]',
      'must be well-formed UTF-16, without a lone surrogate',
    ],
  ])('refuses %s off the wire, naming the field', (_, body, field, problem) => {
    expect(checkWire(body)).toEqual({ field, message: `${field} ${problem}` })
  })

  it.each<[string, DispatchInput, string, string]>([
    ['an event that is not a Message or DispatchEvent', { event: { json: '{}' } as never }, 'event', 'must be a Message or DispatchEvent from this package'],
    ['a TTL of 0', { event: disconnect, options: { id: 'k', ttlSeconds: 0 } }, 'ttlSeconds', 'must be a positive integer'],
    ['a fractional TTL', { event: disconnect, options: { id: 'k', ttlSeconds: 1.5 } }, 'ttlSeconds', 'must be a positive integer'],
  ])('refuses %s from a library call, naming the field', (_, input, field, problem) => {
    expect(outcome(() => checkDispatch(input, MAX_RECIPIENTS))).toEqual({ field, message: `${field} ${problem}` })
  })

  it('accepts off the wire exactly what it accepts from a library call', () => {
    expect(checkWire({ event: 'DISCONNECT_CLIENT', recipients: ['a', 2], excluding: [2], id: 'k' })).toBe('accepted')
  })
})
