/** True for `BENCH_QUICK=1`: a smoke run with few iterations, which writes no results. */
export const QUICK = process.env.BENCH_QUICK === '1'

/** Picks the full-run or the quick-run count. */
export const pick = (full: number, quick: number): number => (QUICK ? quick : full)
