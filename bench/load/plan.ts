// What the load run (case 13) sends, shared by the processes that send it and the ledger that checks it arrived:
// both derive a dispatch's recipients from the same numbers, so the sent log needs only three per dispatch.

/** The Mesa namespace the load run dispatches in. */
export const LOAD_NAMESPACE = 'load'

/** Client ids `u0` … `u<POOL - 1>`: large enough that no offline one nears the store's caps during a run. */
export const POOL = 100_000

/** Recipient counts, cycled through dispatch by dispatch: 15 dispatches carry 1,248 recipients (83 on average). */
export const MIX: readonly number[] = [1, 1, 1, 1, 1, 1, 1, 1, 10, 10, 10, 10, 100, 100, 1000]

/** Whether client `u<index>` is offline: one in four, spread through the pool so every slice holds some. */
export const isOffline = (index: number): boolean => index % 4 === 3

/** The client ids of a slice of the pool: `count` ids from `offset`, wrapping at the end. */
export function recipientsOf(offset: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `u${(offset + k) % POOL}`)
}

/** Where process `index` of `processes` starts in the pool, so the processes' slices do not overlap at first. */
export const startOffset = (index: number, processes: number): number => Math.floor((index * POOL) / processes)

/** The id of a process's n-th dispatch, carried as the dispatch's id and in its message. */
export const dispatchId = (worker: number, n: number): string => `w${worker}-${n}`

/** What the parent tells a load process: dispatch for `durationMs`, keeping `concurrency` dispatches in flight. */
export interface StepOrder {
  concurrency: number
  durationMs: number
}

/** What a load process answers after a step, once everything it sent has settled. */
export interface StepReport {
  /** Milliseconds from dispatch() to its promise settling, one per dispatch that resolved. */
  latencies: number[]
  /** `n, offset, count` of every dispatch that resolved, flat. */
  sent: number[]
  recipients: number
  errors: number
  firstError?: string
}

/** How a load process is started: argv after the script, as JSON. */
export interface WorkerSetup {
  redisUrl: string
  index: number
  processes: number
}
