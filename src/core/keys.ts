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
  /** Our own dedupe key for a dispatch id; Mesa never reads it. */
  dedupe(id: string): string
  /** Our counter of a rate limit's window: `mesa_dispatch_rate[_<ns>]:<window seconds>:<window>:<name>`; Mesa never reads it. */
  rateCounter(name: string, windowSeconds: number, window: number): string
}

/** Builds Mesa's key and channel names for a namespace; an empty namespace means none, as in Mesa. */
export function createMesaKeys(namespace?: string): MesaKeys {
  if (namespace !== undefined && namespace !== '' && !isNamespace(namespace)) throw new ConfigError('namespace', NAMESPACE_RULE)
  const suffix = namespace ? `_${namespace}` : ''
  const dedupePrefix = `mesa_dispatch_ids${suffix}:`
  return {
    channel: `ws${suffix}`,
    connectedClients: `connected_clients${suffix}`,
    undeliveredMessages: `undelivered_messages${suffix}`,
    backlogs: `mesa_dispatch_backlogs${suffix}`,
    dedupe: (id) => dedupePrefix + id,
    // The name goes last: a namespace may hold ':', a name and two numbers cannot, so no two counters share a key.
    rateCounter: (name, windowSeconds, window) => `mesa_dispatch_rate${suffix}:${windowSeconds}:${window}:${name}`,
  }
}
