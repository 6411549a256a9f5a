import type { APIGatewayProxyResultV2, SQSEvent } from 'aws-lambda'
import { httpApiEvent, lambdaContext, sqsEvent, sqsRecord } from '../../test/support/events'
import { DISPATCH_TOKEN, LAMBDA_NAMESPACE, loadHandlers } from '../handlers'
import { withoutAppLogs } from '../quiet'
import { CaseRecorder, type CaseResult } from '../results'
import { interleave } from '../rounds'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

const SQS_BATCH = 10
const HTTP_BATCH = 100
const RECIPIENTS = ['alice', 'bob', 'carol']

/** Case 4: an SQS batch of 10 through functions/sqs.ts and an HTTP batch of 100 through functions/http.ts. */
export async function runBatches(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('4', 'Lambda batches: SQS batch of 10, HTTP batch of 100')
  const handlers = await loadHandlers(stack)
  const dispatch = (n: number) => ({ message: { d: { n }, t: 'BATCH' }, recipients: RECIPIENTS })
  // New records (new messageIds) every time: a repeated messageId would be deduplicated and do no work.
  let sqs: SQSEvent
  const newSqs = async () => {
    sqs = sqsEvent(Array.from({ length: SQS_BATCH }, (_, n) => sqsRecord(JSON.stringify(dispatch(n)))))
    await reset()
  }
  const body = JSON.stringify({ dispatches: Array.from({ length: HTTP_BATCH }, (_, n) => dispatch(n)) })
  const http = httpApiEvent({
    method: 'POST',
    path: '/dispatch',
    headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
    body,
  })
  // Offline arrays start empty for every run, so the cost per run does not grow with the round number.
  const reset = () => stack.admin.del(`undelivered_messages_${LAMBDA_NAMESPACE}`)
  const counts = { sqs: [] as number[], http: [] as number[] }
  const failures: string[] = []
  const counted = async (into: number[], work: () => Promise<void>) => {
    const before = stack.gateway.requests
    await work()
    into.push(stack.gateway.requests - before)
  }

  const names = {
    sqs: `SQS batch of ${SQS_BATCH} (functions/sqs.ts handler)`,
    http: `HTTP batch of ${HTTP_BATCH} (functions/http.ts handler, HTTP API v2 event)`,
  }
  const samples = await withoutAppLogs(() =>
    interleave(
      [
        {
          name: names.sqs,
          before: newSqs,
          run: () =>
            counted(counts.sqs, async () => {
              const answer = await handlers.sqs(sqs, lambdaContext())
              if (answer.batchItemFailures.length > 0) failures.push(`SQS: ${answer.batchItemFailures.length} failed`)
            }),
        },
        {
          name: names.http,
          before: reset,
          run: () =>
            counted(counts.http, async () => {
              const answer = (await handlers.http(http, lambdaContext())) as APIGatewayProxyResultV2 & { statusCode: number }
              if (answer.statusCode !== 200) failures.push(`HTTP: status ${answer.statusCode}`)
            }),
        },
      ],
      { rounds: pick(150, 10), warmup: pick(15, 2) },
    ),
  )
  if (failures.length > 0) throw new Error(`case 4 saw failures: ${[...new Set(failures)].join('; ')}`)
  record.samples(names.sqs, samples[names.sqs]!)
  record.samples(names.http, samples[names.http]!)
  // Warm-up runs were counted too; every run should cost the same number of requests.
  for (const [key, name] of [
    ['sqs', names.sqs],
    ['http', names.http],
  ] as const) {
    const seen = [...new Set(counts[key])].sort((a, b) => a - b)
    record.value(
      `gateway requests per invocation: ${name}`,
      Math.max(...seen),
      'requests',
      seen.length > 1 ? `varied: ${seen.join(', ')}` : `every run: ${seen[0]}`,
    )
  }
  record.note(
    `Sync on (namespace ${LAMBDA_NAMESPACE}), each dispatch to ${RECIPIENTS.length} offline recipients, so every dispatch stores. ` +
      'The handlers are the deployed entry points imported from source (tsx), with the env set before import; their JSON log and EMF metric lines are built but not written.',
  )
  return record.result
}
