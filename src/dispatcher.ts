import type { Redis } from '@upstash/redis'
import { readDispatcherEnv, type Env } from './config'
import { ConfigError, ValidationError } from './errors'
import { createMesaKeys, type MesaKeys } from './keys'
import { DispatchEvent, isDispatchable, type Dispatchable, type Recipient } from './message'
import { applyExcluding, assertRecipients, assertWellFormed, DEFAULT_MAX_RECIPIENTS } from './recipients'
import type { RestConnection } from './rest-transport'
import { duplicateResult, shapeResult, type DispatchResult } from './result'
import { createCallBatcher, type CallBatcher } from './call-batcher'
import { packDispatch, type ScriptOutcome, type ScriptPart } from './script-protocol'
import { createRestRunner, type ScriptRunner } from './script-runner'
import { createTcpRunner, isRedisUrl } from '#tcp-transport'

/** The Dispatcher's settings; `namespace` and `sync` mean exactly what they mean in Mesa. */
export interface DispatcherConfig {
  /** The Mesa server's namespace, appended to every key and channel as `_<ns>`. @default undefined (none) */
  namespace?: string
  /** Message sync: check who is online and store messages for the others. @default { enabled: false } */
  sync?: { enabled: boolean }
  /** How long a dispatch id is remembered, so a redelivered dispatch is applied once. @default 86400 */
  dedupeTtlSeconds?: number
  /** The most recipients one dispatch may name. @default 10000 */
  maxRecipients?: number
}

/** Per-dispatch options. */
export interface DispatchOptions {
  /** An idempotency key: a second dispatch with the same id inside the dedupe window does nothing. */
  id?: string
  /** How long this dispatch's id is remembered, when it needs no full dedupe window. @default dedupeTtlSeconds */
  ttlSeconds?: number
}

/** The longest dispatch id accepted, to keep dedupe keys small. @default 256 */
export const MAX_DISPATCH_ID_LENGTH = 256

/** One dispatch packed for the script, with what is needed to read its reply. */
export interface PreparedDispatch {
  readonly part: ScriptPart
  readonly recipients: Recipient[]
  readonly checked: boolean
  readonly excludingIgnored: boolean
}

/**
 * Where a Dispatcher sends its script: an Upstash REST endpoint (`{ url, token }`), an existing `Redis` from
 * `@upstash/redis`, or a `redis://` / `rediss://` URL for a TCP connection through the optional ioredis.
 */
export type RedisTarget = RestConnection | Redis | string

/**
 * Mesa's Dispatcher for serverless: the same channel, payload and sync semantics as `@cryb/mesa@1.5.8`, over
 * Redis's HTTP API (or TCP), where every dispatch is awaitable and costs one round trip whatever the number of
 * recipients.
 */
export class Dispatcher {
  /** Mesa's key and channel names for the configured namespace. */
  readonly keys: MesaKeys
  private readonly sync: boolean
  private readonly dedupeTtlSeconds: number
  private readonly maxRecipients: number
  private readonly runner: ScriptRunner
  private readonly batcher: CallBatcher

  constructor(redis: RedisTarget, config: DispatcherConfig = {}) {
    this.keys = createMesaKeys(config.namespace)
    this.sync = config.sync?.enabled === true
    this.dedupeTtlSeconds = positiveInteger(config.dedupeTtlSeconds ?? 86_400, 'dedupeTtlSeconds')
    this.maxRecipients = positiveInteger(config.maxRecipients ?? DEFAULT_MAX_RECIPIENTS, 'maxRecipients')
    this.runner = isRedisUrl(redis) ? createTcpRunner(redis) : typeof redis === 'string' ? invalidTarget() : createRestRunner(redis)
    this.batcher = createCallBatcher(this.runner, () => this.keys.dedupe(`call:${crypto.randomUUID()}`))
  }

  /**
   * Builds a Dispatcher from an env object (`process.env`, or edge bindings): `UPSTASH_REDIS_REST_URL`,
   * `UPSTASH_REDIS_REST_TOKEN`, `MESA_NAMESPACE`, `MESA_SYNC` and the tuning variables of `readDispatcherEnv`.
   */
  static fromEnv(env: Env): Dispatcher {
    const { connection, config } = readDispatcherEnv(env)
    return new Dispatcher(connection, config)
  }

  /**
   * Sends a message or event to `recipients` (every client with `['*']`) minus `excluding`. Resolves once Redis
   * has applied all of it, in one atomic script call; rejects with a typed error, having done nothing, when the
   * input is invalid, and with a RedisUnavailableError or RedisCommandError when Redis fails.
   */
  async dispatch(
    event: Dispatchable,
    recipients: Recipient[] = ['*'],
    excluding?: Recipient[],
    options: DispatchOptions = {},
  ): Promise<DispatchResult> {
    return this.execute(this.prepare(event, recipients, excluding, options))
  }

  /**
   * Runs a prepared dispatch. Dispatches executed in the same tick share one script call, so a batch validates
   * everything with `prepare` first and then sends it all in one round trip; each still succeeds or fails alone.
   */
  async execute(prepared: PreparedDispatch): Promise<DispatchResult> {
    return this.readOutcome(prepared, await this.batcher.send(prepared.part))
  }

  /**
   * Waits for the dispatches already issued, then closes the TCP connection of a `redis://` Dispatcher, so the
   * process can exit; over HTTP there is nothing to close.
   */
  async close(): Promise<void> {
    await this.batcher.drain()
    await this.runner.close()
  }

  /** Validates and packs one dispatch without sending it; throws a ValidationError naming the bad field. */
  prepare(event: Dispatchable, recipients: Recipient[], excluding: Recipient[] | undefined, options: DispatchOptions): PreparedDispatch {
    if (!isDispatchable(event)) {
      throw new ValidationError('event', 'must be a Message or DispatchEvent from this package')
    }
    const named = assertRecipients(recipients, 'recipients', this.maxRecipients)
    const excluded = excluding === undefined ? undefined : assertRecipients(excluding, 'excluding', this.maxRecipients)
    const id = options.id
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_DISPATCH_ID_LENGTH)) {
      throw new ValidationError('id', `must be a non-empty string of at most ${MAX_DISPATCH_ID_LENGTH} characters`)
    }
    if (id !== undefined) assertWellFormed(id, 'id')
    const ttl = options.ttlSeconds
    if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new ValidationError('ttlSeconds', 'must be a positive integer')
    const targets = applyExcluding(named, excluded)
    const checked = this.sync && !(event instanceof DispatchEvent)
    const part = packDispatch({
      keys: this.keys,
      event,
      recipients: targets,
      checkOnline: checked,
      // Without an id, the call's own key is what makes the transport's retries safe.
      ...(id === undefined ? {} : { dedupe: { key: this.keys.dedupe(id), ttlSeconds: ttl ?? this.dedupeTtlSeconds } }),
    })
    const excludingIgnored = (excluded?.length ?? 0) > 0 && targets.includes('*')
    return { part, recipients: targets, checked, excludingIgnored }
  }

  private readOutcome(prepared: PreparedDispatch, outcome: ScriptOutcome): DispatchResult {
    // Only a caller's id can be found applied already: this call then did nothing.
    if (outcome.duplicate) return duplicateResult(prepared.excludingIgnored)
    return shapeResult(prepared.recipients, outcome, prepared.checked, prepared.excludingIgnored)
  }
}

function invalidTarget(): never {
  throw new ConfigError('redis', 'must be { url, token } for an Upstash REST endpoint, a Redis from @upstash/redis, or a redis:// URL')
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(name, 'must be a positive integer')
  return value
}
