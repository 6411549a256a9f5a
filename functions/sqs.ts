import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { createMetricsFromEnv } from '../src/observe/dispatch-metrics.js'
import { DISPATCH_SCRIPT } from '../src/script/scripts.js'
import { createInvocationDeadline } from '../src/triggers/deadline.js'
import { assertSqsEvent } from '../src/triggers/event-shape.js'
import { initLambda } from '../src/triggers/lambda-init.js'
import { createTriggerFromEnv } from '../src/triggers/trigger.js'

await initLambda(import.meta.url, process.env, [DISPATCH_SCRIPT])
const deadline = createInvocationDeadline()
const metrics = createMetricsFromEnv(process.env)
const trigger = createTriggerFromEnv(process.env, { deadline: deadline.get, metrics })

/** Each record body is one dispatch request; its messageId is the default dispatch id, stable across redeliveries. */
const dispatchRecord = (record: SQSRecord, context?: Context) =>
  trigger.dispatch(record.body, { defaultId: record.messageId, requestId: context?.awsRequestId })

const isFifo = (event: SQSEvent) => event.Records[0]?.eventSourceARN.endsWith('.fifo') === true

// Standard queues run every record at once (one script call); FIFO queues run in order and stop at the
// first failure, reporting it and every record after it, so that order survives a retry.
const processors = { standard: () => new BatchProcessor(EventType.SQS), fifo: () => new SqsFifoPartialProcessorAsync() }

/**
 * Reports exactly the records that failed, invalid ones included, so that they reach the dead-letter queue, and
 * writes the batch's metrics (records, records failed, and each dispatch's outcome) once, at its end.
 */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  deadline.run(context.getRemainingTimeInMillis(), () =>
    metrics.observe(context.functionName, async () => {
      assertSqsEvent(event)
      const response = await processPartialResponse(event, dispatchRecord, processors[isFifo(event) ? 'fifo' : 'standard'](), {
        context,
        // A batch where every record failed is still a partial response, not a thrown error.
        throwOnFullBatchFailure: false,
      })
      metrics.count('SqsRecords', event.Records.length)
      metrics.count('SqsRecordsFailed', response.batchItemFailures.length)
      return response
    }),
  )
