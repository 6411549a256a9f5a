import { describe, expect, it } from 'vitest'
import { createRequestParser } from '../src/core/request'
import { ConfigError, ValidationError } from '../src/index'

// The request parser turns untrusted JSON into dispatch requests: every rule of the wire's shape, with the field it
// names. Recipients and ids it hands on as they came, for the Dispatcher's own check (test/dispatch-input.test.ts).
const parser = createRequestParser({ maxBatch: 2 })

function refusal(parse: () => unknown): { field: string; message: string } {
  try {
    parse()
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, message: error.message }
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('parseBody', () => {
  it('parses one dispatch with every field, and fills in Mesa defaults', () => {
    const { batch, requests } = parser.parseBody({ message: { d: { a: 1 }, t: 'T', o: {} }, recipients: ['a', 7], excluding: ['b'], id: 'k' })
    expect({ batch, requests: requests.map(({ event, ...rest }) => ({ event: event.json, ...rest })) }).toEqual({
      batch: false,
      requests: [{ event: '{"op":0,"d":{"a":1},"t":"T","o":{"sync":true}}', recipients: ['a', 7], excluding: ['b'], id: 'k' }],
    })
  })

  it('parses a batch in order, events included', () => {
    const { batch, requests } = parser.parseBody({ dispatches: [{ event: 'DISCONNECT_CLIENT', recipients: ['x'] }, { message: { op: 3, d: null } }] })
    expect({ batch, events: requests.map((request) => request.event.json) }).toEqual({
      batch: true,
      events: ['{"op":5,"d":{},"t":"DISCONNECT_CLIENT"}', '{"op":3,"d":null}'],
    })
  })

  it('hands recipients, exclusions and ids on as they came, null included, and leaves absent ones absent', () => {
    const { requests } = parser.parseBody({
      dispatches: [{ event: 'DISCONNECT_CLIENT', recipients: null, excluding: 'x', id: 7 }, { event: 'DISCONNECT_CLIENT' }],
    })
    expect(requests.map(({ event, ...rest }) => rest)).toEqual([{ recipients: null, excluding: 'x', id: 7 }, {}])
  })

  it.each<[string, unknown, string, string]>([
    ['a body that is not an object', 'text', 'body', 'must be a JSON object'],
    ['an array body', [], 'body', 'must be a JSON object'],
    ['neither message nor event', {}, 'body', 'needs exactly one of message or event'],
    ['both message and event', { message: { d: 1 }, event: 'DISCONNECT_CLIENT' }, 'body', 'needs exactly one of message or event'],
    ['an unknown field', { message: { d: 1 }, recipient: [] }, 'recipient', 'is not a known field'],
    ['a __proto__ key', JSON.parse('{"message":{"d":1},"__proto__":{}}'), '__proto__', 'is not a known field'],
    ['a message that is an array', { message: [] }, 'message', 'must be an object'],
    ['a message without d', { message: { t: 'T' } }, 'message.d', 'is required'],
    ['a null op', { message: { op: null, d: 1 } }, 'message.op', 'must be a non-negative integer, got null'],
    ['an op beyond safe integers', { message: { op: 2 ** 53, d: 1 } }, 'message.op', `must be a non-negative integer, got the number ${2 ** 53}`],
    ['a type that is a number', { message: { d: 1, t: 5 } }, 'message.t', 'must be a string, got the number 5'],
    ['a type over 256 characters', { message: { d: 1, t: 'x'.repeat(257) } }, 'message.t', 'must be at most 256 characters'],
    ['options that are null', { message: { d: 1, o: null } }, 'message.o', 'must be an object'],
    ['an unknown option', { message: { d: 1, o: { ttl: 5 } } }, 'message.o.ttl', 'is not a known field'],
    ['a sync option that is a string', { message: { d: 1, o: { sync: 'no' } } }, 'message.o.sync', 'must be a boolean, got a value of type string'],
    ['an unknown event', { event: 'REBOOT' }, 'event', 'must be one of DISCONNECT_CLIENT, got a value of type string'],
    ['a batch that is not an array', { dispatches: {} }, 'dispatches', 'must be an array of dispatches'],
    ['an empty batch', { dispatches: [] }, 'dispatches', 'must not be empty'],
    [
      'a batch over its limit',
      { dispatches: [{ event: 'DISCONNECT_CLIENT' }, { event: 'DISCONNECT_CLIENT' }, { event: 'DISCONNECT_CLIENT' }] },
      'dispatches',
      'must hold at most 2 dispatches',
    ],
    ['a batch with a stray field', { dispatches: [{ event: 'DISCONNECT_CLIENT' }], id: 'x' }, 'id', 'is not a known field'],
    ['a batch item that is not an object', { dispatches: [{ event: 'DISCONNECT_CLIENT' }, 7] }, 'dispatches[1]', 'must be a JSON object'],
    [
      'a bad op inside a batch item',
      { dispatches: [{ message: { op: -1, d: 1 } }] },
      'dispatches[0].message.op',
      'must be a non-negative integer, got the number -1',
    ],
    [
      'a bad event inside a batch item',
      { dispatches: [{ event: 'X' }] },
      'dispatches[0].event',
      'must be one of DISCONNECT_CLIENT, got a value of type string',
    ],
  ])('refuses %s, naming the field', (_, body, field, problem) => {
    expect(refusal(() => parser.parseBody(body))).toEqual({ field, message: `${field} ${problem}` })
  })
})

describe('createRequestParser', () => {
  it('refuses a batch limit over 1000, past which an item id suffix :<index> would outgrow its room', () => {
    const refused = (() => {
      try {
        return createRequestParser({ maxBatch: 1001 })
      } catch (error) {
        return error instanceof ConfigError ? { variable: error.variable, message: error.message } : error
      }
    })()
    expect(refused).toEqual({ variable: 'maxBatch', message: 'maxBatch must be at most 1000' })
  })
})

describe('parseOne', () => {
  it('refuses a batch where exactly one dispatch is expected', () => {
    expect(refusal(() => parser.parseOne({ dispatches: [{ event: 'DISCONNECT_CLIENT' }] }))).toEqual({
      field: 'dispatches',
      message: 'dispatches is not a known field',
    })
  })
})
