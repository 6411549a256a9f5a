import type { Dispatcher } from '../core/dispatcher.js'
import type { BacklogResult, ClearBacklogResult, DispatchOptions, PresenceResult, Recipient } from '../core/types.js'
import { ValidationError } from '../errors.js'
import { SIGNATURE_REPLAY_TTL_SECONDS } from '../limits.js'
import type { Logger } from '../observe/logger.js'
import type { Authenticator, Verified } from './auth.js'
import { decodeJson, readBody } from './body.js'
import { defaultId, idempotencyKey } from './dispatch-route.js'

/** The pieces the question routes are built from: the dispatch route's own. */
export interface QuestionRouteOptions {
  dispatcher: Dispatcher
  authenticator: Authenticator
  maxBodyBytes: number
  logger: Logger
}

/** What `POST /presence` answers: who of the ids is online, or, asked about no one, how many are connected. */
export type PresenceAnswer = PresenceResult | { connected: number }

/** A route's handler: the result for `{ ok: true, result }`, or a thrown error that app.ts turns into a status. */
type Handler<T> = (request: Request, requestId: string) => Promise<T>

/**
 * `POST /presence`, `POST /backlog` and `POST /backlog/clear`: the questions a backend asks besides dispatching,
 * with the same auth, body limit and error contract as `POST /dispatch`. Each body is one JSON object whose
 * unknown fields are refused by name; the ids are checked by the Dispatcher, as a dispatch's recipients are.
 */
export function createQuestionRoutes(options: QuestionRouteOptions): {
  presence: Handler<PresenceAnswer>
  backlog: Handler<BacklogResult>
  clear: Handler<ClearBacklogResult>
} {
  const { dispatcher, authenticator, maxBodyBytes, logger } = options

  /** Credentials from the headers, the size limit while reading, the signature over the raw bytes, then the fields. */
  async function read(request: Request, fields: readonly string[]): Promise<{ input: Record<string, unknown>; verified: Verified }> {
    const credential = await authenticator.precheck(request.headers)
    const body = await readBody(request, maxBodyBytes)
    const verified = await authenticator.verify(credential, body)
    const input = decodeJson(body)
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('body', 'must be a JSON object')
    const unknown = Object.keys(input).find((key) => !fields.includes(key))
    if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known field')
    return { input: input as Record<string, unknown>, verified }
  }

  const required = (input: Record<string, unknown>, field: string): unknown => {
    if (!(field in input)) throw new ValidationError(field, 'is required')
    return input[field]
  }

  return {
    async presence(request, requestId) {
      const started = Date.now()
      const { input, verified } = await read(request, ['recipients'])
      if (!('recipients' in input)) {
        const connected = await dispatcher.connectedCount()
        logger.info('presence', { requestId, connected, durationMs: Date.now() - started })
        return { connected }
      }
      // A signed question uses up its signature, so that the same body replayed to /backlog/clear, which it would
      // also be valid for, is refused there as a duplicate.
      const claim: DispatchOptions = verified ? { id: `sig:${verified.signature}`, ttlSeconds: SIGNATURE_REPLAY_TTL_SECONDS } : {}
      const result = await dispatcher.presence(input.recipients as Recipient[], claim)
      logger.info('presence', {
        requestId,
        recipients: result.online.length + result.offline.length,
        online: result.online.length,
        durationMs: Date.now() - started,
      })
      return result
    },

    async backlog(request, requestId) {
      const started = Date.now()
      const { input } = await read(request, ['recipient'])
      const result = await dispatcher.backlog(required(input, 'recipient') as Recipient)
      logger.info('backlog', { requestId, count: result.count, bytes: result.bytes, durationMs: Date.now() - started })
      return result
    },

    async clear(request, requestId) {
      const started = Date.now()
      const { input, verified } = await read(request, ['recipients'])
      const recipients = required(input, 'recipients') as Recipient[]
      // Retry-safe as a dispatch is: the Idempotency-Key header, else a signed request's signature, is its id.
      const fallback = defaultId(idempotencyKey(request.headers), verified)
      const result = await dispatcher.clearBacklog(recipients, fallback ? { id: fallback.base, ttlSeconds: fallback.ttlSeconds } : {})
      const messages = result.cleared.reduce((sum, each) => (each.messages === null ? sum : sum + each.messages), 0)
      logger.info('clear backlog', { requestId, recipients: result.cleared.length, messages, duplicate: result.duplicate, durationMs: Date.now() - started })
      return result
    },
  }
}
