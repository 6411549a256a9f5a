import { ConfigError } from '../errors.js'

/**
 * Namespaces are appended to Redis names, so they are limited to characters that cannot collide with Mesa's
 * own `_` separator rules in surprising ways or smuggle spaces into keys. Mesa itself accepts any string.
 */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/

/** What a namespace must be, as a ConfigError says it. */
export const NAMESPACE_RULE = 'must be 1-64 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit'

/** Whether a value may be used as a namespace (NAMESPACE_PATTERN); an empty one means none and needs no check. */
export function isNamespace(value: string): boolean {
  return NAMESPACE_PATTERN.test(value)
}

/** The Redis names one Mesa namespace uses, exactly as Mesa 1.5.8 spells them. */
export interface MesaKeys {
  /** The pub/sub channel every Mesa server subscribes to: `ws` or `ws_<ns>`. */
  readonly channel: string
  /** The set of online client ids: `connected_clients` or `connected_clients_<ns>`. */
  readonly connectedClients: string
  /** The hash of stored messages per offline client: `undelivered_messages` or `undelivered_messages_<ns>`. */
  readonly undeliveredMessages: string
  /** Our index of the offline store, for bounding and expiring it: `mesa_dispatch_backlogs[_<ns>]`; Mesa never reads it. */
  readonly backlogs: string
  /**
   * The key an operation's idempotency key claims: `mesa_dispatch_id:<operation>:<namespace length>:<namespace>:<id>`.
   * The operation and the namespace's length come first, so no choice of namespace and id can name another
   * operation's key, or another namespace's (`p14` + `x:order-17` and `p14:x` + `order-17` differ). Mesa never reads it.
   */
  idempotency(operation: IdempotentOperation, id: string): string
  /** A key of its own for one script call, which keeps the call's reply so a retried call applies nothing twice. */
  callKey(): string
  /** Our counter of a rate limit's window: `mesa_dispatch_rate:<namespace length>:<namespace>:<window seconds>:<window>:<name>`. */
  rateCounter(name: string, windowSeconds: number, window: number): string
}

/** The operations that claim idempotency keys, each in a space of its own. */
export type IdempotentOperation = 'dispatch' | 'clear'

/** Builds Mesa's key and channel names for a namespace; an empty namespace means none, as in Mesa. */
export function createMesaKeys(namespace?: string): MesaKeys {
  if (namespace !== undefined && namespace !== '' && !isNamespace(namespace)) throw new ConfigError('namespace', NAMESPACE_RULE)
  const suffix = namespace ? `_${namespace}` : ''
  // Our own keys carry the namespace by its length, then itself: a namespace may hold ':', and still no two
  // (namespace, rest) pairs spell the same key.
  const scope = `${(namespace ?? '').length}:${namespace ?? ''}`
  return {
    channel: `ws${suffix}`,
    connectedClients: `connected_clients${suffix}`,
    undeliveredMessages: `undelivered_messages${suffix}`,
    backlogs: `mesa_dispatch_backlogs${suffix}`,
    idempotency: (operation, id) => `mesa_dispatch_id:${operation}:${scope}:${id}`,
    callKey: () => `mesa_dispatch_call:${scope}:${crypto.randomUUID()}`,
    // The name goes last, and holds no ':' (rate-limit.ts checks it), nor do the two numbers before it.
    rateCounter: (name, windowSeconds, window) => `mesa_dispatch_rate:${scope}:${windowSeconds}:${window}:${name}`,
  }
}
