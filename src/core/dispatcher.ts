import { type Env, readDispatcherEnv } from '../config.js'
import { IdempotencyConflictError, IncompleteDispatchError, PayloadTooLargeError, RedisError, ValidationError } from '../errors.js'
import { CALL_KEY_TTL_SECONDS, MAX_CHECKS_PER_CALL, MAX_DISPATCHES_PER_CALL } from '../limits.js'
import { type CallBatcher, createCallBatcher } from '../script/call-batcher.js'
import { commandBytes } from '../script/lua-script.js'
import { callHead, chargedPart, packDispatch, type ScriptDedupe, type ScriptOutcome, type ScriptPart } from '../script/protocol.js'
import { DISPATCH_SCRIPT } from '../script/scripts.js'
import type { ScriptRunner } from '../transport/runner.js'
import { clearBacklog, readBacklog } from './backlog.js'
import { type CleanupOptions, type CleanupResult, cleanupBacklogs } from './backlog-cleanup.js'
import { checkDispatch, type DispatchInput } from './dispatch-input.js'
import { createRunner, type DispatcherLimits, type RedisTarget, readSettings } from './dispatcher-setup.js'
import { fingerprintOf } from './fingerprint.js'
import { createMesaKeys, type MesaKeys } from './keys.js'
import { type Dispatchable, DispatchEvent } from './message.js'
import { checkPresence, countConnected } from './presence.js'
import type { QuestionContext } from './question.js'
import { chargeFor, type RateCharge } from './rate-limit.js'
import { addPart, emptyResult, finishResult } from './result.js'
import type {
  BacklogOptions,
  BacklogResult,
  ClearBacklogResult,
  DispatcherConfig,
  DispatchOptions,
  DispatchResult,
  PresenceResult,
  RateLimit,
  RateLimitOptions,
  Recipient,
} from './types.js'

/** One dispatch validated and packed for the script, with what is needed to read its reply. */
interface PreparedDispatch {
  readonly event: Dispatchable
  readonly part: ScriptPart
  readonly recipients: Recipient[]
  readonly checked: boolean
  readonly excludingIgnored: boolean
  /** The dispatch's id, and its key as the first part claims it. */
  readonly id?: string
  readonly dedupe?: ScriptDedupe
  /** The charge that must admit the dispatch, when a rate limit counts it. */
  readonly charge?: RateCharge
}

export type { RedisTarget }

/**
 * The dispatching half of the Dispatcher, without its rate limits, `dispatchMany`, questions and cleanup: what the
 * SQS and EventBridge functions build, so that their bundles carry neither the code nor the Lua of what they never ask.
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
  /** What the questions (presence, backlogs) need: each is one script call of its own (a large backlog page, one per range), never batched. */
  protected readonly questions: QuestionContext
  /**
   * What every request holds besides its dispatches, for the request-size check: the call's own keys and arguments,
   * and the command around them, counted as the EVAL that a NOSCRIPT falls back to.
   */
  private readonly headBytes: number

  constructor(redis: RedisTarget, config: DispatcherConfig = {}) {
    this.keys = createMesaKeys(config.namespace)
    const settings = readSettings(config)
    this.sync = settings.sync
    this.dedupeTtlSeconds = settings.dedupeTtlSeconds
    this.maxRecipients = settings.maxRecipients
    this.limits = settings.limits
    this.runner = createRunner(redis)
    const newHead = () => callHead(this.keys, this.keys.callKey(), CALL_KEY_TTL_SECONDS, this.limits, Date.now())
    const command = commandBytes(DISPATCH_SCRIPT, this.runner.keyLocking)
    this.headBytes = newHead().bytes + command
    this.batcher = createCallBatcher((keys, args) => this.runner.run(DISPATCH_SCRIPT, keys, args), newHead, {
      dispatches: MAX_DISPATCHES_PER_CALL,
      checks: MAX_CHECKS_PER_CALL,
      // The batcher counts the head and the parts; the command around them is the rest of the request.
      requestBytes: this.limits.maxRequestBytes - command,
    })
    const { maxRecipients, dedupeTtlSeconds, backlog } = settings
    this.questions = {
      runner: this.runner,
      keys: this.keys,
      maxRecipients,
      maxRequestBytes: this.limits.maxRequestBytes,
      dedupeTtlSeconds,
      maxBacklogPageBytes: backlog.maxPageBytes,
      maxBacklogReadBytes: backlog.maxReadBytes,
    }
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
   * Runs a prepared dispatch; those executed in the same tick share one script call, each succeeding or failing
   * alone. A dispatch whose stores need more than one call goes in parts, each resuming at an absolute position in
   * its recipients: where the last part stopped, or, for a retried id, where the script says its earlier parts did.
   */
  protected async execute(prepared: PreparedDispatch): Promise<DispatchResult> {
    const result = emptyResult(prepared.checked, prepared.excludingIgnored)
    const all = prepared.recipients
    // Only the first part carries the charge: a part sent again, or a later part, is admitted already.
    let part = chargedPart(prepared.part, prepared.charge)
    let recipients = all
    let offset = 0
    let resend = false
    for (;;) {
      let outcome: ScriptOutcome
      try {
        outcome = await this.batcher.send(part, { first: resend })
      } catch (error) {
        // Past the first recipient, some of the dispatch was applied (by this call or an earlier one with its id).
        if (offset === 0 || !(error instanceof RedisError)) throw error
        throw new IncompleteDispatchError(finishResult(result), all.slice(offset), {
          cause: error,
          reached: offset,
          ...(prepared.id === undefined ? {} : { id: prepared.id }),
        })
      }
      resend = true
      if (outcome.kind === 'deferred') continue
      if (outcome.kind === 'limited') throw prepared.charge!.refused()
      if (outcome.kind === 'conflict') throw new IdempotencyConflictError(prepared.id!)
      if (outcome.kind === 'duplicate') return finishResult(result)
      if (outcome.kind === 'progress') {
        offset = outcome.reached
      } else {
        addPart(result, recipients, outcome, prepared.checked)
        if (!prepared.checked || outcome.states.length >= recipients.length) return finishResult(result)
        // The call's write budget ran out: the rest goes as the next part.
        offset += outcome.states.length
      }
      if (offset >= all.length) return finishResult(result)
      recipients = all.slice(offset)
      part = this.partFrom(prepared, offset, recipients)
    }
  }

  /**
   * A later part of a dispatch, from `offset` on: it passes over the ids the earlier parts reached (so that an id
   * named twice is stored once), publishes only to someone, and claims the id at that position.
   */
  private partFrom(prepared: PreparedDispatch, offset: number, recipients: Recipient[]): ScriptPart {
    return packDispatch({
      event: prepared.event,
      recipients,
      checkOnline: true,
      reached: new Set(prepared.recipients.slice(0, offset)),
      continuation: true,
      ...(prepared.dedupe ? { dedupe: { ...prepared.dedupe, offset } } : {}),
    })
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

  /**
   * The charge of a call that counts as `cost` requests against `limit`. This core counts no rate limit, so that the
   * SQS and EventBridge functions, which are given none, carry none of their code: a limit given anyway is refused,
   * never ignored. QuestionDispatcher counts them.
   */
  protected chargeOf(limit: RateLimit | undefined, _cost: number): RateCharge | undefined {
    if (limit !== undefined) throw new ValidationError('rateLimit', 'is not counted by a DispatchCore: use a Dispatcher')
    return undefined
  }

  /**
   * Checks and packs one dispatch without sending it, charged to its own rate limit (cost 1) or to its batch's;
   * throws a ValidationError naming the bad field.
   */
  protected prepare(input: DispatchInput, shared?: RateCharge): PreparedDispatch {
    const { event, targets, excludingIgnored, id, ttlSeconds } = checkDispatch(input, this.maxRecipients)
    const charge = this.chargeOf(input.options?.rateLimit, 1) ?? shared
    const checked = this.sync && !(event instanceof DispatchEvent)
    // Without an id, the call's own key is what makes the transport's retries safe. With one, the key keeps the
    // fingerprint of what was asked (the message and the recipients, in order), which a retry must match.
    const dedupe =
      id === undefined
        ? undefined
        : {
            key: this.keys.idempotency('dispatch', id),
            ttlSeconds: ttlSeconds ?? this.dedupeTtlSeconds,
            fingerprint: fingerprintOf(['dispatch', event.json, JSON.stringify(targets)]),
            offset: 0,
          }
    const part = packDispatch({ event, recipients: targets, checkOnline: checked, ...(dedupe ? { dedupe } : {}) })
    const bytes = this.headBytes + part.bytes
    if (bytes > this.limits.maxRequestBytes) {
      throw new PayloadTooLargeError(
        this.limits.maxRequestBytes,
        `the dispatch needs a Redis request of ${bytes} bytes, over MAX_REQUEST_BYTES (${this.limits.maxRequestBytes}): send a smaller message or fewer recipients`,
      )
    }
    return { event, part, recipients: targets, checked, excludingIgnored, ...(dedupe ? { id: id!, dedupe } : {}), ...(charge ? { charge } : {}) }
  }
}

/**
 * The Dispatcher without its cleanup: the dispatching half with its rate limits and `dispatchMany`, and the
 * questions, what the HTTP app builds, so that its bundles carry neither the code nor the Lua of a cleanup pass,
 * which the cleanup function runs.
 */
export class QuestionDispatcher extends DispatchCore {
  /** Counts a call against `limit` (src/core/rate-limit.ts), in the script call that does its work. */
  protected override chargeOf(limit: RateLimit | undefined, cost: number): RateCharge | undefined {
    return chargeFor(this.keys, limit, cost)
  }

  /**
   * Sends several dispatches in one round trip (one script call, as many as fit). Every one is validated before
   * anything is sent: a bad one throws a ValidationError naming it, e.g. `dispatches[2].recipients[0]`. Then it
   * resolves with one settled outcome per dispatch, in order, since each succeeds or fails alone. A `rateLimit` in
   * `options` counts the batch as its number of dispatches, admitted or refused (RateLimitedError) as a whole.
   */
  async dispatchMany(dispatches: DispatchInput[], options: RateLimitOptions = {}): Promise<PromiseSettledResult<DispatchResult>[]> {
    if (!Array.isArray(dispatches)) throw new ValidationError('dispatches', 'must be an array of dispatches')
    const shared = chargeFor(this.keys, options.rateLimit, dispatches.length)
    const prepared = dispatches.map((input, index) => {
      try {
        return this.prepare(input, shared)
      } catch (error) {
        throw error instanceof ValidationError ? error.relocated(`dispatches[${index}].${error.field}`) : error
      }
    })
    return Promise.allSettled(prepared.map((each) => this.execute(each)))
  }

  /** Which of `recipients` are in Mesa's online set, in one round trip, each answered as given and in order (see presence.ts). */
  presence(recipients: Recipient[], options?: RateLimitOptions): Promise<PresenceResult> {
    return checkPresence(this.questions, recipients, options)
  }

  /** How many client ids Mesa's online set holds (logged in on any server), in one round trip. */
  connectedCount(options?: RateLimitOptions): Promise<number> {
    return countConnected(this.questions, options)
  }

  /**
   * One page of what waits for `recipient` in the offline store: the messages as Mesa would redeliver them, without
   * `s`, within `maxBacklogPageBytes`; pass each page's `cursor` to read the next (see backlog.ts).
   */
  backlog(recipient: Recipient, options?: BacklogOptions): Promise<BacklogResult> {
    return readBacklog(this.questions, recipient, options)
  }

  /**
   * Every page of what waits for `recipient`, in order, each read with the cursor of the page before (and counted
   * against `rateLimit` as one request); rejects with a BacklogChangedError when the backlog changed under a cursor.
   */
  async *backlogPages(recipient: Recipient, options: Omit<BacklogOptions, 'cursor'> = {}): AsyncGenerator<BacklogResult, void> {
    let cursor: string | null = null
    do {
      const page: BacklogResult = await readBacklog(this.questions, recipient, { ...options, cursor })
      yield page
      cursor = page.cursor
    } while (cursor !== null)
  }

  /** Removes the stored messages of `recipients` in one atomic round trip, and says how many each held (see backlog.ts). */
  clearBacklog(recipients: Recipient[], options?: DispatchOptions): Promise<ClearBacklogResult> {
    return clearBacklog(this.questions, recipients, options)
  }
}

/**
 * Mesa's Dispatcher for serverless: the same channel, payload and sync semantics as `@cryb/mesa@1.5.8`, over
 * Redis's HTTP API (or TCP), where every dispatch is awaitable and costs one round trip whatever the number of
 * recipients, and the offline store stays within its caps.
 */
export class Dispatcher extends QuestionDispatcher {
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
    return cleanupBacklogs(this.runner, this.keys, this.limits, options)
  }
}
