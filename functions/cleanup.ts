import type { Context } from 'aws-lambda'
import { createMetricsFromEnv } from '../src/observe/dispatch-metrics.js'
import { describeError } from '../src/observe/error-fields.js'
import { createLogger } from '../src/observe/logger.js'
import { CLEANUP_SCRIPT } from '../src/script/scripts.js'
import { createCleanupFromEnv } from '../src/triggers/cleanup.js'
import { createInvocationDeadline } from '../src/triggers/deadline.js'
import { assertCleanupEvent } from '../src/triggers/event-shape.js'
import { initLambda } from '../src/triggers/lambda-init.js'

await initLambda(import.meta.url, process.env, [CLEANUP_SCRIPT])
const deadline = createInvocationDeadline()
const logger = createLogger()
const metrics = createMetricsFromEnv(process.env)
const cleanup = createCleanupFromEnv(process.env, { deadline: deadline.get })

/**
 * Runs on a schedule: removes the offline backlogs whose newest message is older than MESA_SYNC_MAX_AGE_SECONDS,
 * in short script calls, stopping before the invocation's deadline (the next run starts over), and writes what it
 * removed as one EMF line.
 */
export const handler = (event: unknown, context: Context) =>
  deadline.run(context.getRemainingTimeInMillis(), () =>
    metrics.observe(context.functionName, async () => {
      assertCleanupEvent(event)
      const started = Date.now()
      // Thrown on, so that the invocation fails (and the errors alarm fires), after a line saying why.
      const result = await cleanup({ deadline: deadline.get }).catch((error: unknown) => {
        logger.error('cleanup', { requestId: context.awsRequestId, result: 'failed', ...describeError(error), durationMs: Date.now() - started })
        throw error
      })
      logger.info('cleanup', { requestId: context.awsRequestId, ...result, durationMs: Date.now() - started })
      metrics.count('BacklogsRemoved', result.removed)
      metrics.count('BacklogBytesRemoved', result.bytes)
      metrics.count('BacklogEntriesForgotten', result.forgotten)
      metrics.count('CleanupIncomplete', result.complete ? 0 : 1)
      return result
    }),
  )
