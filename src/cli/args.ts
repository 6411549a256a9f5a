import type { DispatchMessageBody, DispatchRequestBody } from '../client/types.js'
import type { Env } from '../config.js'
import type { Recipient } from '../core/types.js'
import { parseFlags } from './flags.js'
import { OPTIONS, type OptionValues } from './options.js'
import { LIMIT_ONLY, parseQuestion, type Question } from './question.js'
import { chooseTransport, type Transport } from './transport-args.js'
import { UsageError } from './usage-error.js'

/** What the command line asks for: the usage text, the version, one dispatch or one question over one transport. */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'dispatch'; request: DispatchRequestBody; transport: Transport; json: boolean }
  | { kind: 'question'; question: Question; transport: Transport; json: boolean }

/** Turns argv (without `node` and the script) into a command; throws a UsageError naming what is wrong. */
export function parseCli(argv: string[], env: Env): CliCommand {
  if (argv.length === 0 || argv[0] === 'help') return { kind: 'help' }
  let parsed: { values: OptionValues; positionals: string[] }
  try {
    parsed = parseFlags(argv, OPTIONS)
  } catch (error) {
    // `--help` wins over whatever else is wrong with the line, as users type it precisely when lost.
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' }
    throw error
  }
  const { values, positionals } = parsed
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }
  const [command, ...rest] = positionals
  if (command === 'presence' || command === 'backlog') {
    const question = parseQuestion(command, values, rest, (id) => toRecipient(id, values))
    return { kind: 'question', question, transport: chooseTransport(values, env), json: values.json === true }
  }
  if (values.limit !== undefined) throw new UsageError(LIMIT_ONLY)
  let request: DispatchRequestBody
  if (command === 'send') request = sendRequest(values, rest)
  else if (command === 'disconnect') request = disconnectRequest(values, rest)
  else {
    const commands = 'send, disconnect, presence or backlog'
    throw new UsageError(command === undefined ? `name a command: ${commands}` : `unknown command ${JSON.stringify(command)}; use ${commands}`)
  }
  return { kind: 'dispatch', request, transport: chooseTransport(values, env), json: values.json === true }
}

function sendRequest(values: OptionValues, rest: string[]): DispatchRequestBody {
  if (rest.length > 0) throw new UsageError(`send takes no arguments besides options, got ${rest.join(' ')}`)
  if (values.data === undefined) throw new UsageError(`send needs --data JSON, e.g. --data '{"status":"online"}'`)
  const message: DispatchMessageBody = { op: parseOp(values.op), d: parseData(values.data) }
  if (values.type !== undefined) message.t = values.type
  if (values['no-sync']) message.o = { sync: false }
  const recipients = values.to === undefined ? ['*'] : idList(values.to, '--to', values)
  return withOptions({ message, recipients }, values)
}

function disconnectRequest(values: OptionValues, rest: string[]): DispatchRequestBody {
  for (const option of ['op', 'type', 'data', 'to', 'no-sync'] as const) {
    if (values[option] !== undefined) throw new UsageError(`--${option} does not apply to disconnect, which takes the ids as arguments`)
  }
  if (rest.length === 0) throw new UsageError('disconnect needs the ids of the clients to close, e.g. disconnect 0 1')
  return withOptions({ event: 'DISCONNECT_CLIENT', recipients: rest.map((id) => toRecipient(id, values)) }, values)
}

function withOptions(request: DispatchRequestBody, values: OptionValues): DispatchRequestBody {
  if (values.exclude !== undefined) request.excluding = idList(values.exclude, '--exclude', values)
  if (values.id !== undefined) request.id = values.id
  return request
}

function parseOp(op: string | undefined): number {
  if (op === undefined) return 0
  if (!/^\d+$/.test(op) || !Number.isSafeInteger(Number(op))) throw new UsageError(`--op must be a non-negative integer, got ${JSON.stringify(op)}`)
  return Number(op)
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data) as unknown
  } catch (error) {
    throw new UsageError(`--data must be JSON (quote strings: --data '"hi"'): ${(error as Error).message}`, { cause: error })
  }
}

function idList(list: string, flag: string, values: OptionValues): Recipient[] {
  const ids = list.split(',').map((id) => id.trim())
  if (ids.some((id) => id === '')) throw new UsageError(`${flag} takes ids separated by commas, e.g. ${flag} 0,1; got ${JSON.stringify(list)}`)
  return ids.map((id) => toRecipient(id, values))
}

/**
 * Ids stay strings, because Mesa compares them strictly; with `--numeric-ids`, canonical integers (`0`, `42`,
 * not `007`, which would not survive the round trip) become numbers, for servers whose clients log in with one.
 */
function toRecipient(id: string, values: OptionValues): Recipient {
  return values['numeric-ids'] && /^(0|[1-9]\d*)$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : id
}
