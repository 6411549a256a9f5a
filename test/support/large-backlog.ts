import type { BacklogMessage, BacklogResult } from '../../src/index'
import { BACKLOG_RANGE_BYTES } from '../../src/limits'
import { Message } from './mesa-dispatcher'

/** A backlog as Mesa's own Dispatcher leaves it, and what Mesa would redeliver of it. */
export interface LargeBacklog {
  /** The stored value: JSON.stringify of each message's `serialize(true)`, as Mesa's Dispatcher writes it. */
  value: string
  /** The messages as Mesa redelivers them at login: `op`, `d` and `t`, without the `o` it stored. */
  messages: BacklogMessage[]
}

/**
 * A backlog of at least `bytes` that Mesa's own Dispatcher (which has no caps) could have written, one message at a
 * time: notes of about 270 bytes with accents and 4-byte emoji, one of which straddles the end of the first range
 * a read takes (BACKLOG_RANGE_BYTES), so that a range cut there would split a character.
 */
export function largeBacklog(bytes: number): LargeBacklog {
  for (let pad = 0; pad < 16; pad++) {
    const serialized: unknown[] = []
    let size = 1
    for (let n = 0; size < bytes; n++) {
      const text = `${n === 0 ? 'x'.repeat(pad) : ''}héllo note ${n} ${'👋'.repeat(30)}${'🙂'.repeat(n % 7)}`
      const message = new Message(0, { n, text, tags: ['a', 'b'], at: 1_700_000_000_000 + n }, 'NOTE', { sync: true }).serialize(true)
      serialized.push(message)
      size += Buffer.byteLength(JSON.stringify(message)) + 1
    }
    const value = JSON.stringify(serialized)
    const straddled = Buffer.from(value)[BACKLOG_RANGE_BYTES]!
    if (straddled >= 0x80 && straddled < 0xc0) {
      const messages = serialized.map((each) => {
        const { op, d, t } = each as BacklogMessage
        return { op, d, t }
      })
      return { value, messages }
    }
  }
  throw new Error('no padding put a character across the end of the first range')
}

/** The body the endpoint answers a page with: what must stay under MAX_BACKLOG_PAGE_BYTES. */
export const pageBody = (page: BacklogResult) => JSON.stringify({ ok: true, result: page })
