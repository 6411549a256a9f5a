import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, LambdaFunctionURLEvent } from 'aws-lambda'
import type { Hono } from 'hono'
import { handle } from 'hono/aws-lambda'
import { createAppFromEnv } from '../src/app'
import { createInvocationDeadline } from '../src/deadline'

/** API Gateway REST (payload 1.0), HTTP API (2.0) and Function URL events all come through this handler. */
export type HttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | LambdaFunctionURLEvent

const deadline = createInvocationDeadline()
const app = createAppFromEnv(process.env, { deadline: deadline.get })

// Hono's adapter converts every event shape (and base64 bodies) to a Request and back; it only ever calls
// `fetch(request, { lambdaContext })`, so our fetch-shaped app stands in for a Hono instance.
const adapter = handle({
  fetch: (request: Request, env: { lambdaContext?: Context }) => app.fetch(request, { requestId: env.lambdaContext?.awsRequestId }),
} as unknown as Hono)

/** The Lambda handler for HTTP events. */
export const handler = (event: HttpEvent, context: Context) =>
  deadline.run(context.getRemainingTimeInMillis(), () => adapter(event as unknown as Parameters<typeof adapter>[0], context))
