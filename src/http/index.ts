// `mesa-dispatch-serverless/http`: the fetch app behind POST /dispatch, the questions and GET /health, with its named
// keys, to mount in a Hono app, a Next.js route handler or a worker of your own.

export type { Env } from '../config.js'
export type { DispatchMetrics } from '../observe/dispatch-metrics.js'
export type { LogFields, Logger } from '../observe/logger.js'
export type { ApiKey, KeyRateLimit, Scope } from './api-keys.js'
export type { App, AppFromEnvOptions, AppOptions, RequestContext } from './app.js'
export { createApp, createAppFromEnv } from './app.js'
export type { AuthSecrets } from './app-env.js'
