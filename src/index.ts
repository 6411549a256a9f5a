export { Dispatcher, MAX_DISPATCH_ID_LENGTH, toRedisError } from './dispatcher'
export type { DispatcherConfig, DispatchOptions, PreparedDispatch } from './dispatcher'
export { Message, DispatchEvent, DISPATCH_ACTIONS, isDispatchable } from './message'
export type { Recipient, MessageOptions, DispatchAction, Dispatchable } from './message'
export type { DispatchResult } from './result'
export { DEFAULT_MAX_RECIPIENTS, isRecipient } from './recipients'
export { createMesaKeys, NAMESPACE_PATTERN } from './keys'
export type { MesaKeys } from './keys'
export { createRestRedis, createRestRequester } from './rest-transport'
export type { RestConnection } from './rest-transport'
export { readDispatcherEnv } from './config'
export type { Env, DispatcherEnv } from './config'
export {
  MesaDispatchError,
  ValidationError,
  ConfigError,
  RedisUnavailableError,
  RedisCommandError,
} from './errors'
