import { dispatchId, isOffline, POOL } from './plan'

const PUBLISHED = 1
const STORED = 2

/** What arrived against what was sent, recipient by recipient. */
export interface Tally {
  dispatches: number
  /** Online recipients sent to, and how many of them a PUBLISH named. */
  online: number
  published: number
  /** Offline recipients sent to, and how many of them hold the message in their backlog. */
  offline: number
  stored: number
  /** Recipients a PUBLISH or a backlog named more than once for the same dispatch. */
  doubled: number
  /** Arrivals no dispatch sent: an unknown id, or a recipient outside its slice or of the wrong kind. */
  stray: number
}

/**
 * Every dispatch the load run's processes resolved, with a mark per recipient for each arrival: a PUBLISH naming an
 * online recipient, a message in an offline recipient's backlog. Each mark is set once; a second is a double.
 */
export class Ledger {
  private readonly dispatches = new Map<string, { offset: number; marks: Uint8Array }>()
  private doubled = 0
  private stray = 0

  /** Adds what a process reported sending, as flat `n, offset, count` triples. */
  addSent(worker: number, sent: readonly number[]): void {
    for (let i = 0; i < sent.length; i += 3) {
      this.dispatches.set(dispatchId(worker, sent[i]!), { offset: sent[i + 1]!, marks: new Uint8Array(sent[i + 2]!) })
    }
  }

  /** Marks the recipients one PUBLISH named, from its payload as Mesa's servers receive it. */
  markPublished(payload: string): void {
    const { message, recipients } = JSON.parse(payload) as { message: { d: { id: string } }; recipients: string[] }
    for (const recipient of recipients) if (recipient !== '*') this.mark(message.d.id, recipient, PUBLISHED)
  }

  /** Marks the messages one offline recipient's backlog holds, from the value Mesa reads at login. */
  markStored(recipient: string, backlog: string): void {
    for (const message of JSON.parse(backlog) as Array<{ d: { id: string } }>) this.mark(message.d.id, recipient, STORED)
  }

  /** Counts what was sent and what arrived. */
  tally(): Tally {
    const tally: Tally = { dispatches: this.dispatches.size, online: 0, published: 0, offline: 0, stored: 0, doubled: this.doubled, stray: this.stray }
    for (const { offset, marks } of this.dispatches.values()) {
      marks.forEach((mark, position) => {
        if (isOffline((offset + position) % POOL)) {
          tally.offline++
          if (mark === STORED) tally.stored++
        } else {
          tally.online++
          if (mark === PUBLISHED) tally.published++
        }
      })
    }
    return tally
  }

  private mark(id: string, recipient: string, kind: number): void {
    const dispatch = this.dispatches.get(id)
    const index = Number(recipient.slice(1))
    const position = dispatch ? (index - dispatch.offset + POOL) % POOL : -1
    if (!dispatch || position >= dispatch.marks.length || isOffline(index) !== (kind === STORED)) {
      this.stray++
    } else if (dispatch.marks[position]! & kind) {
      this.doubled++
    } else {
      dispatch.marks[position]! |= kind
    }
  }
}
