import { randomUUID } from 'node:crypto'
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, EventBridgeEvent, LambdaFunctionURLEvent, SQSEvent, SQSRecord } from 'aws-lambda'

/** An HTTP call as a test describes it, before it is shaped into any one event. */
export interface HttpCall {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
  /** Send the body base64-encoded, as API Gateway does for binary media types and Function URLs may. */
  base64?: boolean
}

const requestTime = () => new Date().toUTCString()
const encodeBody = (call: HttpCall) => (call.body === undefined ? undefined : call.base64 ? Buffer.from(call.body).toString('base64') : call.body)

/** An API Gateway REST API (payload 1.0) proxy event. */
export function restApiEvent(call: HttpCall): APIGatewayProxyEvent {
  const headers = { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...call.headers }
  return {
    resource: call.path,
    path: call.path,
    httpMethod: call.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: encodeBody(call) ?? null,
    isBase64Encoded: call.base64 === true,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: call.method,
      identity: { sourceIp: '203.0.113.7', userAgent: 'test' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${call.path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res1',
      resourcePath: call.path,
    },
  }
}

/** An API Gateway HTTP API (payload 2.0) event. */
export function httpApiEvent(call: HttpCall): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${call.method} ${call.path}`,
    rawPath: call.path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...call.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: `${call.method} ${call.path}`,
      stage: '$default',
      time: requestTime(),
      timeEpoch: Date.now(),
    },
    body: encodeBody(call),
    isBase64Encoded: call.base64 === true,
  }
}

/** A Lambda Function URL event (payload 2.0 with a `lambda-url` domain). */
export function functionUrlEvent(call: HttpCall): LambdaFunctionURLEvent {
  const event = httpApiEvent(call)
  const domainName = 'abcdefghij.lambda-url.eu-west-1.on.aws'
  return {
    ...event,
    routeKey: '$default',
    headers: { ...event.headers, host: domainName },
    requestContext: { ...event.requestContext, domainName, domainPrefix: 'abcdefghij', routeKey: '$default', authorizer: undefined },
  } as LambdaFunctionURLEvent
}

/** An SQS record with the given body; pass a `.fifo` queue name for FIFO attributes. */
export function sqsRecord(body: string, options: { messageId?: string; queue?: string; group?: string } = {}): SQSRecord {
  const queue = options.queue ?? 'mesa-dispatch-queue'
  const fifo = queue.endsWith('.fifo')
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `handle-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(fifo ? { MessageGroupId: options.group ?? 'room-1', MessageDeduplicationId: randomUUID(), SequenceNumber: '1' } : {}),
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}`,
    awsRegion: 'eu-west-1',
  }
}

/** An SQS event carrying the given records. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records }
}

/** An EventBridge event with the dispatch request in `detail`. */
export function eventBridgeEvent(detail: unknown, detailType = 'mesa.dispatch'): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'com.example.app',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail,
  }
}

/** A Lambda context whose remaining time counts down from `budgetMs`. */
export function lambdaContext(budgetMs = 30_000): Context {
  const deadline = Date.now() + budgetMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'mesa-dispatch-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:mesa-dispatch-test',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/mesa-dispatch-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}
