import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, LambdaFunctionURLEvent } from 'aws-lambda'
import type { Hono } from 'hono'
import { handle } from 'hono/aws-lambda'
import { type App, createAppFromEnv } from '../src/http/app.js'
import { runWarmPath } from '../src/http/warm-path.js'
import { createMetricsFromEnv, type InvocationMetrics } from '../src/observe/dispatch-metrics.js'
import { DISPATCH_SCRIPT } from '../src/script/scripts.js'
import { createInvocationDeadline } from '../src/triggers/deadline.js'
import { loadFetchClasses } from '../src/triggers/fetch-classes.js'
import { initLambda } from '../src/triggers/lambda-init.js'
import { isProvisionedInit } from '../src/triggers/warm-up.js'

/** API Gateway REST (payload 1.0), HTTP API (2.0) and Function URL events all come through this handler. */
export type HttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | LambdaFunctionURLEvent

await initLambda(import.meta.url, process.env, [DISPATCH_SCRIPT])
await loadFetchClasses()
const deadline = createInvocationDeadline()
const metrics = createMetricsFromEnv(process.env)
const app = createAppFromEnv(process.env, { deadline: deadline.get, metrics })

// Hono's adapter converts every event shape (and base64 bodies) to a Request and back; it only ever calls
// `fetch(request, { lambdaContext })`, so our fetch-shaped app stands in for a Hono instance.
const adapterOf = (app: App) =>
  handle({
    fetch: (request: Request, env: { lambdaContext?: Context }) => app.fetch(request, { requestId: env.lambdaContext?.awsRequestId }),
  } as unknown as Hono)

const methodOf = (event: HttpEvent) => ('httpMethod' in event ? event.httpMethod : event.requestContext.http.method).toUpperCase()

/**
 * API Gateway forwards a body on GET and HEAD, which `new Request` refuses; the adapter would then answer a
 * plain-text 400 itself, outside the app's JSON contract. Those methods never carry a meaningful body here.
 */
const withoutBodyOnGet = (event: HttpEvent): HttpEvent =>
  event.body && ['GET', 'HEAD'].includes(methodOf(event)) ? ({ ...event, body: undefined, isBase64Encoded: false } as HttpEvent) : event

/** The handler on an app and its metrics: the function's own, or the warm-up's (src/http/warm-path.ts). */
const handlerOf = (app: App, metrics: InvocationMetrics) => {
  const adapter = adapterOf(app)
  return (event: HttpEvent, context: Context) =>
    deadline.run(context.getRemainingTimeInMillis(), () =>
      metrics.observe(context.functionName, () => adapter(withoutBodyOnGet(event) as unknown as Parameters<typeof adapter>[0], context)),
    )
}

/** The Lambda handler for HTTP events; it writes the invocation's metrics as one EMF line (more for a mixed batch). */
export const handler = handlerOf(app, metrics)

// A provisioned init has no request waiting: it runs one dispatch through the same code on a path that sends and
// writes nothing, so that the first request pays no first run of it. An on-demand init, which a request waits on,
// would only pay the same cost earlier, and more of it, since that request may take another path.
if (isProvisionedInit(process.env)) {
  await runWarmPath(process.env, (warm) =>
    handlerOf(warm.app, warm.metrics)(warmUpEvent(warm.request), { functionName: 'warm-up', getRemainingTimeInMillis: () => 1000 } as Context),
  )
}

/** An HTTP API event (payload 2.0, as serverless.yml's httpApi routes send) of `POST /dispatch`, with what Hono's adapter reads of it. */
function warmUpEvent(request: { headers: Record<string, string>; body: string }): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/dispatch',
    rawQueryString: '',
    headers: { host: 'warm-up.invalid', ...request.headers },
    requestContext: { domainName: 'warm-up.invalid', http: { method: 'POST', path: '/dispatch' } },
    body: request.body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2
}
