// `mesa-dispatch-serverless/http`: the fetch app behind POST /dispatch and GET /health, to mount in a Hono app, a
// Next.js route handler or a worker of your own.

export type { AuthSecrets, Env } from '../config.js'
export type { DispatchMetrics } from '../observe/dispatch-metrics.js'
export type { LogFields, Logger } from '../observe/logger.js'
export type { App, AppFromEnvOptions, AppOptions, RequestContext } from './app.js'
export { createApp, createAppFromEnv } from './app.js'
