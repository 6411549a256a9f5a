import { describe, expect, it } from 'vitest'
import { Ledger } from '../bench/load/ledger'
import { interleave } from '../bench/rounds'
import { median, percentile, ratio, summarize } from '../bench/stats'

// Counted facts about the benchmark's helpers only: no timing is asserted anywhere.
describe('bench stats', () => {
  it('takes the middle sample, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('takes nearest-rank percentiles, always one of the samples', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentile(hundred, 99)).toBe(99)
    expect(percentile(hundred, 100)).toBe(100)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10)
    expect(percentile([7], 50)).toBe(7)
  })

  it('summarizes samples', () => {
    expect(summarize([1, 2, 3, 4])).toEqual({ n: 4, min: 1, median: 2.5, mean: 2.5, p90: 4, p99: 4, max: 4 })
  })

  it('compares medians, and pairs samples round by round', () => {
    expect(ratio([2, 4, 6], [1, 2, 3])).toEqual({ ofMedians: 2, paired: 2 })
    expect(ratio([10, 1], [5, 2])).toEqual({ ofMedians: 5.5 / 3.5, paired: 1.25 })
    expect(() => ratio([1], [1, 2])).toThrow()
  })

  it('refuses empty samples and impossible percentiles', () => {
    expect(() => median([])).toThrow()
    expect(() => percentile([1], 0)).toThrow()
  })
})

describe('bench rounds', () => {
  it('runs every variant once per round, rotating which goes first, and drops the warm-up rounds', async () => {
    const order: string[] = []
    const variant = (name: string) => ({ name, run: async () => void order.push(name) })
    const samples = await interleave([variant('a'), variant('b'), variant('c')], { rounds: 3, warmup: 1 })
    expect(order).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c'])
    expect(Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, values.length]))).toEqual({ a: 3, b: 3, c: 3 })
  })
})

describe('the load run ledger', () => {
  // Process 0's dispatch 7 went to u0..u3 (u3 offline), its dispatch 8 to u4 alone.
  const ledgerOfTwoDispatches = () => {
    const ledger = new Ledger()
    ledger.addSent(0, [7, 0, 4, 8, 4, 1])
    return ledger
  }
  const publish = (id: string, recipients: string[]) => JSON.stringify({ message: { op: 0, d: { id }, t: 'LOAD' }, recipients })
  const backlog = (...ids: string[]) => JSON.stringify(ids.map((id) => ({ op: 0, d: { id }, t: 'LOAD' })))

  it('counts every recipient reached once when each PUBLISH part and backlog arrived', () => {
    const ledger = ledgerOfTwoDispatches()
    ledger.markPublished(publish('w0-7', ['u0', 'u1']))
    ledger.markPublished(publish('w0-7', ['u2', '*']))
    ledger.markPublished(publish('w0-8', ['u4']))
    ledger.markStored('u3', backlog('w0-7'))
    expect(ledger.tally()).toEqual({ dispatches: 2, online: 4, published: 4, offline: 1, stored: 1, doubled: 0, stray: 0 })
  })

  it('tells a recipient named twice, one never named, and arrivals no dispatch sent', () => {
    const ledger = ledgerOfTwoDispatches()
    ledger.markPublished(publish('w0-7', ['u0', 'u1', 'u0']))
    ledger.markPublished(publish('w0-9', ['u4']))
    ledger.markPublished(publish('w0-8', ['u5']))
    ledger.markStored('u3', backlog('w0-7', 'w0-7'))
    ledger.markStored('u2', backlog('w0-7'))
    expect(ledger.tally()).toEqual({ dispatches: 2, online: 4, published: 2, offline: 1, stored: 1, doubled: 2, stray: 3 })
  })
})
