// The request signature, shared by the endpoint that verifies it and the client that makes it: Web Crypto only.
// It follows AWS SigV4's and Stripe's shape: an HMAC-SHA256, keyed by the key's signing secret, of a canonical
// string that names everything a replay could otherwise change: the key, the time, the method, the route, the
// Idempotency-Key header (present or not) and the body's SHA-256. docs/http-api.md publishes test vectors.

/** The header that carries a signature: `keyid=<key name>,t=<unix seconds>,v2=<64 hex digits>`. */
export const SIGNATURE_HEADER = 'x-mesa-signature'

/** The first line of every string to sign: the scheme, so that no other protocol's MAC can pass for one of ours. */
export const SIGNATURE_SCHEME = 'mesa-v2'

/** Bytes backed by a plain ArrayBuffer, as Web Crypto requires. */
export type Bytes = Uint8Array<ArrayBuffer>

/** What a signature covers, besides the secret that keys it. */
export interface SignedRequest {
  /** The name of the key whose secret signs, sent as `keyid`. */
  keyId: string
  /** Unix seconds, sent as `t`; the endpoint refuses a signature more than 300 s away from its clock. */
  timestamp: number | string
  /** The HTTP method, e.g. `POST`; written in upper case. */
  method: string
  /** The route, e.g. `/dispatch`: the path the endpoint routes on, without any stage or mount prefix. */
  path: string
  /** The `Idempotency-Key` header's value, or undefined when the request has none. */
  idempotencyKey?: string
  /** The exact body bytes sent (a string is sent as its UTF-8). */
  body: string | Bytes
}

const encoder = new TextEncoder()

/** An HMAC-SHA256 key for a secret, for signing. */
export function importSigningKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
}

/** The SHA-256 of bytes, as lower-case hex. */
export async function sha256Hex(bytes: string | Bytes): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', typeof bytes === 'string' ? encoder.encode(bytes) : bytes)))
}

/**
 * The string a signature is the HMAC of: seven lines joined by `\n`, with no trailing newline: the scheme
 * (`mesa-v2`), the key name, the timestamp, the method, the path, the Idempotency-Key (an empty line when absent:
 * the endpoint refuses an empty header) and the body's SHA-256 in lower-case hex.
 */
export async function stringToSign(request: SignedRequest): Promise<string> {
  const { keyId, timestamp, method, path, idempotencyKey = '', body } = request
  return [SIGNATURE_SCHEME, keyId, String(timestamp), method.toUpperCase(), path, idempotencyKey, await sha256Hex(body)].join('\n')
}

/** The HMAC-SHA256 of a string to sign, under an imported key. */
export async function hmac(key: CryptoKey | Promise<CryptoKey>, text: string): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(text)))
}

/** Bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/**
 * Signs a request the way the endpoint verifies it, with the secret of the key named `keyId`: returns the
 * `x-mesa-signature` header's value. The timestamp defaults to now.
 */
export async function signRequest(secret: string, request: Omit<SignedRequest, 'timestamp'> & { timestamp?: number }): Promise<string> {
  const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000)
  const mac = await hmac(importSigningKey(secret), await stringToSign({ ...request, timestamp }))
  return `keyid=${request.keyId},t=${timestamp},v2=${toHex(mac)}`
}
