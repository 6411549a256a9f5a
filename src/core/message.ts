import { ValidationError } from '../errors.js'
import type { DispatchAction } from './types.js'

export type { DispatchAction, Recipient } from './types.js'

/** Options carried in a message's `o` field; Mesa reads `sync` and keeps the rest as given. */
export interface MessageOptions {
  /** Store the message for offline recipients when the Dispatcher's sync is enabled. @default true */
  sync?: boolean
  [key: string]: unknown
}

/** The only actions Mesa 1.5.8 understands, for validating untyped input. */
export const DISPATCH_ACTIONS: readonly DispatchAction[] = ['DISCONNECT_CLIENT']

/**
 * A message for Mesa clients, built exactly like `@cryb/mesa`'s `Message` and validated up front, so that a
 * dispatch fails before any request instead of sending something Mesa cannot read.
 */
export class Message {
  /** The opcode; 0 is an ordinary dispatch. */
  readonly opcode: number
  /** Any JSON value, sent as `d`. */
  readonly data: unknown
  /** The event type, sent as `t`; omitted from the wire when undefined. */
  readonly type: string | undefined
  /** Options with `sync` defaulted to true, as Mesa does; undefined when none were given. */
  readonly options: Readonly<MessageOptions> | undefined
  /** The `{op,d,t[,o]}` JSON, serialized once; these exact bytes are published and stored. */
  readonly json: string

  constructor(opcode: number, data: unknown, type?: string, options?: MessageOptions) {
    if (!Number.isSafeInteger(opcode) || opcode < 0) {
      throw new ValidationError('message.op', `must be a non-negative integer, got ${describe(opcode)}`)
    }
    if (type !== undefined && typeof type !== 'string') {
      throw new ValidationError('message.t', `must be a string, got ${describe(type)}`)
    }
    this.opcode = opcode
    this.data = data
    this.type = type
    this.options = parseOptions(options)
    if (data === undefined || typeof data === 'function' || typeof data === 'symbol') {
      throw new ValidationError('message.d', `must be a JSON value, got ${describe(data)}`)
    }
    // Options were checked on their own, so a failure here can only come from `d`.
    this.json = serialize(this.options === undefined ? { op: opcode, d: data, t: type } : { op: opcode, d: data, t: type, o: this.options }, 'message.d')
  }

  /** Whether Mesa's sync would store this message for an offline recipient. */
  get isStorable(): boolean {
    return this.options?.sync !== false
  }

  /** The wire form, as Mesa's `serialize(true)` returns it. */
  toJSON(): unknown {
    return JSON.parse(this.json)
  }
}

/**
 * An internal Mesa event (op 5) that a server acts on instead of delivering: `DISCONNECT_CLIENT` closes the
 * recipients' sockets with code 1000. Never stored for offline clients.
 */
export class DispatchEvent {
  /** Always 5, Mesa's internal-event opcode. */
  readonly opcode = 5
  /** The `{"op":5,"d":{},"t":action}` JSON that Mesa's DispatchEvent serializes to. */
  readonly json: string

  constructor(readonly action: DispatchAction) {
    if (!DISPATCH_ACTIONS.includes(action)) {
      throw new ValidationError('event', `must be one of ${DISPATCH_ACTIONS.join(', ')}, got ${describe(action)}`)
    }
    this.json = JSON.stringify({ op: 5, d: {}, t: action })
  }

  /** DispatchEvents are never stored for offline clients. */
  get isStorable(): boolean {
    return false
  }

  /** The wire form, as Mesa's `serialize(true)` returns it. */
  toJSON(): unknown {
    return JSON.parse(this.json)
  }
}

/** Anything the Dispatcher can send. */
export type Dispatchable = Message | DispatchEvent

/** Whether a value is a Message or DispatchEvent of this package. */
export function isDispatchable(value: unknown): value is Dispatchable {
  return value instanceof Message || value instanceof DispatchEvent
}

function parseOptions(options: MessageOptions | undefined): Readonly<MessageOptions> | undefined {
  // Mesa tests `if (options)`, so null means "no options" too.
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('message.o', `must be an object, got ${describe(options)}`)
  }
  if (options.sync !== undefined && typeof options.sync !== 'boolean') {
    throw new ValidationError('message.o.sync', `must be a boolean, got ${describe(options.sync)}`)
  }
  // Mesa's parseOptions: a copy, with `sync` defaulting to true.
  const parsed = { ...options }
  if (parsed.sync === undefined) parsed.sync = true
  serialize(parsed, 'message.o')
  return Object.freeze(parsed)
}

function serialize(value: unknown, field: string): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    // BigInt ("Do not know how to serialize a BigInt") and cycles ("Converting circular structure") land here.
    throw new ValidationError(field, `cannot be serialized as JSON: ${(error as Error).message}`, { cause: error })
  }
}

/** A short, safe description of a bad value for an error message: its type, never its content. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : `${value}`
  return `a value of type ${typeof value}`
}
