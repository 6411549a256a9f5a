/** The summary of one set of samples; the suite reports medians and p99 because the machines here are noisy. */
export interface Summary {
  n: number
  min: number
  median: number
  mean: number
  p90: number
  p99: number
  max: number
}

/** The nearest-rank percentile (0 < p <= 100) of samples: always one of the samples, never an interpolation. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples')
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`)
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!
}

/** The median of samples: the middle one, or the mean of the two middle ones for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Summarizes samples (n, min, median, mean, p90, p99, max). */
export function summarize(samples: readonly number[]): Summary {
  const sum = samples.reduce((total, each) => total + each, 0)
  return {
    n: samples.length,
    min: Math.min(...samples),
    median: median(samples),
    mean: sum / samples.length,
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
  }
}

/** How A compares with B in one interleaved run: the ratio of medians, and the median of per-round ratios. */
export interface Ratio {
  /** median(A) / median(B) */
  ofMedians: number
  /** median over rounds of A_i / B_i, which cancels drift that hits both variants of a round alike. */
  paired: number
}

/** The ratio of A over B, from samples taken in the same rounds (A_i and B_i are from round i). */
export function ratio(a: readonly number[], b: readonly number[]): Ratio {
  if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} and ${b.length}`)
  return { ofMedians: median(a) / median(b), paired: median(a.map((each, i) => each / b[i]!)) }
}
