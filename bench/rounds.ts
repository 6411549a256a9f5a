import { performance } from 'node:perf_hooks'

/** One contender of an interleaved comparison. */
export interface Variant {
  name: string
  /** The timed work. */
  run: () => Promise<unknown>
  /** Untimed work before each timed run, e.g. resetting Redis state so every run starts alike. */
  before?: () => Promise<unknown>
  /** Untimed work after each timed run, e.g. waiting for fire-and-forget work to finish. */
  after?: () => Promise<unknown>
}

/** How many rounds to run, and how many to run first and throw away (JIT, connections, script cache). */
export interface RoundOptions {
  rounds: number
  warmup: number
}

/**
 * Runs every variant once per round, rotating which goes first, and returns each one's wall times in ms.
 * Interleaving (rather than all of A, then all of B) makes a noisy neighbour or a GC pause hit both alike.
 */
export async function interleave(variants: readonly Variant[], options: RoundOptions): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(variants.map((variant) => [variant.name, []]))
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(round + k) % variants.length]!
      await variant.before?.()
      const started = performance.now()
      await variant.run()
      const elapsed = performance.now() - started
      await variant.after?.()
      if (round >= options.warmup) samples[variant.name]!.push(elapsed)
    }
  }
  return samples
}

/** Times one async call in ms. */
export async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}
