// The types every layer shares, and nothing else: this module imports nothing, so that errors.ts, the client and
// the config can name them without pulling in the code that implements them.

/** A client id as Mesa matches it: strictly, so the number `7` and the string `'7'` are different clients. */
export type Recipient = string | number

/** The internal events a Mesa server acts on instead of delivering; Mesa 1.5.8 knows one. */
export type DispatchAction = 'DISCONNECT_CLIENT'

/** What one dispatch did, once Redis has accepted all of it. */
export interface DispatchResult {
  /** How many Mesa servers (channel subscribers) heard the publish; 0 when nothing was published. */
  servers: number
  /** The recipients in the published payload: the online ones and `'*'` when sync checked, else all. */
  recipients: Recipient[]
  /** The recipients found in Mesa's online set, or null when no check was made (sync off, or an event). */
  online: Recipient[] | null
  /** The named recipients not online, who were left out of the publish; empty when no check was made. */
  offline: Recipient[]
  /**
   * The offline recipients whose message was not stored, so a caller can reach them another way: ids Mesa never
   * stores (numbers, blank strings), messages with `sync: false`, and messages too large for the caps.
   */
  unstored: Recipient[]
  /** How many offline recipients had the message stored for redelivery on their next login. */
  stored: number
  /** How many older stored messages were dropped to keep the recipients' backlogs within their caps. */
  dropped: number
  /** True when this dispatch id was already applied within the dedupe window: nothing was done again. */
  duplicate: boolean
  /** True when `excluding` could not apply because the recipients include `'*'`, which reaches everyone. */
  excludingIgnored: boolean
}

/** Message sync, as Mesa's `sync` option, with the caps that keep the offline store bounded. */
export interface SyncConfig {
  /** Check who is online and store messages for the others, as Mesa's `sync.enabled`. @default false */
  enabled: boolean
  /** Messages kept per recipient, the oldest dropped first; 0 keeps every one, as Mesa does. @default 1000 */
  maxMessages?: number
  /** Bytes kept per recipient (the stored JSON array), the oldest dropped first; 0 means no limit. @default 262144 */
  maxBytes?: number
  /** A backlog whose newest message is older than this is removed by `cleanupBacklogs`; 0 means never. @default 2592000 */
  maxAgeSeconds?: number
}

/** The Dispatcher's settings; `namespace` and `sync.enabled` mean exactly what they mean in Mesa. */
export interface DispatcherConfig {
  /** The Mesa server's namespace, appended to every key and channel as `_<ns>`. @default undefined (none) */
  namespace?: string
  /** Message sync and the offline store's caps. @default { enabled: false } */
  sync?: SyncConfig
  /** How long a dispatch id is remembered, so a redelivered dispatch is applied once. @default 86400 */
  dedupeTtlSeconds?: number
  /** The most recipients one dispatch may name. @default 10000 */
  maxRecipients?: number
  /** Bytes of stored messages one script call may write; a larger dispatch is applied in parts. @default 1048576 */
  maxWriteBytes?: number
  /** Bytes of one request to Redis; a dispatch that alone needs more is refused with a PayloadTooLargeError. @default 4194304 */
  maxRequestBytes?: number
  /** Bytes of one page of `backlog()`, as the endpoint answers it, from 1024 to 2621440. @default 1048576 */
  maxBacklogPageBytes?: number
  /** The largest stored value `backlog()` reads; a larger one is refused with a BacklogTooLargeError. @default 8388608 */
  maxBacklogReadBytes?: number
}

/**
 * A budget of requests per window that a call is counted against, in Redis, by the same script call that does its
 * work: at most `requests` per window of `windowSeconds`, windows aligned to the Unix epoch, across every instance.
 */
export interface RateLimit {
  /** Whose budget it is, e.g. an API key's name: one counter per name and namespace. */
  name: string
  /** Requests per window, at least 1. */
  requests: number
  /** The window, in seconds, at least 1. */
  windowSeconds: number
}

/** What a call may be counted against. */
export interface RateLimitOptions {
  /** Count the call against this budget, and refuse it with a RateLimitedError, applying nothing, when it is spent. @default none */
  rateLimit?: RateLimit
}

/** Per-dispatch options. */
export interface DispatchOptions extends RateLimitOptions {
  /** An idempotency key: a second dispatch with the same id inside the dedupe window does nothing. */
  id?: string
  /** How long this dispatch's id is remembered, when it needs no full dedupe window. @default dedupeTtlSeconds */
  ttlSeconds?: number
}

/** Which of the ids asked about are in Mesa's online set: each exactly as given (a number stays a number), in the order given. */
export interface PresenceResult {
  online: Recipient[]
  offline: Recipient[]
}

/**
 * A stored message as Mesa's server redelivers it at the client's next login (`{op, d, t}`), without the `s`
 * sequence number Mesa adds then. `d` and `t` are left out where the stored message had none.
 */
export interface BacklogMessage {
  op: number
  d?: unknown
  t?: string
}

/** Which page of a backlog to read, and how a key's rate limit counts it: each page is a request. */
export interface BacklogOptions extends RateLimitOptions {
  /** The most messages the page may hold, at least 1. @default as many as fit in `maxBacklogPageBytes` */
  limit?: number
  /** The `cursor` of the page before, to read the next one; none (or null) reads the first page. */
  cursor?: string | null
}

/**
 * One page of what waits for one client in Mesa's offline store. The pages of one read, each asked with the cursor
 * of the page before, list every message once and in order, as the backlog stands when the last page is read.
 */
export interface BacklogResult {
  /** This page's messages, in order, as Mesa would redeliver them at the client's next login. */
  messages: BacklogMessage[]
  /** How many messages this page holds. */
  count: number
  /** The size of the whole stored value in bytes, as Redis keeps it; 0 when there is none. */
  bytes: number
  /** How many messages the whole backlog holds, as Mesa would redeliver them; none when it could redeliver nothing. */
  total: number
  /** What reads the next page, or null when this page is the last. */
  cursor: string | null
  /** True when messages remain after this page: read them with `cursor`. */
  truncated: boolean
}

/** One client's backlog, as `clearBacklog` removed it. */
export interface ClearedBacklog {
  /** The id exactly as given. */
  recipient: Recipient
  /** How many messages Mesa would have redelivered, or null when the backlog was too large to count in the call. */
  messages: number | null
  /** The bytes the backlog held; 0 when there was none (or the id was named earlier in the same call). */
  bytes: number
}

/** What `clearBacklog` did. */
export interface ClearBacklogResult {
  /** One entry per id, in the order given. */
  cleared: ClearedBacklog[]
  /** True when this id was already used within the dedupe window: nothing was removed. */
  duplicate: boolean
}
