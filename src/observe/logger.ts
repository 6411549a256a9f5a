import type { ErrorSummary } from '../error-chain.js'
import { MAX_LOGGED_MESSAGE_LENGTH } from '../limits.js'

/**
 * Fields of a log line: counts, ids, durations and outcomes, and a failure's chain of causes (`cause`, summarized
 * by src/error-chain.ts), never tokens, signatures or message data.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined | ErrorSummary | ErrorSummary[]>

/** A structured logger that writes one JSON object per line, which CloudWatch and Workers Logs both index. */
export interface Logger {
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/** Where lines go. @default console.log */
export type LogSink = (line: string) => void

/**
 * Creates a JSON-lines logger. It is this small on purpose: Powertools Logger pulls Node-only modules into the
 * edge bundle, and every field here is chosen by our code, so nothing secret can reach a line by accident.
 */
export function createLogger(base: LogFields = {}, sink: LogSink = (line) => console.log(line)): Logger {
  const write = (level: string, message: string, fields?: LogFields) =>
    sink(JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...fields }, cutText))
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  }
}

/**
 * Cuts each text of a line at MAX_LOGGED_MESSAGE_LENGTH: some come from callers (a field name a request got wrong, a
 * key they chose), and a line must stay short whatever they send.
 */
function cutText(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.length > MAX_LOGGED_MESSAGE_LENGTH ? `${value.slice(0, MAX_LOGGED_MESSAGE_LENGTH)}…` : value
}

/** A logger that drops everything, for callers that log elsewhere. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
