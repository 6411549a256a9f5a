import type { AuthSecrets } from '../config.js'
import { AuthenticationError } from '../errors.js'
import { MAX_SIGNATURES, SIGNATURE_TOLERANCE_SECONDS } from '../limits.js'
import { type Bytes, importSigningKey, SIGNATURE_HEADER, signedBytes, toHex } from '../signature.js'

/** What the headers claimed, checked as far as possible before the body is read. */
export type Credential = { kind: 'bearer' } | { kind: 'signature'; timestamp: string; signatures: Bytes[] }

/** What a verified request proved: for a signed one, the matching signature as lower-case hex; nothing for bearer. */
export type Verified = { signature: string } | undefined

/** Checks bearer tokens and signed webhooks with Web Crypto only, so it runs on Lambda and at the edge alike. */
export interface Authenticator {
  /** Whether any secret is configured; without one, every request is refused. */
  readonly configured: boolean
  /** Verifies a bearer token, or parses a signature header and checks its age; throws AuthenticationError. */
  precheck(headers: Headers): Promise<Credential>
  /** Verifies a signature over the exact raw body bytes, returning it; bearer credentials pass with undefined. */
  verify(credential: Credential, body: Bytes): Promise<Verified>
}

const encoder = new TextEncoder()

/** Builds the authenticator; `now` is injectable so tests can sign at any time. */
export function createAuthenticator(secrets: AuthSecrets, now: () => number = Date.now): Authenticator {
  // The current token, and the previous one while clients move off it (a rotation without downtime).
  const tokenDigests = secrets.token ? [secrets.token, secrets.previousToken].flatMap((token) => (token ? [sha256(encoder.encode(token))] : [])) : []
  const hmacKey = secrets.signingSecret ? importSigningKey(secrets.signingSecret) : undefined

  return {
    configured: tokenDigests.length > 0 || hmacKey !== undefined,
    async precheck(headers) {
      if (tokenDigests.length === 0 && !hmacKey) throw new AuthenticationError('this endpoint has no credentials configured')
      const authorization = headers.get('authorization')
      if (authorization !== null) {
        const match = /^Bearer +(\S+) *$/i.exec(authorization)
        // Hashing both sides first makes the comparison take the same time whatever the given token's length, and
        // every configured token is compared, so the time does not tell which one matched.
        const given = match ? await sha256(encoder.encode(match[1])) : undefined
        let matched = false
        for (const digest of tokenDigests) matched = (given !== undefined && equalBytes(given, await digest)) || matched
        if (!matched) throw new AuthenticationError('the bearer token is missing or wrong')
        return { kind: 'bearer' }
      }
      const header = headers.get(SIGNATURE_HEADER)
      if (header === null) throw new AuthenticationError(`send Authorization: Bearer <token> or a signed ${SIGNATURE_HEADER} header`)
      if (!hmacKey) throw new AuthenticationError('signed requests are not accepted by this endpoint')
      const credential = parseSignatureHeader(header)
      if (Math.abs(now() / 1000 - Number(credential.timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
        throw new AuthenticationError(`the signature timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} seconds from now`)
      }
      return credential
    },
    async verify(credential, body) {
      if (credential.kind === 'bearer') return undefined
      const signed = signedBytes(credential.timestamp, body)
      // One HMAC of the body whatever the number of entries, each compared in constant time (not as hex strings).
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey!, signed))
      let matched = false
      for (const signature of credential.signatures) matched = equalBytes(signature, mac) || matched
      if (!matched) throw new AuthenticationError('the signature does not match the body')
      // The matching entry equals the computed MAC, so its hex is the MAC's, lower-case whatever the sender wrote.
      return { signature: toHex(mac) }
    },
  }
}

function parseSignatureHeader(header: string): Credential & { kind: 'signature' } {
  let timestamp: string | undefined
  const signatures: Bytes[] = []
  let entries = 0
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2)
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = value
    // Several v1 entries are allowed so that a sender can sign with an old and a new secret during rotation.
    else if (key === 'v1' && ++entries <= MAX_SIGNATURES && /^[0-9a-f]{64}$/i.test(value)) signatures.push(hexToBytes(value))
  }
  if (entries > MAX_SIGNATURES) {
    throw new AuthenticationError(`the ${SIGNATURE_HEADER} header must carry at most ${MAX_SIGNATURES} v1 signatures, got ${entries}`)
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw new AuthenticationError(`the ${SIGNATURE_HEADER} header must look like t=<unix seconds>,v1=<64 hex digits>`)
  }
  return { kind: 'signature', timestamp, signatures }
}

async function sha256(bytes: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
}

function equalBytes(a: Bytes, b: Bytes): boolean {
  let difference = a.length ^ b.length
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i]! ^ b[i]!
  return difference === 0
}

function hexToBytes(hex: string): Bytes {
  const bytes = new Uint8Array(hex.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return bytes
}
