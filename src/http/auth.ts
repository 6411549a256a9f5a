import { AuthenticationError, ForbiddenError } from '../errors.js'
import { MAX_SIGNATURES, SIGNATURE_TOLERANCE_SECONDS } from '../limits.js'
import { type Bytes, hmac, importSigningKey, SIGNATURE_HEADER, type SignedRequest, stringToSign, toHex } from '../signature.js'
import type { ApiKey, Scope } from './api-keys.js'

/** What the headers claimed, checked as far as possible before the body is read. */
export type Claim = { kind: 'bearer'; key: ApiKey } | { kind: 'signature'; keyId: string; timestamp: string; signatures: Bytes[] }

/** Who a request proved to be: its key, and for a signed request the matching signature as lower-case hex. */
export interface Authenticated {
  key: ApiKey
  signature?: string
}

/** The parts of a request a signature covers besides the key and the time. */
export type SignedParts = Pick<SignedRequest, 'method' | 'path' | 'idempotencyKey'> & { body: Bytes }

/** Checks bearer tokens and signed requests against the named keys, with Web Crypto only (Lambda and edge alike). */
export interface Authenticator {
  /** How many keys are configured; with none, every request is refused. */
  readonly keyCount: number
  /** Finds the key a bearer token belongs to, or parses a signature header and checks its age; throws AuthenticationError. */
  identify(headers: Headers): Promise<Claim>
  /** Verifies a signature over the request's method, route, Idempotency-Key and exact body bytes; a bearer claim passes as is. */
  verify(claim: Claim, request: SignedParts): Promise<Authenticated>
}

/** What every 401 for a credential that matched nothing says, whichever part was wrong: it names no key. */
const NO_MATCH = 'the bearer token is missing or wrong'
const NO_SIGNATURE_MATCH = 'the signature does not match the request'
const HEADER_SHAPE = `the ${SIGNATURE_HEADER} header must look like keyid=<key name>,t=<unix seconds>,v2=<64 hex digits>`

const encoder = new TextEncoder()

/** Builds the authenticator; `now` is injectable so tests can sign at any time. */
export function createAuthenticator(keys: readonly ApiKey[], now: () => number = Date.now): Authenticator {
  // Each key's current token, and its previous one while its callers move off it (a rotation without downtime).
  const tokens = keys.flatMap((key) => [key.token, key.previousToken].flatMap((token) => (token ? [{ key, digest: sha256(encoder.encode(token)) }] : [])))
  // Each key's signing secrets, imported once and only when a signed request names the key.
  const signers = new Map<string, Array<Promise<CryptoKey>>>()
  const signersOf = (key: ApiKey) => {
    let imported = signers.get(key.name)
    if (!imported) {
      imported = [key.signingSecret, key.previousSigningSecret].flatMap((secret) => (secret ? [importSigningKey(secret)] : []))
      signers.set(key.name, imported)
    }
    return imported
  }
  const byName = new Map(keys.map((key) => [key.name, key]))
  // A key that signs nothing: an unknown keyid costs the same HMAC as a known one, so timing does not tell them apart.
  let decoy: Promise<CryptoKey> | undefined

  return {
    keyCount: keys.length,
    async identify(headers) {
      if (keys.length === 0) throw new AuthenticationError('this endpoint has no credentials configured')
      const authorization = headers.get('authorization')
      if (authorization !== null) {
        const match = /^Bearer +(\S+) *$/i.exec(authorization)
        // Hashing both sides first makes the comparison take the same time whatever the given token's length, and
        // every configured token is compared, so the time does not tell which one matched.
        const given = match ? await sha256(encoder.encode(match[1])) : undefined
        let matched: ApiKey | undefined
        for (const { key, digest } of tokens) if (given !== undefined && equalBytes(given, await digest)) matched ??= key
        if (!matched) throw new AuthenticationError(NO_MATCH)
        return { kind: 'bearer', key: matched }
      }
      const header = headers.get(SIGNATURE_HEADER)
      if (header === null) throw new AuthenticationError(`send Authorization: Bearer <token> or a signed ${SIGNATURE_HEADER} header`)
      const claim = parseSignatureHeader(header)
      if (Math.abs(now() / 1000 - Number(claim.timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
        throw new AuthenticationError(`the signature timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} seconds from now`)
      }
      return claim
    },
    async verify(claim, request) {
      if (claim.kind === 'bearer') return { key: claim.key }
      const key = byName.get(claim.keyId)
      const secrets = key ? signersOf(key) : []
      decoy ??= importSigningKey(crypto.randomUUID())
      const text = await stringToSign({ ...request, keyId: claim.keyId, timestamp: claim.timestamp })
      // One HMAC per secret of the key (two while it rotates) whatever the number of entries, each entry compared in
      // constant time; a key that cannot sign, or does not exist, is refused after the same work.
      for (const secret of secrets.length > 0 ? secrets : [decoy]) {
        const mac = await hmac(secret, text)
        let matched = false
        for (const signature of claim.signatures) matched = equalBytes(signature, mac) || matched
        // The matching entry equals the computed MAC, so its hex is the MAC's, lower-case whatever the sender wrote.
        if (matched && key && secrets.length > 0) return { key, signature: toHex(mac) }
      }
      throw new AuthenticationError(NO_SIGNATURE_MATCH)
    },
  }
}

/** Refuses a key that may not call a route, before anything is read or changed. */
export function authorize(key: ApiKey, scope: Scope): void {
  if (!key.scopes.includes(scope)) throw new ForbiddenError(key.name, scope)
}

function parseSignatureHeader(header: string): Claim & { kind: 'signature' } {
  let keyId: string | undefined
  let timestamp: string | undefined
  const signatures: Bytes[] = []
  let entries = 0
  let legacy = false
  for (const part of header.split(',')) {
    const at = part.indexOf('=')
    const [name, value] = at < 0 ? [part.trim(), ''] : [part.slice(0, at).trim(), part.slice(at + 1).trim()]
    if (name === 'keyid' && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) keyId = value
    else if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = value
    // Several v2 entries are allowed so that a sender can sign with an old and a new secret during a rotation.
    else if (name === 'v2' && ++entries <= MAX_SIGNATURES && /^[0-9a-f]{64}$/i.test(value)) signatures.push(hexToBytes(value))
    else if (name === 'v1') legacy = true
  }
  if (entries > MAX_SIGNATURES) {
    throw new AuthenticationError(`the ${SIGNATURE_HEADER} header must carry at most ${MAX_SIGNATURES} v2 signatures, got ${entries}`)
  }
  if (legacy && signatures.length === 0) {
    // The v1 format signed only the time and the body: a replay could change the route and the Idempotency-Key.
    throw new AuthenticationError(
      'v1 signatures are no longer accepted: sign the method, route, Idempotency-Key and body as keyid=<key name>,t=<unix seconds>,v2=<64 hex digits>',
    )
  }
  if (keyId === undefined || timestamp === undefined || signatures.length === 0) throw new AuthenticationError(HEADER_SHAPE)
  return { kind: 'signature', keyId, timestamp, signatures }
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
