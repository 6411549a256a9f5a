// The package's main entry, `mesa-dispatch-serverless`: the Dispatcher, what it sends, what it answers, and what it
// throws. The backend client is `mesa-dispatch-serverless/client`, the fetch app `mesa-dispatch-serverless/http`.

export type { Env } from './config.js'
export type { CleanupOptions, CleanupResult } from './core/backlog-cleanup.js'
export type { DispatchInput } from './core/dispatch-input.js'
export type { RedisTarget } from './core/dispatcher.js'
export { Dispatcher } from './core/dispatcher.js'
export type { Dispatchable, MessageOptions } from './core/message.js'
export { DispatchEvent, Message } from './core/message.js'
export type {
  BacklogMessage,
  BacklogOptions,
  BacklogResult,
  ClearBacklogResult,
  ClearedBacklog,
  DispatchAction,
  DispatcherConfig,
  DispatchOptions,
  DispatchResult,
  PresenceResult,
  RateLimit,
  RateLimitOptions,
  Recipient,
  SyncConfig,
} from './core/types.js'
export type { FailureOutcome } from './errors.js'
export {
  BacklogChangedError,
  BacklogTooLargeError,
  ConfigError,
  IdempotencyConflictError,
  IncompleteDispatchError,
  MesaDispatchError,
  PayloadTooLargeError,
  RateLimitedError,
  RedisCommandError,
  RedisError,
  RedisUnavailableError,
  ValidationError,
} from './errors.js'
export type { IORedisLike } from './transport/ioredis-like.js'
// RedisTarget's members that are this package's own types.
export type { RestConnection } from './transport/rest.js'
