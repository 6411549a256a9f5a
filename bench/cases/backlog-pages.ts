import { performance } from 'node:perf_hooks'
import { BACKLOG_RANGE_BYTES, DEFAULT_MAX_BACKLOG_PAGE_BYTES } from '../../src/limits'
import { measureRedisTime } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

/** The backlog of the issue that made /backlog page: 6.7 MB, which Mesa's own Dispatcher (no caps) can leave. */
const BACKLOG_BYTES = 6_700_000

/**
 * Case 11: what reading a backlog far over a page costs. A 6.7 MB backlog as Mesa's own Dispatcher writes it, read
 * page by page with the default bounds over REST: pages, Redis requests per page, the largest page, Redis's own time
 * per range call (HGET of the whole value inside the script and a SHA-1 of it) against the plain HGET a Mesa login
 * makes, and the time per page end to end.
 */
export async function runBacklogPages(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('11', 'Backlog pages: a 6.7 MB backlog another writer stored, read in pages of 1 MiB')
  const namespace = 'backlogpages'
  const hash = `undelivered_messages_${namespace}`
  const messages: string[] = []
  for (let size = 1, n = 0; size < BACKLOG_BYTES; n++) {
    const message = JSON.stringify({ op: 0, d: { n, text: `héllo note ${n} ${'👋'.repeat(30)}`, at: 1_700_000_000_000 + n }, t: 'NOTE' })
    messages.push(message)
    size += Buffer.byteLength(message) + 1
  }
  const value = `[${messages.join(',')}]`
  await stack.admin.hset(hash, 'reader', value)
  const dispatcher = stack.dispatcher({ namespace })
  await dispatcher.backlog('warm-up')

  const readAll = async () => {
    const pages: Array<{ ms: number; bytes: number; requests: number }> = []
    let cursor: string | null = null
    do {
      const before = stack.gateway.requests
      const started = performance.now()
      const page: Awaited<ReturnType<typeof dispatcher.backlog>> = await dispatcher.backlog('reader', { cursor })
      pages.push({
        ms: performance.now() - started,
        bytes: Buffer.byteLength(JSON.stringify({ ok: true, result: page })),
        requests: stack.gateway.requests - before,
      })
      cursor = page.cursor
    } while (cursor !== null)
    return pages
  }

  const reads = pick(5, 1)
  const perPage: number[] = []
  let last: Awaited<ReturnType<typeof readAll>> = []
  const stats = await measureRedisTime(stack.admin, async () => {
    for (let read = 0; read < reads; read++) {
      last = await readAll()
      perPage.push(...last.map((page) => page.ms))
    }
  })
  const login = await measureRedisTime(stack.admin, async () => {
    for (let read = 0; read < reads * 5; read++) await stack.admin.hget(hash, 'reader')
  })

  const bytes = Buffer.byteLength(value)
  record.value('stored value', Math.round(bytes / 1024), 'KiB', `${bytes} bytes, ${messages.length} messages`)
  record.value('pages per read', last.length, 'pages', `MAX_BACKLOG_PAGE_BYTES ${DEFAULT_MAX_BACKLOG_PAGE_BYTES}`)
  record.value('Redis requests per page', last[0]?.requests ?? 0, 'requests', `ranges of ${BACKLOG_RANGE_BYTES} bytes`)
  record.value('largest answer', Math.max(...last.map((page) => page.bytes)), 'bytes', 'the whole body the endpoint would answer')
  record.value(
    'Redis time per range call',
    Math.round(stats.evalsha?.usecPerCall ?? 0),
    'µs',
    'EVALSHA from INFO commandstats: the whole value read and hashed',
  )
  record.value('Redis time of a Mesa login’s HGET of it', Math.round(login.hget?.usecPerCall ?? 0), 'µs', 'HGET from INFO commandstats')
  record.samples('one page, end to end', perPage, 'ms', 'Dispatcher.backlog over REST through the gateway: every range, JSON.parse of the value, the page')
  record.note(
    'Every page reads the whole value (a hash field is read whole or not at all), so a read of p pages makes p × ranges requests; each range call holds Redis for an HGET inside the script and a SHA-1 of the value, which glues the ranges.',
  )
  return record.result
}
