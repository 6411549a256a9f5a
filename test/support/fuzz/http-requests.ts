import { signRequest } from '../../../src/client/index'
import type { Door, SentRequest } from './doors'
import type { HttpPlan, SignaturePlan } from './http-arbitraries'
import type { Bytes } from './http-bodies'
import { type HttpVerdict, httpVerdict, type SignedHeader } from './oracle'
import { FRESH_SECONDS, SECRET } from './settings'

// HTTP plans made real: headers written and signed over the exact bytes a door will send.

/**
 * Signs, or writes, the signature header of a plan over the exact bytes that will be sent, with the plan's method,
 * route and Idempotency-Key, as the client signs them.
 */
async function signatureHeader(plan: SignaturePlan, request: HttpPlan, body: Bytes | undefined): Promise<SignedHeader> {
  if (plan.kind === 'literal') return { value: plan.value, valid: false }
  const bytes = new Uint8Array(body ?? [])
  const signed = plan.tampered ? Uint8Array.from([...bytes, 0x20]) : bytes
  const value = await signRequest(plan.secret, {
    keyId: 'default',
    method: request.method,
    path: new URL(`https://dispatch.example.com${request.path}`).pathname,
    idempotencyKey: request.idempotencyKey,
    body: signed,
    timestamp: Math.floor(Date.now() / 1000) + plan.skewSeconds,
  })
  const decoy = `v2=${'0'.repeat(64)}`
  const header = plan.decoy === 'before' ? value.replace(',v2=', `,${decoy},v2=`) : plan.decoy === 'after' ? `${value},${decoy}` : value
  const fresh = Math.abs(plan.skewSeconds) <= FRESH_SECONDS
  return { value: header, valid: plan.secret === SECRET && fresh && !plan.tampered }
}

/** Materializes a plan for a door and predicts the outcome from the plan and the request parser alone. */
export async function prepareHttp(plan: HttpPlan, door: Door): Promise<{ request: SentRequest; verdict: HttpVerdict }> {
  const bodiless = plan.method === 'GET' || plan.method === 'HEAD'
  const body = bodiless && !door.sendsBodyWithGet ? undefined : plan.body?.bytes
  const headers: Record<string, string> = Object.fromEntries(plan.headers)
  if (plan.authorization) headers.authorization = plan.authorization.value
  const signed = plan.signature && (await signatureHeader(plan.signature, plan, body))
  if (signed) headers['x-mesa-signature'] = signed.value
  if (plan.idempotencyKey !== undefined) headers['idempotency-key'] = plan.idempotencyKey
  const request = { method: plan.method, path: plan.path, headers, body, base64: plan.base64 }
  return { request, verdict: httpVerdict(plan, door, body, signed) }
}
