import type { QuestionDispatcher } from '../core/dispatcher.js'
import type { BacklogResult, ClearBacklogResult, PresenceResult, Recipient } from '../core/types.js'
import { ValidationError } from '../errors.js'
import type { Logger } from '../observe/logger.js'
import type { Scope } from './api-keys.js'
import { decodeJson } from './body.js'
import { defaultId } from './default-id.js'
import { type AcceptedRequest, acceptRequest, type IntakeOptions, type RequestScope } from './intake.js'

/** The pieces the question routes are built from: the dispatch route's own. */
export interface QuestionRouteOptions {
  dispatcher: QuestionDispatcher
  intake: IntakeOptions
  logger: Logger
}

/** What `POST /presence` answers: who of the ids is online, or, asked about no one, how many are connected. */
export type PresenceAnswer = PresenceResult | { connected: number }

/** A route's handler: the result for `{ ok: true, result }`, or a thrown error that app.ts turns into a status. */
type Handler<T> = (request: Request, scope: RequestScope) => Promise<T>

/**
 * `POST /presence`, `POST /backlog` and `POST /backlog/clear`: the questions a backend asks besides dispatching,
 * with the same intake, body limit and error contract as `POST /dispatch`, each under its own scope (`presence`,
 * `backlog:read`, `backlog:clear`) and counted against its key's rate limit in the same script call. Each body is
 * one JSON object whose unknown fields are refused by name; the ids are checked by the Dispatcher, as a dispatch's
 * recipients are.
 */
export function createQuestionRoutes(options: QuestionRouteOptions): {
  presence: Handler<PresenceAnswer>
  backlog: Handler<BacklogResult>
  clear: Handler<ClearBacklogResult>
} {
  const { dispatcher, intake, logger } = options

  /** The request taken in under `scope`, then its body as an object of known `fields`. */
  async function read(request: Request, context: RequestScope, scope: Scope, fields: readonly string[]) {
    const accepted = await acceptRequest(intake, request, scope, context)
    const input = decodeJson(accepted.body)
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('body', 'must be a JSON object')
    const unknown = Object.keys(input).find((key) => !fields.includes(key))
    if (unknown !== undefined) throw new ValidationError(unknown, 'is not a known field')
    return { input: input as Record<string, unknown>, accepted }
  }

  const required = (input: Record<string, unknown>, field: string): unknown => {
    if (!(field in input)) throw new ValidationError(field, 'is required')
    return input[field]
  }

  const limited = (accepted: AcceptedRequest) => (accepted.rateLimit ? { rateLimit: accepted.rateLimit } : {})

  return {
    async presence(request, scope) {
      const started = Date.now()
      scope.read = true
      const { input, accepted } = await read(request, scope, 'presence', ['recipients'])
      const { requestId, keyName: key } = scope
      if (!('recipients' in input)) {
        const connected = await dispatcher.connectedCount(limited(accepted))
        logger.info('presence', { requestId, key, connected, durationMs: Date.now() - started })
        return { connected }
      }
      const result = await dispatcher.presence(input.recipients as Recipient[], limited(accepted))
      logger.info('presence', {
        requestId,
        key,
        recipients: result.online.length + result.offline.length,
        online: result.online.length,
        durationMs: Date.now() - started,
      })
      return result
    },

    async backlog(request, scope) {
      const started = Date.now()
      scope.read = true
      const { input, accepted } = await read(request, scope, 'backlog:read', ['recipient', 'limit', 'cursor'])
      // The Dispatcher checks `limit` and `cursor` (null reads the first page, as absent does), naming each.
      const page = { limit: input.limit as number | undefined, cursor: input.cursor as string | null | undefined }
      const result = await dispatcher.backlog(required(input, 'recipient') as Recipient, { ...page, ...limited(accepted) })
      logger.info('backlog', {
        requestId: scope.requestId,
        key: scope.keyName,
        count: result.count,
        total: result.total,
        bytes: result.bytes,
        truncated: result.truncated,
        durationMs: Date.now() - started,
      })
      return result
    },

    async clear(request, scope) {
      const started = Date.now()
      const { input, accepted } = await read(request, scope, 'backlog:clear', ['recipients'])
      const recipients = required(input, 'recipients') as Recipient[]
      // Retry-safe as a dispatch is: the Idempotency-Key header, else a signed request's signature, else an id made
      // up for it, which a failure's answer gives back, is its id.
      const fallback = defaultId(accepted)
      scope.retry = fallback.basis
      if (fallback.basis === 'generated') scope.idempotencyKey = fallback.base
      const result = await dispatcher.clearBacklog(recipients, { id: fallback.base, ttlSeconds: fallback.ttlSeconds, ...limited(accepted) })
      const messages = result.cleared.reduce((sum, each) => (each.messages === null ? sum : sum + each.messages), 0)
      logger.info('clear backlog', {
        requestId: scope.requestId,
        key: scope.keyName,
        recipients: result.cleared.length,
        messages,
        duplicate: result.duplicate,
        durationMs: Date.now() - started,
      })
      return result
    },
  }
}
