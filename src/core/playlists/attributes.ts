// HLS attribute lists (`NAME=value,NAME="quoted, value"`), read without building a list: the
// rewrite needs one attribute's position, and quoted strings may hold commas.

/**
 * Where the quoted value of attribute `name` sits in `text[from, stop)`: `[start, end)` inside
 * the quotes, null when the list has no such attribute, or a message when the list is malformed.
 */
export function findAttribute (text: string, from: number, stop: number, name: string): [number,
  number] | null | string {
  let found: [number, number] | null = null
  // Players differ on a list that names an attribute twice (hls.js keeps the last, this reader
  // the first) or pads a name with spaces (hls.js trims it): such a list is refused, not guessed at.
  const seen = new Set<string>()
  let i = from
  while (i < stop) {
    const eq = text.indexOf('=', i)
    if (eq === -1 || eq >= stop || eq === i) {
      return `the attribute list has a name without "=value" at column ${i +
      1 - lineStart(text, i)}`
    }
    const attribute = text.slice(i, eq)
    if (!NAME_RE.test(attribute)) {
      return `the attribute name ${JSON.stringify(attribute)} is not letters, digits and ` +
      '"-" (RFC 8216: no spaces in an attribute list)'
    }
    if (seen.has(attribute)) return `the attribute list names ${attribute} twice`
    seen.add(attribute)
    const isName = attribute === name
    let end: number
    if (text.charCodeAt(eq + 1) === 34 /* " */) {
      const close = text.indexOf('"', eq + 2)
      if (close === -1 || close >= stop) return `the quoted value of ${text.slice(i, eq)} has no closing quote`
      if (isName && found === null) found = [eq + 2, close]
      end = close + 1
    } else {
      if (isName) return `${name} must be a quoted string`
      end = text.indexOf(',', eq + 1)
      if (end === -1 || end > stop) end = stop
    }
    if (end < stop && text.charCodeAt(end) !== 44 /* , */) return `expected "," after the value of ${text.slice(i, eq)}`
    i = end + 1
  }
  return found
}

const NAME_RE = /^[A-Za-z0-9-]+$/

function lineStart (text: string, at: number): number {
  return text.lastIndexOf('\n', at) + 1
}
