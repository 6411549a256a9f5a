import { Dispatcher } from '../core/dispatcher.js'
import type { BacklogMessage, BacklogResult, ClearBacklogResult, PresenceResult, Recipient } from '../core/types.js'
import { hintEndpointFailure, hintRestFailure } from './hints.js'
import type { OptionValues } from './options.js'
import { createEndpointClient, type Transport } from './transport-args.js'
import { UsageError } from './usage-error.js'

/** A question the CLI asks instead of dispatching: `presence [ids…]`, `backlog show <id>`, `backlog clear <ids…>`. */
export type Question =
  | { kind: 'presence'; ids: Recipient[] }
  /** With `limit`, the first page of at most that many messages; else every page. */
  | { kind: 'backlog'; id: Recipient; limit?: number }
  | { kind: 'clear'; ids: Recipient[]; key?: string }

/** What the question's answer was: who is online (or how many), what waits for a client, or what was cleared. */
export type Answer =
  | { kind: 'presence'; result: PresenceResult }
  | { kind: 'connected'; result: { connected: number } }
  /** Every page as one result (`cursor` null), or with `--limit` the first page as the endpoint answered it. */
  | { kind: 'backlog'; id: Recipient; result: BacklogResult }
  | { kind: 'clear'; result: ClearBacklogResult }

/** The dispatch flags, which a question has no use for: refused rather than silently ignored. */
const DISPATCH_ONLY = ['op', 'type', 'data', 'to', 'exclude', 'no-sync'] as const

/**
 * Parses `presence [ids…]` or `backlog show|clear …` after the command word; `toId` turns an argument into an id
 * as `send` and `disconnect` do (`--numeric-ids`). Throws a UsageError saying what to type instead.
 */
export function parseQuestion(command: 'presence' | 'backlog', values: OptionValues, rest: string[], toId: (arg: string) => Recipient): Question {
  for (const option of DISPATCH_ONLY) {
    if (values[option] !== undefined) throw new UsageError(`--${option} does not apply to ${command}, which takes the ids as arguments`)
  }
  const [action, ...ids] = rest
  if (values.limit !== undefined && (command !== 'backlog' || action !== 'show')) throw new UsageError(LIMIT_ONLY)
  if (command === 'presence') {
    if (values.id !== undefined) throw new UsageError('--id does not apply to presence, which changes nothing')
    return { kind: 'presence', ids: rest.map(toId) }
  }
  if (action === 'show') {
    if (ids.length !== 1) throw new UsageError(`backlog show takes one id, e.g. backlog show alice; got ${ids.length}`)
    if (values.id !== undefined) throw new UsageError('--id does not apply to backlog show, which changes nothing')
    const id = toId(ids[0]!)
    return values.limit === undefined ? { kind: 'backlog', id } : { kind: 'backlog', id, limit: parseLimit(values.limit) }
  }
  if (action === 'clear') {
    if (ids.length === 0) throw new UsageError('backlog clear needs the ids whose stored messages to remove, e.g. backlog clear alice bob')
    return values.id === undefined ? { kind: 'clear', ids: ids.map(toId) } : { kind: 'clear', ids: ids.map(toId), key: values.id }
  }
  throw new UsageError(action === undefined ? 'backlog needs show <id> or clear <ids…>' : `unknown backlog action ${JSON.stringify(action)}; use show or clear`)
}

/** Why `--limit` is refused anywhere but `backlog show`. */
export const LIMIT_ONLY = '--limit applies only to backlog show, to show the first messages of a backlog'

function parseLimit(limit: string): number {
  if (!/^[1-9]\d*$/.test(limit) || !Number.isSafeInteger(Number(limit)))
    throw new UsageError(`--limit must be a whole number of at least 1, got ${JSON.stringify(limit)}`)
  return Number(limit)
}

/** Every page of a backlog as one result: their messages in order, and the last page's word on the whole. */
async function readWhole(pages: AsyncIterable<BacklogResult>): Promise<BacklogResult> {
  const messages: BacklogMessage[] = []
  let last: BacklogResult | undefined
  for await (const page of pages) {
    // One by one: spreading a page of 100,000 small messages into push() would pass as many arguments.
    for (const message of page.messages) messages.push(message)
    last = page
  }
  return { ...last!, messages, count: messages.length }
}

/**
 * Asks over the chosen transport: the endpoint's question routes through `createDispatchClient`, or Redis
 * directly through a Dispatcher's methods, which check the ids the same way the endpoint does.
 */
export async function askQuestion(transport: Transport, question: Question): Promise<Answer> {
  if (transport.kind === 'endpoint') {
    const client = createEndpointClient(transport)
    try {
      if (question.kind === 'presence') {
        if (question.ids.length === 0) return { kind: 'connected', result: { connected: await client.connectedCount() } }
        return { kind: 'presence', result: await client.presence(question.ids) }
      }
      if (question.kind === 'backlog') {
        const { id, limit } = question
        return { kind: 'backlog', id, result: limit === undefined ? await readWhole(client.backlogPages(id)) : await client.backlog(id, { limit }) }
      }
      return { kind: 'clear', result: await client.clearBacklog(question.ids, question.key === undefined ? {} : { idempotencyKey: question.key }) }
    } catch (error) {
      throw hintEndpointFailure(error)
    }
  }
  const { url, token, timeoutMs } = transport
  const dispatcher = new Dispatcher({ url, token, timeoutMs }, { namespace: transport.namespace })
  try {
    if (question.kind === 'presence') {
      if (question.ids.length === 0) return { kind: 'connected', result: { connected: await dispatcher.connectedCount() } }
      return { kind: 'presence', result: await dispatcher.presence(question.ids) }
    }
    if (question.kind === 'backlog') {
      const { id, limit } = question
      return { kind: 'backlog', id, result: limit === undefined ? await readWhole(dispatcher.backlogPages(id)) : await dispatcher.backlog(id, { limit }) }
    }
    return { kind: 'clear', result: await dispatcher.clearBacklog(question.ids, question.key === undefined ? {} : { id: question.key }) }
  } catch (error) {
    throw hintRestFailure(error)
  } finally {
    await dispatcher.close()
  }
}
