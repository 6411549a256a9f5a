import { RECIPIENT_STATE } from '../script/protocol.js'
import type { DispatchResult, Recipient } from './types.js'

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
  // The lists are read once and the states compared as char codes: V8 runs this loop unoptimized for a process's
  // first few dozen dispatches, where every property read and one-character string inside it counts.
  const { recipients: reached, offline, unstored } = result
  const online = result.online!
  for (let i = 0; i < states.length; i++) {
    const recipient = recipients[i]!
    const state = states.charCodeAt(i)
    if (state === STORED || state === UNSTORED) {
      offline.push(recipient)
      if (state === UNSTORED) unstored.push(recipient)
      continue
    }
    reached.push(recipient)
    if (state === ONLINE) online.push(recipient)
  }
}

const STORED = RECIPIENT_STATE.stored.charCodeAt(0)
const UNSTORED = RECIPIENT_STATE.unstored.charCodeAt(0)
const ONLINE = RECIPIENT_STATE.online.charCodeAt(0)

/** A merged result is final: one that no part applied is a duplicate, with nothing checked. */
export function finishResult(result: DispatchResult): DispatchResult {
  if (result.duplicate) result.online = null
  return result
}
