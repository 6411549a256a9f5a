import type { HttpEvent } from '../../../functions/http'
import type { EdgeWorker } from '../edge-worker'
import { functionUrlEvent, type HttpCall, httpApiEvent, lambdaContext, restApiEvent } from '../events'
import type { lambdaTransports } from '../http-transports'
import { type Bytes, decodeUtf8 } from './http-bodies'

// Ways in: the three Lambda event shapes and the edge worker, all taking raw bytes.

/** A request as sent: the plan with its headers materialized. */
export interface SentRequest {
  method: string
  path: string
  headers: Record<string, string>
  body: Bytes | undefined
  base64: boolean
}
/** An answer as it came back, before anything parses it. */
export interface RawReply {
  status: number
  contentType: string | undefined
  text: string
}
/** One way into the HTTP app, with what the app gets to see of the headers sent through it. */
export interface Door {
  name: string
  /** The value the app reads from a header sent as `value`, or undefined when the header does not reach it. */
  seen(value: string): string | undefined
  /** A Request cannot carry a GET or HEAD body, so fetch callers never send one. */
  sendsBodyWithGet: boolean
  send(request: SentRequest): Promise<RawReply>
}

/** The deployed `functions/http.ts` handler, typed as the shared Lambda transports take it. */
export type LambdaHttpHandler = Parameters<typeof lambdaTransports>[0]

// hono/aws-lambda appends every multiValueHeaders value of payload 1.0, but skips empty `headers` values of 2.0.
const keepsAll = (value: string) => trimHttp(value)
const skipsEmpty = (value: string) => (value === '' ? undefined : trimHttp(value))
const LAMBDA_SHAPES: Array<[string, (call: HttpCall) => HttpEvent, Door['seen']]> = [
  ['Lambda REST API (payload 1.0)', restApiEvent, keepsAll],
  ['Lambda HTTP API (payload 2.0)', httpApiEvent, skipsEmpty],
  ['Lambda Function URL', functionUrlEvent, skipsEmpty],
]
/** The names of the Lambda doors, one per event shape. */
export const lambdaDoorNames = LAMBDA_SHAPES.map(([name]) => name)
/** The name of the edge worker's door. */
export const EDGE_DOOR = 'edge worker (workerd)'

/**
 * The three Lambda event shapes of test/support/events.ts, with a byte body: text when it is UTF-8 and the plan
 * says so, else base64 with `isBase64Encoded`, as API Gateway delivers binary bodies (HttpCall bodies are strings,
 * so invalid UTF-8 cannot go through `lambdaTransports`).
 */
export function lambdaDoors(handler: LambdaHttpHandler): Door[] {
  return LAMBDA_SHAPES.map(([name, shape, seen]) => ({
    name,
    seen,
    sendsBodyWithGet: true,
    async send(request) {
      const asText = request.body && !request.base64 ? decodeUtf8(request.body) : undefined
      const base64 = request.body !== undefined && asText === undefined
      const body = base64 ? Buffer.from(request.body!).toString('base64') : asText
      const call: HttpCall = { method: request.method, path: request.path, headers: request.headers, ...(body === undefined ? {} : { body }) }
      const result = await handler({ ...shape(call), isBase64Encoded: base64 }, lambdaContext())
      // Payload 1.0 answers with multiValueHeaders when the event had them, 2.0 with plain headers.
      const contentType = Object.entries({ ...result.headers, ...result.multiValueHeaders })
        .filter(([key]) => key.toLowerCase() === 'content-type')
        .map(([, value]) => String(Array.isArray(value) ? value[0] : value))[0]
      const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body
      return { status: result.statusCode, contentType, text }
    },
  }))
}

/** The edge worker in workerd, sent a standard Request. */
export function edgeDoor(worker: EdgeWorker): Door {
  return {
    name: EDGE_DOOR,
    // Miniflare's dispatchFetch drops headers whose value is empty once trimmed.
    seen: (value) => trimHttp(value) || undefined,
    sendsBodyWithGet: false,
    async send(request) {
      const response = await worker.fetch(
        new Request(`https://dispatch.example.com${request.path}`, { method: request.method, headers: request.headers, body: request.body ?? null }),
      )
      return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, text: await response.text() }
    },
  }
}

/** A header value as Headers stores it: without leading and trailing spaces and tabs. */
const trimHttp = (value: string) => value.replace(/^[\t ]+|[\t ]+$/g, '')
