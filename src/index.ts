export { Dispatcher, MAX_DISPATCH_ID_LENGTH } from './core/dispatcher.js'
export type { DispatcherConfig, DispatchOptions, PreparedDispatch, RedisTarget, SyncConfig } from './core/dispatcher.js'
export type { CleanupOptions, CleanupResult } from './core/backlog-cleanup.js'
export { createRestRunner, toRedisError } from './transport/runner.js'
export type { ScriptRunner } from './transport/runner.js'
export { createTcpRunner, isRedisUrl } from '#tcp-transport'
export { Message, DispatchEvent, DISPATCH_ACTIONS, isDispatchable } from './core/message.js'
export type { Recipient, MessageOptions, DispatchAction, Dispatchable } from './core/message.js'
export type { DispatchResult } from './core/result.js'
export { DEFAULT_MAX_RECIPIENTS, isRecipient } from './core/recipients.js'
export { createMesaKeys, NAMESPACE_PATTERN } from './core/keys.js'
export type { MesaKeys } from './core/keys.js'
export { createRestRedis, createRestRequester } from './transport/rest.js'
export type { RestConnection } from './transport/rest.js'
export { readDispatcherEnv, readAppEnv, MAX_BATCH_LIMIT, MIN_SECRET_LENGTH } from './config.js'
export type { Env, DispatcherEnv, AppEnv } from './config.js'
export { createApp, createAppFromEnv, statusOf, RETRY_AFTER_SECONDS } from './http/app.js'
export type { App, AppOptions, AppFromEnvOptions, RequestContext } from './http/app.js'
export { createAuthenticator, signBody, MAX_SIGNATURES, SIGNATURE_HEADER, SIGNATURE_REPLAY_TTL_SECONDS, SIGNATURE_TOLERANCE_SECONDS } from './http/auth.js'
export type { AuthSecrets, Authenticator, Credential, Verified } from './http/auth.js'
export { createRequestParser, DEFAULT_MAX_BATCH, MAX_TYPE_LENGTH } from './core/request.js'
export { MAX_IDEMPOTENCY_KEY_LENGTH } from './http/dispatch-route.js'
export type { DispatchRequest, ParsedBody, RequestLimits, RequestParser } from './core/request.js'
export { createTrigger, createTriggerFromEnv } from './triggers/trigger.js'
export type { Trigger, TriggerSource, TriggerFromEnvOptions } from './triggers/trigger.js'
export { createInvocationDeadline, DEADLINE_MARGIN_MS } from './triggers/deadline.js'
export type { InvocationDeadline } from './triggers/deadline.js'
export { createLogger, silentLogger } from './observe/logger.js'
export type { Logger, LogFields, LogSink } from './observe/logger.js'
export {
  MesaDispatchError,
  ValidationError,
  ConfigError,
  RedisError,
  RedisUnavailableError,
  RedisCommandError,
  AuthenticationError,
  PayloadTooLargeError,
  IncompleteDispatchError,
  DispatchEndpointError,
} from './errors.js'
export type { EndpointFailure } from './errors.js'
export { createDispatchClient, DEFAULT_CLIENT_TIMEOUT_MS } from './client/client.js'
export type {
  DispatchClient,
  DispatchClientOptions,
  DispatchCallOptions,
  DispatchRequestBody,
  DispatchMessageBody,
  DispatchBatchItem,
  DispatchErrorBody,
  HealthStatus,
} from './client/types.js'
