import type { BacklogResult, ClearBacklogResult, DispatchAction, DispatchResult, PresenceResult, Recipient } from '../core/types.js'

/** The fields every dispatch request body may carry besides its message or event. */
interface DispatchTargets {
  /** Client ids, matched strictly by Mesa (`7` and `'7'` differ). @default ['*'] (every client) */
  recipients?: Recipient[]
  /** Ids to leave out; ignored when `recipients` includes `'*'`, as in Mesa. */
  excluding?: Recipient[]
  /** An idempotency key: a repeat inside the endpoint's dedupe window (24 h by default) is applied once. */
  id?: string
}

/** The `message` of a dispatch request body: Mesa's wire fields, where only `d` is required. */
export interface DispatchMessageBody {
  /** The opcode. @default 0 */
  op?: number
  /** Any JSON value. */
  d: unknown
  /** The event type, e.g. `STATUS_UPDATE`. */
  t?: string
  /** `sync: false` keeps the message from being stored for offline recipients. @default { sync: true } */
  o?: { sync?: boolean }
}

/** The JSON body of one dispatch, as `POST /dispatch`, an SQS record or an EventBridge detail takes it. */
export type DispatchRequestBody =
  | (DispatchTargets & { message: DispatchMessageBody; event?: never })
  | (DispatchTargets & { event: DispatchAction; message?: never })

/** An error as the endpoint describes it in a JSON answer. */
export interface DispatchErrorBody {
  name: string
  message: string
  /** The request field at fault, for a ValidationError. */
  field?: string
}

/** One batch item's outcome, in the order the requests were given. */
export type DispatchBatchItem = { ok: true; result: DispatchResult } | { ok: false; error: DispatchErrorBody }

/** What `GET /health` answers when the endpoint is configured. */
export interface HealthStatus {
  ok: boolean
  service: string
  /** How many keys the endpoint accepts (never their names). */
  keys?: number
}

/** Where the endpoint is and how to prove the right to dispatch: exactly one of `token` or `secret`. */
export interface DispatchClientOptions {
  /** The endpoint's base URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/`; `/dispatch` is appended. */
  endpoint: string
  /** The endpoint's `DISPATCH_TOKEN`, sent as `Authorization: Bearer`. */
  token?: string
  /**
   * A key's signing secret (`DISPATCH_SIGNING_SECRET`, or a `signingSecret` of `DISPATCH_KEYS`), which signs each
   * request (method, route, Idempotency-Key and body) into an `X-Mesa-Signature` header.
   */
  secret?: string
  /** The name of the key `secret` belongs to, sent as the signature's `keyid` (unused with `token`, which names its key itself). @default 'default' (DISPATCH_SIGNING_SECRET's key) */
  keyId?: string
  /** The fetch to call, e.g. a Worker's service binding. @default globalThis.fetch */
  fetch?: typeof fetch
  /** How long one attempt may wait for its answer before it fails with status 0. @default 10000 */
  timeoutMs?: number
  /**
   * How many times a call is sent again, with the same `Idempotency-Key`, after no answer, a 429 or a 5xx (but not a
   * 502 Redis refused); never after another 4xx. The wait is the endpoint's `Retry-After`, else full jitter. @default 2
   */
  maxRetries?: number
  /** How long a call may take in all, its retries and the waits between them included, in milliseconds. @default 30000 */
  deadlineMs?: number
  /** The clock the deadline and each signature's timestamp are read from; for tests. @default Date.now */
  now?: () => number
  /** How the client waits between attempts; for tests, which count and check the waits. @default setTimeout */
  sleep?: (ms: number) => Promise<void>
}

/** Per-call options of a dispatch or a clear. */
export interface DispatchCallOptions {
  /**
   * Sent as `Idempotency-Key`: a repeat inside the dedupe window is applied once, so a failed call can be
   * retried safely. In a batch, item i gets `<key>:<i>`; a body's own `id` takes precedence. At most 252 characters.
   * @default a random UUID when the body has no `id` (in a batch, when some item has none)
   */
  idempotencyKey?: string
}

/** Which page of a backlog to read (`POST /backlog`). */
export interface BacklogPageOptions {
  /** The most messages the page may hold, at least 1. @default as many as fit in the endpoint's `MAX_BACKLOG_PAGE_BYTES` */
  limit?: number
  /** The `cursor` of the page before, to read the next one; none (or null) reads the first page. */
  cursor?: string | null
}

/**
 * A typed client of the dispatch endpoint; every method rejects with a `DispatchEndpointError`, or, for a body
 * that cannot be JSON, with a `ValidationError` naming the field before anything is sent.
 */
export interface DispatchClient {
  /** Sends one dispatch and resolves with what it did. */
  dispatch(request: DispatchRequestBody, options?: DispatchCallOptions): Promise<DispatchResult>
  /**
   * Sends up to the endpoint's `MAX_BATCH` dispatches in one request; resolves with each one's outcome (200 or 207),
   * or rejects, with the first item's error, when every one failed (the endpoint then answers 502 or 503).
   */
  dispatchBatch(requests: DispatchRequestBody[], options?: DispatchCallOptions): Promise<DispatchBatchItem[]>
  /** Closes the recipients' Mesa sockets with code 1000 (`DISCONNECT_CLIENT`). */
  disconnect(recipients: Recipient[], options?: DispatchCallOptions): Promise<DispatchResult>
  /** Which of `recipients` Mesa has online (`POST /presence`), each answered as given, in order. */
  presence(recipients: Recipient[]): Promise<PresenceResult>
  /** How many client ids Mesa has online (`POST /presence` without recipients). */
  connectedCount(): Promise<number>
  /**
   * One page of what waits for `recipient` (`POST /backlog`): the messages as Mesa would redeliver them at its next
   * login, without `s`. Pass the page's `cursor` to read the next, until it is null; a `DispatchEndpointError` with
   * status 409 and field `cursor` means the backlog changed under it: read it again from the first page.
   */
  backlog(recipient: Recipient, page?: BacklogPageOptions): Promise<BacklogResult>
  /** Every page of what waits for `recipient`, in order, each read with the cursor of the page before. */
  backlogPages(recipient: Recipient, page?: Pick<BacklogPageOptions, 'limit'>): AsyncGenerator<BacklogResult, void>
  /**
   * Removes the stored messages of `recipients` (`POST /backlog/clear`), atomically, and says how many each held.
   * With an `idempotencyKey`, a repeat inside the dedupe window removes nothing and answers `duplicate: true`.
   */
  clearBacklog(recipients: Recipient[], options?: DispatchCallOptions): Promise<ClearBacklogResult>
  /** Asks `GET /health`, which needs no credentials. */
  health(): Promise<HealthStatus>
}
