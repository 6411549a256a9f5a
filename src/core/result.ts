import type { Recipient } from './message.js'
import { RECIPIENT_STATE } from '../script/protocol.js'

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
  /**
   * The offline recipients whose message was not stored, so a caller can reach them another way: ids Mesa never
   * stores (numbers, blank strings), messages with `sync: false`, and messages too large for the caps.
   */
  unstored: Recipient[]
  /** How many offline recipients had the message stored for redelivery on their next login. */
  stored: number
  /** How many older stored messages were dropped to keep the recipients' backlogs within their caps. */
  dropped: number
  /** True when this dispatch id was already applied within the dedupe window: nothing was done again. */
  duplicate: boolean
  /** True when `excluding` could not apply because the recipients include `'*'`, which reaches everyone. */
  excludingIgnored: boolean
}

/** A result that reached no recipient yet, which the parts of a dispatch are merged into. */
export function emptyResult(checked: boolean, excludingIgnored: boolean): DispatchResult {
  return { servers: 0, recipients: [], online: checked ? [] : null, offline: [], unstored: [], stored: 0, dropped: 0, duplicate: true, excludingIgnored }
}

/** The part of a script's outcome that reached `recipients`, mapped back onto them, merged into `result`. */
export function addPart(
  result: DispatchResult,
  recipients: readonly Recipient[],
  part: { servers: number; stored: number; dropped: number; states: string },
  checked: boolean,
): void {
  result.servers = Math.max(result.servers, part.servers)
  result.stored += part.stored
  result.dropped += part.dropped
  result.duplicate = false
  if (!checked) {
    for (const recipient of recipients) result.recipients.push(recipient)
    return
  }
  const { states } = part
  for (let i = 0; i < states.length; i++) {
    const recipient = recipients[i]!
    const state = states[i]
    if (state === RECIPIENT_STATE.stored || state === RECIPIENT_STATE.unstored) {
      result.offline.push(recipient)
      if (state === RECIPIENT_STATE.unstored) result.unstored.push(recipient)
      continue
    }
    result.recipients.push(recipient)
    if (state === RECIPIENT_STATE.online) result.online!.push(recipient)
  }
}
