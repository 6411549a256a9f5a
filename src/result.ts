import type { Recipient } from './message'
import type { ScriptOutcome } from './script-protocol'

/** What one dispatch did, once Redis has accepted all of it. */
export interface DispatchResult {
  /** How many Mesa servers (channel subscribers) heard the publish; 0 when nothing was published. */
  servers: number
  /** The recipients in the published payload: the online ones and `'*'` when sync checked, else all. */
  recipients: Recipient[]
  /** The recipients found in Mesa's online set, or null when no check was made (sync off, or an event). */
  online: Recipient[] | null
  /** The named recipients not online, who were left out of the publish; empty when no check was made. */
  offline: Recipient[]
  /** How many offline recipients had the message stored for redelivery on their next login. */
  stored: number
  /** True when this dispatch id was already applied within the dedupe window: nothing was done again. */
  duplicate: boolean
  /** True when `excluding` could not apply because the recipients include `'*'`, which reaches everyone. */
  excludingIgnored: boolean
}

/** Maps the script's per-recipient states back onto the recipients, in their order. */
export function shapeResult(
  recipients: Recipient[],
  outcome: ScriptOutcome,
  checked: boolean,
  excludingIgnored: boolean,
): DispatchResult {
  const { servers, stored, states } = outcome
  if (!checked) {
    return { servers, recipients, online: null, offline: [], stored, duplicate: false, excludingIgnored }
  }
  const published: Recipient[] = []
  const online: Recipient[] = []
  const offline: Recipient[] = []
  for (let i = 0; i < recipients.length; i++) {
    const recipient = recipients[i]!
    const state = states.charCodeAt(i)
    if (state === 48 /* '0' */) {
      offline.push(recipient)
      continue
    }
    published.push(recipient)
    if (state === 49 /* '1' */) online.push(recipient)
  }
  return { servers, recipients: published, online, offline, stored, duplicate: false, excludingIgnored }
}

/** The result of a dispatch whose id was already applied: this call published and stored nothing. */
export function duplicateResult(excludingIgnored: boolean): DispatchResult {
  return { servers: 0, recipients: [], online: null, offline: [], stored: 0, duplicate: true, excludingIgnored }
}
