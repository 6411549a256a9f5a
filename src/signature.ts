// The webhook signature, shared by the endpoint that verifies it and the client that makes it: Web Crypto only.

/** The header that carries a webhook signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = 'x-mesa-signature'

/** Bytes backed by a plain ArrayBuffer, as Web Crypto requires. */
export type Bytes = Uint8Array<ArrayBuffer>

const encoder = new TextEncoder()

/** An HMAC-SHA256 key for a secret, for signing. */
export function importSigningKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
}

/** The bytes a signature covers: `<timestamp>.<raw body>`. */
export function signedBytes(timestamp: string | number, body: string | Bytes): Bytes {
  const prefix = encoder.encode(`${timestamp}.`)
  const bytes = typeof body === 'string' ? encoder.encode(body) : body
  const joined = new Uint8Array(prefix.length + bytes.length)
  joined.set(prefix)
  joined.set(bytes, prefix.length)
  return joined
}

/** Bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** Signs a body the way the endpoint verifies it: returns the `x-mesa-signature` header's value. */
export async function signBody(secret: string, body: string | Bytes, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await importSigningKey(secret), signedBytes(timestamp, body)))
  return `t=${timestamp},v1=${toHex(mac)}`
}
