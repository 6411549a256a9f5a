// Node's own http and https modules, for the REST transport's requests where they are at hand: the same request
// through Node's fetch (undici) cost a 1,000-recipient dispatch about a millisecond more, a fifth of its time over
// loopback (bench/optimisations.md), in building a Request, teeing its body for a redirect, and reading both bodies
// as web streams. Edge runtimes, and a Node before 20.16, have no `process.getBuiltinModule` and keep using fetch.

/** One answer's status, and its body read on demand, as a fetch Response gives them. */
export interface PostAnswer {
  readonly status: number
  /** The whole body as text; rejects as fetch's `text()` does when the request is aborted or the connection lost. */
  text(): Promise<string>
  /** Drops the body, so that the connection can carry the next request. */
  discard(): void
}

/**
 * Sends one POST and resolves once the answer's head arrived, the whole exchange cut at `timeoutMs` or when `signal`
 * aborts; rejects as fetch does (a TimeoutError, the signal's reason, or a TypeError).
 */
export type Post = (url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal) => Promise<PostAnswer>

interface NodeRequestModule {
  request(url: string, options: { method: string; headers: Record<string, string | number> }, onResponse: (response: NodeResponse) => void): NodeRequest
}

interface NodeRequest {
  on(event: 'error', listener: (error: Error) => void): unknown
  destroy(error: unknown): unknown
  end(body: Uint8Array): unknown
}

interface NodeResponse {
  readonly statusCode?: number
  readonly complete: boolean
  setEncoding(encoding: 'utf8'): unknown
  on(event: 'data', listener: (chunk: string) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

type GetBuiltinModule = (id: string) => unknown

/**
 * A Post over Node's http and https modules and their global agents, which keep connections alive since Node 19; or
 * undefined where they are not at hand: no `process.getBuiltinModule` (edge runtimes, Node before 20.16), or
 * Cloudflare's workerd, whose `node:http` under nodejs_compat is itself built on fetch.
 */
export function createNodePost(): Post | undefined {
  const process = (globalThis as { process?: { versions?: { node?: unknown }; getBuiltinModule?: GetBuiltinModule } }).process
  const navigator = (globalThis as { navigator?: { userAgent?: unknown } }).navigator
  if (typeof process?.getBuiltinModule !== 'function' || typeof process.versions?.node !== 'string') return undefined
  if (navigator?.userAgent === 'Cloudflare-Workers') return undefined
  const http = process.getBuiltinModule('node:http') as NodeRequestModule | undefined
  const https = process.getBuiltinModule('node:https') as NodeRequestModule | undefined
  if (!http || !https) return undefined
  const encoder = new TextEncoder()
  return (url, headers, body, timeoutMs, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      // Why the exchange was cut, if it was: a timer and a listener cost a dispatch less than an AbortSignal.timeout
      // per attempt, which Node's modules would also have to watch (8-10% of a 1,000-recipient dispatch over loopback).
      let cut: unknown
      const stop = (reason: unknown) => {
        cut ??= reason
        request.destroy(reason)
      }
      const onAbort = () => stop(signal!.reason)
      const timer = setTimeout(() => stop(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs)
      signal?.addEventListener('abort', onAbort)
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      // What fetch rejects with, so that a failure reads the same in logs whichever sent it: why it was cut (a
      // TimeoutError, the signal's reason), else a TypeError whose cause is what the socket said (ECONNREFUSED, …).
      const failed = (error: Error, message: string) => {
        done()
        return cut ?? new TypeError(message, { cause: error })
      }
      const bytes = encoder.encode(body)
      const module = url.startsWith('https:') ? https : http
      const request = module.request(url, { method: 'POST', headers: { ...headers, 'content-length': bytes.length } }, (response) => {
        // The body is read as it comes, which usually is with the head: waiting for text() to start reading it
        // would pause the stream and resume it a tick later.
        let text = ''
        response.setEncoding('utf8')
        const body = new Promise<string>((finish, fail) => {
          response.on('data', (chunk) => {
            text += chunk
          })
          response.on('end', () => {
            done()
            finish(text)
          })
          response.on('error', (error) => fail(failed(error, 'terminated')))
          response.on('close', () => {
            if (!response.complete) fail(failed(new Error('the connection closed before the answer ended'), 'terminated'))
          })
        })
        // A body nobody asks for (a 5xx answer's) may fail unheard.
        body.catch(() => {})
        resolve({ status: response.statusCode ?? 0, text: () => body, discard: () => {} })
      })
      request.on('error', (error) => reject(failed(error, 'fetch failed')))
      request.end(bytes)
    })
}
