import type { RateLimit } from '../core/types.js'
import { ValidationError } from '../errors.js'
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../limits.js'
import type { AnswerContext } from './answers.js'
import type { ApiKey, Scope } from './api-keys.js'
import { type Authenticator, authorize } from './auth.js'
import { readBody } from './body.js'

/**
 * What one request is known by while it is handled: its id, its key's name once the key is known, and what its
 * failure answer must say about retrying it (src/http/answers.ts).
 */
export interface RequestScope extends AnswerContext {
  readonly requestId: string
  /** Set as soon as the credentials name a key, so that every later log line and metric carries it. */
  keyName?: string
}

/** A request whose credentials, scope, Idempotency-Key and size passed: everything a route needs from the HTTP layer. */
export interface AcceptedRequest {
  key: ApiKey
  body: Uint8Array<ArrayBuffer>
  /** The matching signature as lower-case hex, for a signed request. */
  signature?: string
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey?: string
  /** The key's rate limit as the Dispatcher charges it, when the key has one. */
  rateLimit?: RateLimit
}

/** What every route's intake needs. */
export interface IntakeOptions {
  authenticator: Authenticator
  maxBodyBytes: number
}

/**
 * Takes a request in, in the order that keeps work off unauthenticated, unauthorized and oversized requests:
 * credentials from the headers, a bearer key's scope, the Idempotency-Key, the size limit while reading, the
 * signature over the method, route, Idempotency-Key and raw bytes, then a signed key's scope. A signed request's
 * scope is checked only once the signature holds, so that no one learns which keys exist or what they may do.
 */
export async function acceptRequest(options: IntakeOptions, request: Request, scope: Scope, context: RequestScope): Promise<AcceptedRequest> {
  const claim = await options.authenticator.identify(request.headers)
  if (claim.kind === 'bearer') {
    context.keyName = claim.key.name
    authorize(claim.key, scope)
  }
  const key = idempotencyKey(request.headers)
  const body = await readBody(request, options.maxBodyBytes)
  const { pathname } = new URL(request.url)
  const authenticated = await options.authenticator.verify(claim, { method: request.method, path: pathname, idempotencyKey: key, body })
  context.keyName = authenticated.key.name
  authorize(authenticated.key, scope)
  const { rateLimit, name } = authenticated.key
  return {
    key: authenticated.key,
    body,
    ...(authenticated.signature === undefined ? {} : { signature: authenticated.signature }),
    ...(key === undefined ? {} : { idempotencyKey: key }),
    ...(rateLimit ? { rateLimit: { name, ...rateLimit } } : {}),
  }
}

/** The `Idempotency-Key` header, checked whether or not a body id overrides it: a batch item's id is `<key>:<index>`. */
export function idempotencyKey(headers: Headers): string | undefined {
  const key = headers.get('idempotency-key')
  if (key !== null && (key === '' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new ValidationError('Idempotency-Key', `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`)
  }
  return key ?? undefined
}
