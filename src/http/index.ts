// `mesa-dispatch-serverless/http`: the fetch app behind POST /dispatch and GET /health, to mount in a Hono app, a
// Next.js route handler or a worker of your own.
export { createApp, createAppFromEnv } from './app.js'
export type { App, AppFromEnvOptions, AppOptions, RequestContext } from './app.js'
export type { AuthSecrets, Env } from '../config.js'
export type { Logger, LogFields } from '../observe/logger.js'
