export { Dispatcher, MAX_DISPATCH_ID_LENGTH } from './dispatcher'
export type { DispatcherConfig, DispatchOptions, PreparedDispatch, RedisTarget, SyncConfig } from './dispatcher'
export type { CleanupOptions, CleanupResult } from './backlog-cleanup'
export { createRestRunner, toRedisError } from './script-runner'
export type { ScriptRunner } from './script-runner'
export { createTcpRunner, isRedisUrl } from '#tcp-transport'
export { Message, DispatchEvent, DISPATCH_ACTIONS, isDispatchable } from './message'
export type { Recipient, MessageOptions, DispatchAction, Dispatchable } from './message'
export type { DispatchResult } from './result'
export { DEFAULT_MAX_RECIPIENTS, isRecipient } from './recipients'
export { createMesaKeys, NAMESPACE_PATTERN } from './keys'
export type { MesaKeys } from './keys'
export { createRestRedis, createRestRequester } from './rest-transport'
export type { RestConnection } from './rest-transport'
export { readDispatcherEnv, readAppEnv, MAX_BATCH_LIMIT, MIN_SECRET_LENGTH } from './config'
export type { Env, DispatcherEnv, AppEnv } from './config'
export { createApp, createAppFromEnv, statusOf, RETRY_AFTER_SECONDS } from './app'
export type { App, AppOptions, AppFromEnvOptions, RequestContext } from './app'
export { createAuthenticator, signBody, MAX_SIGNATURES, SIGNATURE_HEADER, SIGNATURE_REPLAY_TTL_SECONDS, SIGNATURE_TOLERANCE_SECONDS } from './auth'
export type { AuthSecrets, Authenticator, Credential, Verified } from './auth'
export { createRequestParser, DEFAULT_MAX_BATCH, MAX_TYPE_LENGTH } from './request'
export { MAX_IDEMPOTENCY_KEY_LENGTH } from './dispatch-route'
export type { DispatchRequest, ParsedBody, RequestLimits, RequestParser } from './request'
export { createTrigger, createTriggerFromEnv } from './trigger'
export type { Trigger, TriggerSource, TriggerFromEnvOptions } from './trigger'
export { createInvocationDeadline, DEADLINE_MARGIN_MS } from './deadline'
export type { InvocationDeadline } from './deadline'
export { createLogger, silentLogger } from './logger'
export type { Logger, LogFields, LogSink } from './logger'
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
} from './errors'
export type { EndpointFailure } from './errors'
export { createDispatchClient, DEFAULT_CLIENT_TIMEOUT_MS } from './client'
export type {
  DispatchClient,
  DispatchClientOptions,
  DispatchCallOptions,
  DispatchRequestBody,
  DispatchMessageBody,
  DispatchBatchItem,
  DispatchErrorBody,
  HealthStatus,
} from './client-types'
