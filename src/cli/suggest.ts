// "Did you mean" for mistyped commands and options.

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance (a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) rows.push([i])
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const prev = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (rows[i - 2] as number[])[j - 2] as number + 1)
      row[j] = d
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}

/** The candidates close to what was typed (a typo, or the start of a longer name), nearest first, at most three. */
export function suggest (typed: string, candidates: string[]): string[] {
  // Options are compared without their dashes, which every candidate shares.
  const bare = (s: string): string => s.replace(/^-+/, '').toLowerCase()
  const word = bare(typed)
  const limit = word.length <= 4 ? 1 : 2
  const scored: Array<[string, number]> = []
  for (const c of candidates) {
    const name = bare(c)
    const d = editDistance(word, name)
    const prefix = word.length >= 3 && (name.startsWith(word) || word.startsWith(name))
    if (d <= limit || prefix) scored.push([c, d])
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, 3).map(([c]) => c)
}

/** ` (did you mean a or b?)`, or nothing. */
export function didYouMean (typed: string, candidates: string[]): string {
  const found = suggest(typed, candidates)
  if (found.length === 0) return ''
  const list = found.length === 1 ? found[0] as string : `${found.slice(0, -1).join(', ')} or ${found[found.length - 1] as string}`
  return `; did you mean ${list}?`
}
