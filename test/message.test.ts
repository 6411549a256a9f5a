import { describe, expect, it } from 'vitest'
import { DispatchEvent, Message, ValidationError } from '../src/index'
import { DispatchEvent as MesaDispatchEvent, Message as MesaMessage } from './support/mesa-dispatcher'

/** Mesa's own wire form of a message, as its Dispatcher publishes and stores it. */
function mesaWire(message: InstanceType<typeof MesaMessage> | InstanceType<typeof MesaDispatchEvent>): string {
  return JSON.stringify(message.serialize(true))
}

function validationErrorOf(build: () => unknown): ValidationError {
  try {
    build()
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('Message', () => {
  it.each([
    ['data and type', [0, { status: 'online' }, 'STATUS_UPDATE']],
    ['no type', [0, { a: 1 }]],
    ['options without sync', [0, { a: 1 }, 'T', {}]],
    ['sync false', [0, [], 'T', { sync: false }]],
    ['extra options', [3, 'text', 'T', { sync: true, extra: [1, 2] }]],
    ['tricky payload', [0, { f: 0.30000000000000004, e: [], o: {}, n: null, u: 'é😀\u2028"\\' }, 'T']],
  ] as const)('serializes exactly like Mesa with %s', (_, args) => {
    const ours = new Message(...(args as unknown as ConstructorParameters<typeof Message>))
    const theirs = new MesaMessage(...(args as unknown as ConstructorParameters<typeof MesaMessage>))
    expect(ours.json).toBe(mesaWire(theirs))
    expect(ours.toJSON()).toEqual(theirs.serialize(true))
  })

  it('defaults sync to true when options are given without it, as Mesa does', () => {
    expect(new Message(0, 1, 'T', {}).options).toEqual({ sync: true })
    expect(new Message(0, 1, 'T').options).toBeUndefined()
  })

  it('is storable unless its options say sync: false', () => {
    expect([new Message(0, 1).isStorable, new Message(0, 1, 'T', { sync: false }).isStorable]).toEqual([true, false])
  })

  it.each([
    ['a negative op', () => new Message(-1, {}), 'message.op'],
    ['a fractional op', () => new Message(1.5, {}), 'message.op'],
    ['a string op', () => new Message('0' as unknown as number, {}), 'message.op'],
    ['a numeric type', () => new Message(0, {}, 7 as unknown as string), 'message.t'],
    ['undefined data', () => new Message(0, undefined), 'message.d'],
    ['a function as data', () => new Message(0, () => 1), 'message.d'],
    ['a BigInt in the data', () => new Message(0, { n: 10n }), 'message.d'],
    [
      'circular data',
      () => {
        const a: Record<string, unknown> = {}
        a.self = a
        return new Message(0, a)
      },
      'message.d',
    ],
    ['options that are an array', () => new Message(0, {}, 'T', [] as never), 'message.o'],
    ['a sync option that is not a boolean', () => new Message(0, {}, 'T', { sync: 'yes' as never }), 'message.o.sync'],
    ['a BigInt in the options', () => new Message(0, {}, 'T', { extra: 1n }), 'message.o'],
  ])('refuses %s with a ValidationError naming the field', (_, build, field) => {
    const error = validationErrorOf(build)
    expect({ name: error.name, field: error.field }).toEqual({ name: 'ValidationError', field })
  })
})

describe('DispatchEvent', () => {
  it('serializes DISCONNECT_CLIENT exactly like Mesa', () => {
    const ours = new DispatchEvent('DISCONNECT_CLIENT')
    expect({ json: ours.json, opcode: ours.opcode, storable: ours.isStorable }).toEqual({
      json: mesaWire(new MesaDispatchEvent('DISCONNECT_CLIENT')),
      opcode: 5,
      storable: false,
    })
  })

  it('refuses an action Mesa does not know', () => {
    expect(validationErrorOf(() => new DispatchEvent('REBOOT' as never)).field).toBe('event')
  })
})
