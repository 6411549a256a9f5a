import fc from 'fast-check'
import { requestText } from './request-arbitraries'
import { MAX_BODY_BYTES } from './settings'

// HTTP request bodies as bytes: request JSON, and bytes no JSON text could be.

const utf8 = new TextEncoder()
const exactUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** Bytes on a plain ArrayBuffer, which both Request bodies and Web Crypto take. */
export type Bytes = Uint8Array<ArrayBuffer>

/** UTF-8 text with a leading BOM kept, so that text and bytes round-trip exactly; undefined when not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return exactUtf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** Request text broken at the byte level: a byte inserted or overwritten (often invalid UTF-8), or a BOM prefix. */
const mangledBytes = fc
  .tuple(requestText, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('insert', 'overwrite', 'bom', 'truncate'))
  .map(([text, at, byte, how]) => {
    const bytes = utf8.encode(text)
    const i = at % (bytes.length + 1)
    if (how === 'bom') return Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes])
    if (how === 'truncate') return bytes.slice(0, i)
    if (how === 'overwrite' && i < bytes.length) return Uint8Array.from(bytes, (each, index) => (index === i ? byte : each))
    return Uint8Array.from([...bytes.slice(0, i), byte, ...bytes.slice(i)])
  })

/** Request text padded with JSON whitespace to a size around MAX_BODY_BYTES, to probe the limit exactly. */
const boundaryBytes = fc
  .tuple(requestText, fc.integer({ min: MAX_BODY_BYTES - 3, max: MAX_BODY_BYTES + 3 }))
  .map(([text, size]) => utf8.encode(text + ' '.repeat(Math.max(0, size - utf8.encode(text).length))))

/** A request body, printed in counterexamples as its text (or hex) rather than as thousands of numbers. */
export class Body {
  constructor(readonly bytes: Bytes) {}
  [fc.toStringMethod](): string {
    const text = decodeUtf8(this.bytes)
    const shown = text === undefined ? `hex ${Buffer.from(this.bytes.subarray(0, 200)).toString('hex')}` : JSON.stringify(text.slice(0, 400))
    const more = (text === undefined ? this.bytes.length > 200 : text.length > 400) ? '…' : ''
    return `Body(${this.bytes.length} bytes: ${shown}${more})`
  }
}

/** HTTP request bodies: request JSON, random bytes, broken JSON, bodies at the size limit, and no body. */
export const httpBody: fc.Arbitrary<Body | undefined> = fc
  .oneof(
    { weight: 16, arbitrary: requestText.map((text) => utf8.encode(text)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 2, arbitrary: mangledBytes },
    { weight: 1, arbitrary: boundaryBytes },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: MAX_BODY_BYTES - 2, maxLength: MAX_BODY_BYTES + 2 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
  .map((bytes) => bytes && new Body(bytes))
