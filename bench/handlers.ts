import type { BenchStack } from './stack'

/** The env the Lambda entry points read at import time, as Lambda would set it. */
export const LAMBDA_NAMESPACE = 'lambda'
/** The bearer token the http handler demands. */
export const DISPATCH_TOKEN = 'bench-dispatch-token-0123456789'

/** The deployed Lambda handlers, imported from source after their env is set. */
export interface Handlers {
  sqs: typeof import('../functions/sqs').handler
  http: typeof import('../functions/http').handler
}

let loaded: Promise<Handlers> | undefined

/**
 * Sets process.env as Lambda would (the gateway, namespace `lambda`, sync on) and imports functions/sqs.ts and
 * functions/http.ts. Both read the env once at module load, so this happens once per process.
 */
export function loadHandlers(stack: BenchStack): Promise<Handlers> {
  loaded ??= (async () => {
    Object.assign(process.env, {
      UPSTASH_REDIS_REST_URL: stack.connection.url,
      UPSTASH_REDIS_REST_TOKEN: stack.connection.token,
      MESA_NAMESPACE: LAMBDA_NAMESPACE,
      MESA_SYNC: 'true',
      DISPATCH_TOKEN,
    })
    const [sqs, http] = await Promise.all([import('../functions/sqs'), import('../functions/http')])
    return { sqs: sqs.handler, http: http.handler }
  })()
  return loaded
}
