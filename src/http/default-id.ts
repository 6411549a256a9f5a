import type { DispatchOptions } from '../core/types.js'
import { GENERATED_ID_TTL_SECONDS, SIGNATURE_REPLAY_TTL_SECONDS } from '../limits.js'
import type { RetryBasis } from './answers.js'
import type { AcceptedRequest } from './intake.js'

/** The id an item without its own gets, suffixed with its index in a batch, how long it must be remembered, and what it is. */
export interface DefaultId {
  base: string
  ttlSeconds?: number
  basis: RetryBasis
}

/**
 * The `Idempotency-Key` header; else, for a signed request, its signature: a replay of it inside the signature
 * window then answers as a duplicate, and its id needs remembering only as long as the window lasts (the signature
 * covers the route and the header, so a replay can neither add a key of its own nor land on another route); else
 * an id made up for the request, which a failure's answer gives back (`idempotencyKey`), so that the caller can
 * resend the request with it as its Idempotency-Key and have it applied at most once.
 */
export function defaultId(accepted: Pick<AcceptedRequest, 'idempotencyKey' | 'signature'>): DefaultId {
  if (accepted.idempotencyKey !== undefined) return { base: accepted.idempotencyKey, basis: 'id' }
  if (accepted.signature !== undefined) return { base: `sig:${accepted.signature}`, ttlSeconds: SIGNATURE_REPLAY_TTL_SECONDS, basis: 'signature' }
  return { base: `gen:${crypto.randomUUID()}`, ttlSeconds: GENERATED_ID_TTL_SECONDS, basis: 'generated' }
}

/** The options of an item without its own id: the default id, suffixed with the item's index in a batch. */
export function optionsFor(fallback: DefaultId, index: number | undefined): DispatchOptions {
  return { id: index === undefined ? fallback.base : `${fallback.base}:${index}`, ttlSeconds: fallback.ttlSeconds }
}
