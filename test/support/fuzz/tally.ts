import { expect } from 'vitest'

/** Counts outcomes, to show that a property reached each side of its oracle rather than passing vacuously. */
export class Tally {
  private readonly counts = new Map<string, number>()
  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1)
  }
  expectReached(...outcomes: string[]): void {
    const missing = outcomes.filter((outcome) => !this.counts.has(outcome))
    expect(missing, `never reached, in ${JSON.stringify(Object.fromEntries(this.counts))}`).toEqual([])
  }
}
