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

/**
 * Removes every backlog whose newest message is older than `maxAgeSeconds` (0: none), in steps of one short
 * script call each, so that Redis is never held for long and a dispatch or login between steps is never undone.
 */
export async function cleanupBacklogs(runner: ScriptRunner, keys: MesaKeys, maxAgeSeconds: number, options: CleanupOptions = {}): Promise<CleanupResult> {
  const result: CleanupResult = { removed: 0, bytes: 0, forgotten: 0, complete: true }
  if (maxAgeSeconds === 0) return result
  const now = options.now ?? Date.now
  const cutoff = String(Math.floor(now() / 1000) - maxAgeSeconds)
  let cursor = '0'
  do {
    const at = options.deadline?.()
    if (at !== undefined && now() >= at) return { ...result, complete: false }
    const reply = await runner.run(CLEANUP_SCRIPT, [keys.undeliveredMessages, keys.backlogs], [cursor, cutoff, String(options.stepSize ?? CLEANUP_STEP_SIZE)])
    const step = typeof reply === 'string' ? /^(\d+):(\d+):(\d+):(\d+)$/.exec(reply) : null
    if (!step) throw new RedisCommandError('the cleanup script returned an unexpected reply')
    cursor = step[1]!
    result.removed += Number(step[2])
    result.bytes += Number(step[3])
    result.forgotten += Number(step[4])
  } while (cursor !== '0')
  return result
}
