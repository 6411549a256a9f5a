import type { Recipient } from '../core/types.js'
import type { Answer } from './question.js'

/** The output for an answered question: its result as one JSON line, or a few lines for a person. */
export function formatAnswer(answer: Answer, json: boolean): string {
  return `${json ? JSON.stringify(answer.result) : describeAnswer(answer)}\n`
}

function describeAnswer(answer: Answer): string {
  switch (answer.kind) {
    case 'connected':
      return `${answer.result.connected} connected`
    case 'presence':
      return `online: ${list(answer.result.online)}\noffline: ${list(answer.result.offline)}`
    case 'backlog': {
      const { messages, count, bytes, total, truncated } = answer.result
      if (bytes === 0) return `nothing waits for ${answer.id}`
      const shown = truncated ? `the first ${count} of ${plural(total, 'message')}` : plural(total, 'message')
      const head = `${shown} (${plural(bytes, 'byte')}) wait for ${answer.id}, as Mesa would redeliver them at its next login`
      const rest = truncated ? [`… and ${total - count} more: without --limit, every one is shown`] : []
      return [head, ...messages.map((message) => JSON.stringify(message)), ...rest].join('\n')
    }
    case 'clear': {
      if (answer.result.duplicate) return 'duplicate: this id was already applied, by an earlier call or an earlier attempt of this one, so nothing was removed'
      return answer.result.cleared
        .map(({ recipient, messages, bytes }) =>
          bytes === 0
            ? `${recipient}: nothing stored`
            : `${recipient}: removed ${messages === null ? 'a backlog too large to count' : plural(messages, 'message')} (${plural(bytes, 'byte')})`,
        )
        .join('\n')
    }
  }
}

function list(ids: Recipient[]): string {
  return ids.length === 0 ? 'none' : ids.map(String).join(', ')
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`
