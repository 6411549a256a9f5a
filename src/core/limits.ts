// The offline store's caps and the bounds of one script call: every default here, defined once.

/** Messages kept per offline recipient; the oldest are dropped first. 0 means no limit (Mesa's own behaviour). @default 1000 */
export const DEFAULT_SYNC_MAX_MESSAGES = 1000
/** Bytes kept per offline recipient (the JSON array, brackets included). 0 means no limit. @default 262144 */
export const DEFAULT_SYNC_MAX_BYTES = 262_144
/** A backlog whose newest message is older than this is removed by the cleanup function. 0 means never. @default 2592000 (30 days) */
export const DEFAULT_SYNC_MAX_AGE_SECONDS = 30 * 24 * 3600
/** Bytes of stored values one script call may write, which bounds how long it holds Redis. @default 1048576 */
export const DEFAULT_MAX_WRITE_BYTES = 1024 * 1024
/** Bytes of one request to Redis: calls split below it, and a dispatch over it alone is refused (413). @default 4194304 */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** Dispatches per script call. @default 1000 */
export const MAX_DISPATCHES_PER_CALL = 1000
/** Recipients checked one by one per script call. @default 10000 */
export const MAX_CHECKS_PER_CALL = 10_000
