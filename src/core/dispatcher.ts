import { type Env, readDispatcherEnv } from '../config.js'
import { IncompleteDispatchError, PayloadTooLargeError, RedisError, ValidationError } from '../errors.js'
import { CALL_KEY_TTL_SECONDS, MAX_CHECKS_PER_CALL, MAX_DISPATCHES_PER_CALL } from '../limits.js'
import { type CallBatcher, createCallBatcher } from '../script/call-batcher.js'
import { callHead, packDispatch, type ScriptOutcome, type ScriptPart } from '../script/protocol.js'
import { DISPATCH_SCRIPT } from '../script/scripts.js'
import type { ScriptRunner } from '../transport/runner.js'
import { clearBacklog, readBacklog } from './backlog.js'
import { type CleanupOptions, type CleanupResult, cleanupBacklogs } from './backlog-cleanup.js'
import { checkDispatch, type DispatchInput } from './dispatch-input.js'
import { createRunner, type DispatcherLimits, type RedisTarget, readSettings } from './dispatcher-setup.js'
import { createMesaKeys, type MesaKeys } from './keys.js'
import { type Dispatchable, DispatchEvent } from './message.js'
import { checkPresence, countConnected } from './presence.js'
import type { QuestionContext } from './question.js'
import { addPart, emptyResult, finishResult } from './result.js'
import type { BacklogResult, ClearBacklogResult, DispatcherConfig, DispatchOptions, DispatchResult, PresenceResult, Recipient } from './types.js'

/** One dispatch validated and packed for the script, with what is needed to read its reply. */
interface PreparedDispatch {
  readonly event: Dispatchable
  readonly part: ScriptPart
  readonly recipients: Recipient[]
  readonly checked: boolean
  readonly excludingIgnored: boolean
  readonly dedupe?: { readonly key: string; readonly ttlSeconds: number }
}

export type { RedisTarget }

/**
 * The dispatching half of the Dispatcher, without its questions and cleanup: what the SQS and EventBridge
 * functions build, so that their bundles carry neither the code nor the Lua of what they never ask.
 */
export class DispatchCore {
  /** Mesa's key and channel names for the configured namespace. */
  readonly keys: MesaKeys
  /** The offline store's caps and the write budget of one script call. */
  readonly limits: DispatcherLimits
  private readonly sync: boolean
  private readonly dedupeTtlSeconds: number
  private readonly maxRecipients: number
  protected readonly runner: ScriptRunner
  private readonly batcher: CallBatcher
  /** What the questions (presence, backlogs) need: each is one script call of its own, never batched. */
  protected readonly questions: QuestionContext
  /** What the call's own keys and arguments add to every request, for the request-size check. */
  private readonly headBytes: number

  constructor(redis: RedisTarget, config: DispatcherConfig = {}) {
    this.keys = createMesaKeys(config.namespace)
    const settings = readSettings(config)
    this.sync = settings.sync
    this.dedupeTtlSeconds = settings.dedupeTtlSeconds
    this.maxRecipients = settings.maxRecipients
    this.limits = settings.limits
    this.runner = createRunner(redis)
    const newHead = () => callHead(this.keys, this.keys.dedupe(`call:${crypto.randomUUID()}`), CALL_KEY_TTL_SECONDS, this.limits, Date.now())
    this.headBytes = newHead().bytes
    this.batcher = createCallBatcher((keys, args) => this.runner.run(DISPATCH_SCRIPT, keys, args), newHead, {
      dispatches: MAX_DISPATCHES_PER_CALL,
      checks: MAX_CHECKS_PER_CALL,
      requestBytes: this.limits.maxRequestBytes,
    })
    const { maxRecipients, dedupeTtlSeconds } = settings
    this.questions = { runner: this.runner, keys: this.keys, maxRecipients, maxRequestBytes: this.limits.maxRequestBytes, dedupeTtlSeconds }
  }

  /**
   * Sends a message or event to `recipients` (every client with `['*']`) minus `excluding`. Resolves once Redis
   * has applied all of it, in one atomic script call (or, when its stores would write more than `maxWriteBytes`,
   * in consecutive parts, each atomic); rejects with a typed error, having done nothing, when the input is
   * invalid, and with a RedisUnavailableError or RedisCommandError when Redis fails.
   */
  async dispatch(event: Dispatchable, recipients: Recipient[] = ['*'], excluding?: Recipient[], options: DispatchOptions = {}): Promise<DispatchResult> {
    return this.execute(this.prepare({ event, recipients, ...(excluding === undefined ? {} : { excluding }), options }))
  }

  /**
   * Sends several dispatches in one round trip (one script call, as many as fit). Every one is validated before
   * anything is sent: a bad one throws a ValidationError naming it, e.g. `dispatches[2].recipients[0]`. Then it
   * resolves with one settled outcome per dispatch, in order, since each succeeds or fails alone.
   */
  async dispatchMany(dispatches: DispatchInput[]): Promise<PromiseSettledResult<DispatchResult>[]> {
    if (!Array.isArray(dispatches)) throw new ValidationError('dispatches', 'must be an array of dispatches')
    const prepared = dispatches.map((input, index) => {
      try {
        return this.prepare(input)
      } catch (error) {
        throw error instanceof ValidationError ? error.relocated(`dispatches[${index}].${error.field}`) : error
      }
    })
    return Promise.allSettled(prepared.map((each) => this.execute(each)))
  }

  /** Runs a prepared dispatch; those executed in the same tick share one script call, each succeeding or failing alone. */
  private async execute(prepared: PreparedDispatch): Promise<DispatchResult> {
    const result = emptyResult(prepared.checked, prepared.excludingIgnored)
    let { part, recipients } = prepared
    let parts = 1
    let resend = false
    for (;;) {
      let outcome: ScriptOutcome
      try {
        outcome = await this.batcher.send(part, { first: resend })
      } catch (error) {
        if (parts === 1 || !(error instanceof RedisError)) throw error
        throw new IncompleteDispatchError(finishResult(result), recipients, { cause: error })
      }
      resend = true
      if (outcome.kind === 'deferred') continue
      let processed: number | undefined
      if (outcome.kind === 'applied') {
        addPart(result, recipients, outcome, prepared.checked)
        processed = outcome.states.length < recipients.length ? outcome.states.length : undefined
      } else {
        processed = outcome.processed
      }
      if (processed === undefined || !prepared.checked) return finishResult(result)
      // The call's write budget ran out: the rest goes as the next part, under a dedupe key of its own, and
      // without the ids that an earlier part already reached.
      const reached = new Set(recipients.slice(0, processed))
      recipients = recipients.slice(processed).filter((recipient) => !reached.has(recipient))
      parts += 1
      if (recipients.length === 0) return finishResult(result)
      part = packDispatch({
        event: prepared.event,
        recipients,
        checkOnline: true,
        ...(prepared.dedupe ? { dedupe: { key: `${prepared.dedupe.key}#${parts}`, ttlSeconds: prepared.dedupe.ttlSeconds } } : {}),
      })
    }
  }

  /**
   * Waits for the dispatches already issued, then closes the TCP connection of a `redis://` Dispatcher, so the
   * process can exit; over HTTP there is nothing to close, and a handed-in ioredis client is left open for its
   * owner. It resolves even when the connection never opened (ioredis missing, Redis unreachable): the
   * dispatches that needed it were rejected with the reason.
   */
  async close(): Promise<void> {
    await this.batcher.drain()
    await this.runner.close()
  }

  /** Checks and packs one dispatch without sending it; throws a ValidationError naming the bad field. */
  private prepare(input: DispatchInput): PreparedDispatch {
    const { event, targets, excludingIgnored, id, ttlSeconds } = checkDispatch(input, this.maxRecipients)
    const checked = this.sync && !(event instanceof DispatchEvent)
    // Without an id, the call's own key is what makes the transport's retries safe.
    const dedupe = id === undefined ? undefined : { key: this.keys.dedupe(id), ttlSeconds: ttlSeconds ?? this.dedupeTtlSeconds }
    const part = packDispatch({ event, recipients: targets, checkOnline: checked, ...(dedupe ? { dedupe } : {}) })
    const bytes = this.headBytes + part.bytes
    if (bytes > this.limits.maxRequestBytes) {
      throw new PayloadTooLargeError(
        this.limits.maxRequestBytes,
        `the dispatch needs a Redis request of ${bytes} bytes, over MAX_REQUEST_BYTES (${this.limits.maxRequestBytes}): send a smaller message or fewer recipients`,
      )
    }
    return { event, part, recipients: targets, checked, excludingIgnored, ...(dedupe ? { dedupe } : {}) }
  }
}

/**
 * Mesa's Dispatcher for serverless: the same channel, payload and sync semantics as `@cryb/mesa@1.5.8`, over
 * Redis's HTTP API (or TCP), where every dispatch is awaitable and costs one round trip whatever the number of
 * recipients, and the offline store stays within its caps.
 */
export class Dispatcher extends DispatchCore {
  /**
   * Builds a Dispatcher from an env object (`process.env`, or edge bindings): `UPSTASH_REDIS_REST_URL`,
   * `UPSTASH_REDIS_REST_TOKEN`, `MESA_NAMESPACE`, `MESA_SYNC` and the tuning variables of `readDispatcherEnv`.
   */
  static fromEnv(env: Env): Dispatcher {
    const { connection, config } = readDispatcherEnv(env)
    return new Dispatcher(connection, config)
  }

  /**
   * Removes the backlogs whose newest message is older than `sync.maxAgeSeconds`, in short steps; the deployed
   * `cleanup` function runs it on a schedule, and a long-lived server can run it on a timer.
   */
  cleanupBacklogs(options?: CleanupOptions): Promise<CleanupResult> {
    return cleanupBacklogs(this.runner, this.keys, this.limits.maxAgeSeconds, options)
  }

  /** Which of `recipients` are in Mesa's online set, in one round trip, each answered as given and in order (see presence.ts). */
  presence(recipients: Recipient[], options?: DispatchOptions): Promise<PresenceResult> {
    return checkPresence(this.questions, recipients, options)
  }

  /** How many client ids Mesa's online set holds (logged in on any server), in one round trip. */
  connectedCount(): Promise<number> {
    return countConnected(this.questions)
  }

  /** What waits for `recipient` in the offline store, in one round trip: the messages as Mesa would redeliver them, without `s`. */
  backlog(recipient: Recipient): Promise<BacklogResult> {
    return readBacklog(this.questions, recipient)
  }

  /** Removes the stored messages of `recipients` in one atomic round trip, and says how many each held (see backlog.ts). */
  clearBacklog(recipients: Recipient[], options?: DispatchOptions): Promise<ClearBacklogResult> {
    return clearBacklog(this.questions, recipients, options)
  }
}
