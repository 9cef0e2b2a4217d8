// "Did you mean" for mistyped commands and options.
import { editDistance } from '../core/guards.js'

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
  const list = found.length === 1
    ? found[0] as string
    : `${found.slice(0, -1).join(', ')} or ${found[found.length - 1] as string}`
  return `; did you mean ${list}?`
}
