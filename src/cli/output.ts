import type { Recipient } from '../core/message.js'
import type { DispatchResult } from '../core/types.js'
import { DispatchEndpointError, type FailureOutcome, ValidationError } from '../errors.js'
import { hintOf } from './hints.js'
import type { Transport } from './transport-args.js'
import { UsageError } from './usage-error.js'

/** A failure as `--json` prints it: the same fields whichever transport failed. */
export interface ErrorOutput {
  ok: false
  error: {
    name: string
    message: string
    status?: number
    field?: string
    retryAfter?: number
    /** Through the endpoint: whether anything was applied, how many requests were sent, and the key they carried. */
    outcome?: FailureOutcome
    attempts?: number
    idempotencyKey?: string
    hint?: string
  }
}

/** The output for a dispatch that was applied: the result as one JSON line, or a short sentence. */
export function formatResult(result: DispatchResult, json: boolean): string {
  return `${json ? JSON.stringify(result) : describeResult(result)}\n`
}

/** The output for a failure: `{ ok: false, error }` as one JSON line, or one line naming the cause and one of advice if any. */
export function formatError(error: unknown, json: boolean): string {
  const { error: described } = describeError(error)
  if (json) return `${JSON.stringify({ ok: false, error: described })}\n`
  const details = [
    described.status ? `HTTP ${described.status}` : undefined,
    described.retryAfter !== undefined ? `retry after ${described.retryAfter} s` : undefined,
    described.attempts !== undefined && described.attempts > 1 ? `${described.attempts} attempts` : undefined,
  ].filter((each) => each !== undefined)
  const advice = error instanceof UsageError ? 'Run mesa-dispatch --help for usage.' : described.hint
  const hint = advice === undefined ? '' : `\n${advice}`
  return `mesa-dispatch: ${described.message}${details.length > 0 ? ` (${details.join(', ')})` : ''}${hint}\n`
}

/**
 * Names a failure with the endpoint's error name where there is one, so a 400 from the endpoint and a
 * ValidationError from a direct Dispatcher both read `ValidationError` with their field.
 */
export function describeError(error: unknown): ErrorOutput {
  const described = describeAny(error)
  const hint = hintOf(error)
  if (hint !== undefined) described.error.hint = hint
  return described
}

function describeAny(error: unknown): ErrorOutput {
  if (error instanceof DispatchEndpointError) {
    const described: ErrorOutput['error'] = { name: error.errorName ?? error.name, message: error.message, status: error.status }
    if (error.field !== undefined) described.field = error.field
    if (error.retryAfter !== undefined) described.retryAfter = error.retryAfter
    Object.assign(described, { outcome: error.outcome, attempts: error.attempts })
    if (error.idempotencyKey !== undefined) described.idempotencyKey = error.idempotencyKey
    return { ok: false, error: described }
  }
  if (error instanceof ValidationError) return { ok: false, error: { name: error.name, message: error.message, field: error.field } }
  if (error instanceof Error) return { ok: false, error: { name: error.name, message: error.message } }
  return { ok: false, error: { name: 'Error', message: String(error) } }
}

/** E.g. `sent to 1 server(s): online 0; stored for 1 offline`. */
function describeResult(result: DispatchResult): string {
  if (result.duplicate) return 'duplicate: this id was already applied, by an earlier call or an earlier attempt of this one, so nothing was sent again'
  const parts = [result.online === null ? `recipients ${list(result.recipients)}` : `online ${list(result.online)}`]
  const offline = result.offline.length
  if (offline > 0) parts.push(result.stored === offline ? `stored for ${offline} offline` : `stored for ${result.stored} of ${offline} offline`)
  if (result.excludingIgnored) parts.push('excluding ignored, as the recipients include *')
  return `sent to ${result.servers} server(s): ${parts.join('; ')}`
}

/**
 * Why a dispatch may have reached no Mesa server, when it was published to someone and none heard it: nobody
 * subscribed to its channel, `ws_<namespace>`, on that Redis. Through the endpoint the namespace is the endpoint's
 * MESA_NAMESPACE, which the CLI cannot see; straight to Redis it is the one the CLI used, and is named.
 */
export function describeUnheard(result: DispatchResult, transport: Transport): string | undefined {
  if (result.duplicate || result.servers > 0 || result.recipients.length === 0) return undefined
  if (transport.kind === 'endpoint') {
    return "no Mesa server is subscribed to the endpoint's channel, ws_<its MESA_NAMESPACE> (ws without one): check that the Mesa servers use the endpoint's namespace and Redis\n"
  }
  const channel = transport.namespace === undefined ? 'ws' : `ws_${transport.namespace}`
  const namespace = transport.namespace === undefined ? 'no namespace' : `the namespace "${transport.namespace}"`
  return `no Mesa server is subscribed to ${channel} on that Redis: check that the Mesa servers use ${namespace} (--namespace or MESA_NAMESPACE) and this Redis\n`
}

function list(ids: Recipient[]): string {
  return ids.length === 0 ? 'none' : ids.map(String).join(', ')
}
