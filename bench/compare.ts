import { readFileSync } from 'node:fs'
import type { Results } from './results'

/**
 * Compares two saved runs (`tsx bench/compare.ts bench/runs/before.json bench/runs/after.json`): every comparison
 * ratio, target and median side by side, with after/before, which is what BENCHMARKS.md's optimisation log cites.
 */
function main(): void {
  const [beforeFile, afterFile] = process.argv.slice(2)
  if (!beforeFile || !afterFile) throw new Error('usage: tsx bench/compare.ts <before.json> <after.json>')
  const [before, after] = [beforeFile, afterFile].map((file) => JSON.parse(readFileSync(file, 'utf8')) as Results) as [Results, Results]
  for (const next of after.cases) {
    const previous = before.cases.find((each) => each.id === next.id)
    if (!previous) continue
    for (const comparison of next.comparisons) {
      const old = previous.comparisons.find((each) => each.name === comparison.name)
      if (old) console.log(`${next.id}\tratio\t${comparison.name}\t${old.ratio.ofMedians.toFixed(2)}x -> ${comparison.ratio.ofMedians.toFixed(2)}x`)
    }
    for (const target of next.targets) {
      const old = previous.targets.find((each) => each.name === target.name)
      if (old) console.log(`${next.id}\ttarget\t${target.name}\t${old.measured} -> ${target.measured}\t${target.met ? 'met' : 'NOT MET'}`)
    }
    for (const measure of next.measures) {
      const old = previous.measures.find((each) => each.name === measure.name)
      const [a, b] = [old?.summary?.median ?? old?.value, measure.summary?.median ?? measure.value]
      if (a !== undefined && b !== undefined && a !== 0)
        console.log(`${next.id}\tmedian\t${measure.name}\t${a.toFixed(3)} -> ${b.toFixed(3)} ${measure.unit}\t(${(b / a).toFixed(2)}x)`)
    }
  }
}

main()
