// Every default and limit of the package, defined once: the Dispatcher, the offline store, the HTTP endpoint, the
// webhook signatures, the triggers and the client read them from here, and the README's tables name them.

// The offline store (Mesa's message sync), per recipient.

/** Messages kept per offline recipient; the oldest are dropped first. 0 means no limit (Mesa's own behaviour). @default 1000 */
export const DEFAULT_SYNC_MAX_MESSAGES = 1000
/** Bytes kept per offline recipient (the JSON array, brackets included). 0 means no limit. @default 262144 */
export const DEFAULT_SYNC_MAX_BYTES = 262_144
/** A backlog whose newest message is older than this is removed by the cleanup function. 0 means never. @default 2592000 (30 days) */
export const DEFAULT_SYNC_MAX_AGE_SECONDS = 30 * 24 * 3600
/** Index entries the cleanup function looks at per script call (HSCAN's COUNT). @default 500 */
export const CLEANUP_STEP_SIZE = 500
/**
 * Bytes of backlogs one `clearBacklog` call may read to count their messages, where our index cannot say (a
 * backlog someone else wrote): as much as a dispatch call may check, so a clear holds Redis no longer. @default 262144
 */
export const CLEAR_COUNT_BYTES = 262_144

// Reading a backlog (`POST /backlog`, `Dispatcher.backlog`).

/**
 * Bytes of one page of a backlog read, as the endpoint answers it (the whole JSON body): well under the 6 MB a
 * Lambda function may answer, which API Gateway would otherwise turn into a 502. @default 1048576
 */
export const DEFAULT_MAX_BACKLOG_PAGE_BYTES = 1024 * 1024
/** The smallest `MAX_BACKLOG_PAGE_BYTES`: room for the answer's own fields and a message. @default 1024 */
export const MIN_BACKLOG_PAGE_BYTES = 1024
/**
 * The largest `MAX_BACKLOG_PAGE_BYTES`: a Lambda function's answer carries its body as a JSON string, in which a
 * quote or backslash takes two bytes, so 2.5 MiB of body stays under Lambda's 6 MB limit whatever it holds. @default 2621440
 */
export const MAX_BACKLOG_PAGE_BYTES_LIMIT = 2.5 * 1024 * 1024
/** Bytes of every page's answer kept for its fields besides `messages` (`count`, `bytes`, `total`, `cursor`, …). @default 256 */
export const BACKLOG_PAGE_ENVELOPE_BYTES = 256
/**
 * The largest stored value a backlog read reads: each page reads the whole value (HGET cannot read part of a hash
 * field), so a larger one is refused, naming this limit, rather than read. @default 8388608
 */
export const DEFAULT_MAX_BACKLOG_READ_BYTES = 8 * 1024 * 1024
/**
 * Bytes of a stored value one script call answers with; a larger value comes in ranges of this size, one call
 * each. Upstash refuses a reply over 10 MB, and its JSON may spell one byte in six (`\u0001`). @default 1048576
 */
export const BACKLOG_RANGE_BYTES = 1024 * 1024
/** Times a page is read again when the value changed between two of its ranges, before the read gives up. @default 3 */
export const BACKLOG_READ_ATTEMPTS = 3

// One script call, which holds Redis while it runs.

/** Bytes of stored values one script call may write, which bounds how long it holds Redis. @default 1048576 */
export const DEFAULT_MAX_WRITE_BYTES = 1024 * 1024
/** Bytes of one request to Redis: calls split below it, and a dispatch over it alone is refused (413). @default 4194304 */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
/**
 * The smallest MAX_REQUEST_BYTES: every request is sized as the EVAL a NOSCRIPT falls back to, which carries the
 * dispatch script's text (about 22 KB), and needs room for a dispatch beside it. @default 65536
 */
export const MIN_REQUEST_BYTES = 64 * 1024
/** Dispatches per script call. @default 1000 */
export const MAX_DISPATCHES_PER_CALL = 1000
/** Recipients checked one by one per script call. @default 10000 */
export const MAX_CHECKS_PER_CALL = 10_000
/** How long a call's own key keeps its reply, so that a retried call applies nothing twice. @default 120 */
export const CALL_KEY_TTL_SECONDS = 120

// One dispatch.

/** The most recipients one dispatch may name. @default 10000 */
export const DEFAULT_MAX_RECIPIENTS = 10_000
/** The longest dispatch id accepted, to keep dedupe keys small. @default 256 */
export const MAX_DISPATCH_ID_LENGTH = 256
/** How long a dispatch id is remembered, so that a redelivered dispatch is applied once. @default 86400 */
export const DEFAULT_DEDUPE_TTL_SECONDS = 86_400
/** The longest message type accepted over the wire. @default 256 */
export const MAX_TYPE_LENGTH = 256

// Reaching Redis.

/** The longest one attempt to reach Redis may take, in milliseconds. @default 5000 */
export const DEFAULT_REDIS_TIMEOUT_MS = 5000
/** Retries of a failed attempt to reach Redis (each call is idempotent, so a retry is safe). @default 2 */
export const DEFAULT_REDIS_RETRIES = 2
/** The wait before the first retry, doubled for each next one, in milliseconds. @default 50 */
export const DEFAULT_REDIS_BACKOFF_MS = 50

// The HTTP endpoint.

/** Bodies over this many bytes get 413 before they are parsed. @default 1048576 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** The most dispatches one batch request may carry. @default 100 */
export const DEFAULT_MAX_BATCH = 100
/**
 * The largest `MAX_BATCH` accepted: batch item i gets the id `<Idempotency-Key>:<i>`, and up to 1000 items keep
 * that suffix within 4 characters, which the key's own limit leaves room for. @default 1000
 */
export const MAX_BATCH_LIMIT = 1000
/** The longest `Idempotency-Key`, batch or not: a batch item's id adds `:<index>` to it. @default 252 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = MAX_DISPATCH_ID_LENGTH - `:${MAX_BATCH_LIMIT - 1}`.length
/** The shortest secret accepted, so that a placeholder like "changeme" cannot guard a deployed endpoint. @default 16 */
export const MIN_SECRET_LENGTH = 16
/** Seconds a client should wait before retrying when Redis is unreachable (`Retry-After`). @default 5 */
export const RETRY_AFTER_SECONDS = 5

// Named keys (DISPATCH_KEYS).

/** The largest `rateLimit.requests` a key may have. @default 1000000000 */
export const MAX_RATE_LIMIT_REQUESTS = 1_000_000_000
/** The longest `rateLimit.windowSeconds` a key may have: one day. @default 86400 */
export const MAX_RATE_LIMIT_WINDOW_SECONDS = 86_400

// Signed webhooks.

/** How far a signature's timestamp may be from now, either way. @default 300 */
export const SIGNATURE_TOLERANCE_SECONDS = 300
/**
 * How long a signed request's default id is remembered: a signature is accepted from SIGNATURE_TOLERANCE_SECONDS
 * before its timestamp to as long after, so a replay can come no later. @default 600
 */
export const SIGNATURE_REPLAY_TTL_SECONDS = 2 * SIGNATURE_TOLERANCE_SECONDS
/**
 * How long the id the endpoint makes up for a request that came with none is remembered: a caller retries within
 * minutes, and every such request would otherwise hold a key in the Mesa servers' Redis for a day. @default 600
 */
export const GENERATED_ID_TTL_SECONDS = 600
/** `v1=` entries accepted in one signature header, so that rotating secrets costs a bounded number of HMACs. @default 8 */
export const MAX_SIGNATURES = 8

// The triggers and the client.

/** Time kept back from the end of a Lambda invocation, so a slow Redis turns into reported failures. @default 1000 */
export const DEADLINE_MARGIN_MS = 1000
/**
 * The longest a Lambda function's init waits for its warm-up (a connection to Redis, and its script in Redis's cache)
 * before it goes on without, so that a slow or unreachable Redis delays an init by no more. @default 1000
 */
export const WARM_UP_TIMEOUT_MS = 1000
/** How long the backend client waits for the endpoint's answer to one attempt, in milliseconds. @default 10000 */
export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000
/** How many times the backend client sends a call again after a failure a retry can fix (`maxRetries`). @default 2 */
export const DEFAULT_CLIENT_MAX_RETRIES = 2
/**
 * How long one client call may take, its retries and the waits between them included (`deadlineMs`): long enough
 * for two retries after the endpoint's own `Retry-After` of RETRY_AFTER_SECONDS. @default 30000
 */
export const DEFAULT_CLIENT_DEADLINE_MS = 30_000
/** The client's backoff before its first retry, doubled before each next one, of which a random part is waited (full jitter). @default 250 */
export const CLIENT_RETRY_BASE_DELAY_MS = 250
/** The longest backoff the client waits between attempts when the endpoint gave no `Retry-After`. @default 5000 */
export const CLIENT_RETRY_MAX_DELAY_MS = 5_000

// Log lines.

/** Causes a failure's log line follows down its chain (`cause.cause…`), so that a looping chain still ends. @default 4 */
export const MAX_LOGGED_CAUSES = 4
/** Errors of an AggregateError a log line keeps, e.g. one per address of a host that refused. @default 4 */
export const MAX_LOGGED_GATHERED_ERRORS = 4
/**
 * Characters of any text a log line keeps (an error message, a field name a request got wrong, an id): the rest is
 * cut and marked with `…`, so that no caller can make a line long. @default 300
 */
export const MAX_LOGGED_MESSAGE_LENGTH = 300

// Metrics (CloudWatch Embedded Metric Format, written by the Lambda functions).

/** The CloudWatch namespace the Lambda functions' metrics go to (`MESA_METRICS_NAMESPACE`). @default 'MesaDispatch' */
export const DEFAULT_METRICS_NAMESPACE = 'MesaDispatch'
/** Metric definitions one EMF directive may hold, by the EMF specification. @default 100 */
export const EMF_MAX_METRICS_PER_DIRECTIVE = 100
/** Values one EMF metric may hold as an array, by the EMF specification; more go on further lines. @default 100 */
export const EMF_MAX_VALUES_PER_METRIC = 100

// The CLI.

/** The most `--retries` the CLI takes: each retry of a failing endpoint only adds to the wait. @default 10 */
export const MAX_CLI_RETRIES = 10
/** The longest `--timeout` the CLI takes, in milliseconds: a timer set longer (2^31 - 1 ms, about 24.8 days) fires at once. */
export const MAX_CLI_TIMEOUT_MS = 2_147_483_647
