/** True for `BENCH_QUICK=1`: a smoke run with few iterations, which writes no results. */
export const QUICK = process.env.BENCH_QUICK === '1'

/** Picks the full-run or the quick-run count. */
export const pick = (full: number, quick: number): number => (QUICK ? quick : full)

/** The case ids of `BENCH_ONLY=7,9`: a run of those cases alone, which writes no results; undefined runs them all. */
export const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((id) => id.trim()) : undefined

/** Whether a case (named `<id> <title>`, e.g. `7 cold start`) is to run. */
export const isSelected = (name: string): boolean => !ONLY || ONLY.includes(name.split(' ')[0]!)
