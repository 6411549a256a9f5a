/**
 * The names a mistyped `word` most likely meant, best first (at most three): those within a few edits of it
 * (a transposition counts as one, as in `--tokne`), else those it begins (`--end` for `--endpoint`).
 */
export function nearestNames(word: string, names: readonly string[]): string[] {
  const typed = word.toLowerCase()
  // One edit in three characters, and always one: `--tokn` finds `--token`, `--xyz` finds nothing.
  const allowed = Math.max(1, Math.floor(typed.length / 3))
  const scored = names.map((name) => ({ name, distance: editDistance(typed, name) })).filter((each) => each.distance <= allowed)
  if (scored.length > 0) {
    const best = Math.min(...scored.map((each) => each.distance))
    return scored
      .filter((each) => each.distance === best)
      .map((each) => each.name)
      .slice(0, 3)
  }
  return typed.length >= 2 ? names.filter((name) => name.startsWith(typed)).slice(0, 3) : []
}

/** The optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}
