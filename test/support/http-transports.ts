import type { Context } from 'aws-lambda'
import type { HttpEvent } from '../../functions/http'
import { functionUrlEvent, type HttpCall, httpApiEvent, lambdaContext, restApiEvent } from './events'

/** What a test reads back from an HTTP call, whichever entry point served it. */
export interface HttpReply {
  status: number
  headers: Record<string, string>
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown
  /** The body's size in bytes. */
  bodyBytes: number
  /** What the way in sends back, in bytes: a Lambda function's whole response (which Lambda caps at 6 MB), else the body. */
  responseBytes: number
}

/** One way into the HTTP app: a Lambda event shape, or the edge worker. */
export interface HttpTransport {
  name: string
  send(call: HttpCall): Promise<HttpReply>
}

/** The result shapes of payload 1.0 and 2.0, as far as a test reads them. */
interface LambdaHttpResult {
  statusCode: number
  body: string
  isBase64Encoded?: boolean
  headers?: Record<string, unknown>
  multiValueHeaders?: Record<string, unknown[]>
}
type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<LambdaHttpResult>

/** The three Lambda event shapes, all through the deployed `functions/http.ts` handler. */
export function lambdaTransports(handler: LambdaHttpHandler): HttpTransport[] {
  const through = (name: string, shape: (call: HttpCall) => HttpEvent): HttpTransport => ({
    name,
    async send(call) {
      const result = await handler(shape(call), lambdaContext())
      const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body
      // Payload 1.0 answers with multiValueHeaders when the event had them, 2.0 with plain headers.
      const multi = Object.entries(result.multiValueHeaders ?? {}).map(([key, values]) => [key, values[0]] as const)
      const headers = Object.fromEntries([...Object.entries(result.headers ?? {}), ...multi].map(([key, value]) => [key.toLowerCase(), String(value)]))
      return {
        status: result.statusCode,
        headers,
        body: parseBody(text),
        bodyBytes: Buffer.byteLength(text),
        responseBytes: Buffer.byteLength(JSON.stringify(result)),
      }
    },
  })
  return [
    through('Lambda REST API (payload 1.0)', restApiEvent),
    through('Lambda HTTP API (payload 2.0)', httpApiEvent),
    through('Lambda Function URL', functionUrlEvent),
  ]
}

/** Any fetch handler (the edge worker in workerd) as a transport. */
export function fetchTransport(name: string, fetch: (request: Request) => Promise<Response>): HttpTransport {
  return {
    name,
    async send(call) {
      const request = new Request(`https://dispatch.example.com${call.path}`, {
        method: call.method,
        headers: call.headers ?? {},
        ...(call.body === undefined ? {} : { body: call.body }),
      })
      const response = await fetch(request)
      const headers: Record<string, string> = {}
      for (const [key, value] of response.headers) headers[key] = value
      const text = await response.text()
      return { status: response.status, headers, body: parseBody(text), bodyBytes: Buffer.byteLength(text), responseBytes: Buffer.byteLength(text) }
    },
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
