import { RedisCommandError } from '../errors.js'
import { CLEANUP_STEP_SIZE } from '../limits.js'
import { CLEANUP_SCRIPT } from '../script/scripts.js'
import type { ScriptRunner } from '../transport/runner.js'
import type { MesaKeys } from './keys.js'

/** What one cleanup pass over the offline store's index did. */
export interface CleanupResult {
  /** Backlogs removed because their newest message was older than `maxAgeSeconds`. */
  removed: number
  /** Bytes of stored messages those backlogs held. */
  bytes: number
  /** Index entries dropped: the removed backlogs', and those of recipients who logged in since (Mesa deleted theirs). */
  forgotten: number
  /** False when the deadline came before the pass reached the end of the index; the next pass starts over. */
  complete: boolean
}

/** How a pass runs. */
export interface CleanupOptions {
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number
  /** Epoch milliseconds after which no new step starts (e.g. a Lambda's end minus a margin). */
  deadline?: () => number | undefined
  /** Index entries per step. @default 500 */
  stepSize?: number
}

/** What bounds a pass: the age past which a backlog goes, and the bytes of backlogs one step may read to check them. */
export interface CleanupLimits {
  /** A backlog whose newest message is older than this is removed; 0 means never. */
  readonly maxAgeSeconds: number
  /** The dispatch script's write budget: no backlog it wrote is larger, and one step reads at most this much. */
  readonly maxWriteBytes: number
}

/**
 * Removes every backlog whose newest message is older than `maxAgeSeconds` (0: none), in steps of one short
 * script call each, so that Redis is never held for long and a dispatch or login between steps is never undone.
 * With a deadline, no step starts that the longest step so far could not finish before it, and a step cut off by
 * it ends the pass as incomplete rather than failed: the next pass starts over, and nothing was half done, since
 * each step is atomic.
 */
export async function cleanupBacklogs(runner: ScriptRunner, keys: MesaKeys, limits: CleanupLimits, options: CleanupOptions = {}): Promise<CleanupResult> {
  const result: CleanupResult = { removed: 0, bytes: 0, forgotten: 0, complete: true }
  if (limits.maxAgeSeconds === 0) return result
  const now = options.now ?? Date.now
  const cutoff = String(Math.floor(now() / 1000) - limits.maxAgeSeconds)
  const args = (cursor: string) => [cursor, cutoff, String(options.stepSize ?? CLEANUP_STEP_SIZE), String(limits.maxWriteBytes)]
  // The deadline is the invocation's, on the real clock, whatever clock says how old a backlog is.
  const outOfTime = (longest: number) => {
    const at = options.deadline?.()
    return at !== undefined && Date.now() + longest >= at
  }
  let cursor = '0'
  let again = false
  let longest = 0
  do {
    if (outOfTime(longest)) return { ...result, complete: false }
    const started = Date.now()
    let reply: unknown
    try {
      reply = await runner.run(CLEANUP_SCRIPT, [keys.undeliveredMessages, keys.backlogs], args(cursor))
    } catch (error) {
      if (outOfTime(longest)) return { ...result, complete: false }
      throw error
    }
    longest = Math.max(longest, Date.now() - started)
    const step = typeof reply === 'string' ? /^(\d+):(\d+):(\d+):(\d+):([01])$/.exec(reply) : null
    if (!step) throw new RedisCommandError('the cleanup script returned an unexpected reply')
    cursor = step[1]!
    result.removed += Number(step[2])
    result.bytes += Number(step[3])
    result.forgotten += Number(step[4])
    // A step that read its budget of backlogs gives its cursor back: the same entries again, 0 (the first page) too.
    again = step[5] === '1'
  } while (cursor !== '0' || again)
  return result
}
