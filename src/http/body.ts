import { parseJson } from '../core/request.js'
import { PayloadTooLargeError, ValidationError } from '../errors.js'

/**
 * Reads a request body into bytes, refusing it as soon as it passes `limit`: first by its declared
 * Content-Length, before reading anything, then by counting, since a chunked body declares no length.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) throw new PayloadTooLargeError(limit)
  if (request.body === null) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new PayloadTooLargeError(limit)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Parses UTF-8 JSON bytes, naming `body` in the error when they are not. */
export function decodeJson(body: Uint8Array): unknown {
  let text: string
  try {
    text = decoder.decode(body)
  } catch (error) {
    throw new ValidationError('body', 'must be UTF-8 encoded JSON', { cause: error })
  }
  return parseJson(text)
}
