import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, LambdaFunctionURLEvent } from 'aws-lambda'
import type { Hono } from 'hono'
import { handle } from 'hono/aws-lambda'
import { createAppFromEnv } from '../src/http/app.js'
import { createMetricsFromEnv } from '../src/observe/dispatch-metrics.js'
import { DISPATCH_SCRIPT } from '../src/script/scripts.js'
import { createInvocationDeadline } from '../src/triggers/deadline.js'
import { loadFetchClasses } from '../src/triggers/fetch-classes.js'
import { initLambda } from '../src/triggers/lambda-init.js'

/** API Gateway REST (payload 1.0), HTTP API (2.0) and Function URL events all come through this handler. */
export type HttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | LambdaFunctionURLEvent

await initLambda(import.meta.url, process.env, [DISPATCH_SCRIPT])
await loadFetchClasses()
const deadline = createInvocationDeadline()
const metrics = createMetricsFromEnv(process.env)
const app = createAppFromEnv(process.env, { deadline: deadline.get, metrics })

// Hono's adapter converts every event shape (and base64 bodies) to a Request and back; it only ever calls
// `fetch(request, { lambdaContext })`, so our fetch-shaped app stands in for a Hono instance.
const adapter = handle({
  fetch: (request: Request, env: { lambdaContext?: Context }) => app.fetch(request, { requestId: env.lambdaContext?.awsRequestId }),
} as unknown as Hono)

const methodOf = (event: HttpEvent) => ('httpMethod' in event ? event.httpMethod : event.requestContext.http.method).toUpperCase()

/**
 * API Gateway forwards a body on GET and HEAD, which `new Request` refuses; the adapter would then answer a
 * plain-text 400 itself, outside the app's JSON contract. Those methods never carry a meaningful body here.
 */
const withoutBodyOnGet = (event: HttpEvent): HttpEvent =>
  event.body && ['GET', 'HEAD'].includes(methodOf(event)) ? ({ ...event, body: undefined, isBase64Encoded: false } as HttpEvent) : event

/** The Lambda handler for HTTP events; it writes the invocation's metrics as one EMF line (more for a mixed batch). */
export const handler = (event: HttpEvent, context: Context) =>
  deadline.run(context.getRemainingTimeInMillis(), () =>
    metrics.observe(context.functionName, () => adapter(withoutBodyOnGet(event) as unknown as Parameters<typeof adapter>[0], context)),
  )
