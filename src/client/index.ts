// `mesa-dispatch-serverless/client`: the typed client a backend calls the deployed endpoint with. It needs only fetch
// and Web Crypto, so it runs on Node, Bun, Deno, edges and browsers alike.

export type {
  BacklogMessage,
  BacklogResult,
  ClearBacklogResult,
  ClearedBacklog,
  DispatchAction,
  DispatchResult,
  PresenceResult,
  Recipient,
} from '../core/types.js'
export type { EndpointFailure } from '../errors.js'
export { ConfigError, DispatchEndpointError, ValidationError } from '../errors.js'
export type { SignedRequest } from '../signature.js'
export { signRequest } from '../signature.js'
export { createDispatchClient } from './client.js'
export type {
  BacklogPageOptions,
  DispatchBatchItem,
  DispatchCallOptions,
  DispatchClient,
  DispatchClientOptions,
  DispatchErrorBody,
  DispatchMessageBody,
  DispatchRequestBody,
  HealthStatus,
} from './types.js'
