import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PLAYLIST } from '../errors.js'
import { findAttribute } from './attributes.js'
import { encode, type CompiledPlaylist } from './rewrite.js'

// Variable substitution (RFC 8216bis, EXT-X-DEFINE, protocol version 8): the signed query is
// written once, as the VALUE of a variable, and each signed URI refers to it. A compressor then sees
// one long query and short repeated references instead of a ~600-byte copy per line. A second
// variable holds what every signed URL starts with (the CDN origin and the common path), and the
// query's variable also takes what they all end with (".ts?"): each line is then no longer than
// the unsigned one plus two references, which brotli encodes at the unsigned line's cost
// (bench:playlists, variables mode, br bytes against the unsigned playlist's: 1.82x with the
// query's variable alone, 1.51x with both; 1.45x at compress.ts's quality 10).

/** The variable name when `variables: true`. */
export const DEFAULT_VARIABLE = 'cfq'

const NAME_RE = /^[a-zA-Z0-9_-]+$/

/** The variable name the option stands for, or null when the mode is off. */
export function variableName (option: unknown, label: string): string | null {
  if (option === undefined || option === false) return null
  if (option === true) return DEFAULT_VARIABLE
  if (typeof option === 'string' && NAME_RE.test(option)) return option
  throw new FST_ERR_CF_INVALID_OPTION(label, 'expected true, false or a variable name of letters, digits, "_" and "-"')
}

function lineEnd (text: string, from: number): [number, number] {
  let end = text.indexOf('\n', from)
  if (end === -1) end = text.length
  return [end, end > from && text.charCodeAt(end - 1) === 13 ? end - 1 : end]
}

/**
 * The compiled playlist in variables mode: `chunks` becomes the text before and after the query,
 * in the VALUE of the second EXT-X-DEFINE, so `renderPlaylist` still joins it with the query.
 * A playlist with nothing to sign is returned as it is. Throws FST_ERR_CF_INVALID_PLAYLIST when the playlist already
 * uses either name.
 */
export function withVariable (compiled: CompiledPlaylist, name: string): CompiledPlaylist {
  if (compiled.signed === 0) return compiled
  // The URLs' common start: the query's variable name and "b" (cfqb).
  const base = name + 'b'
  const reference = '{$' + name + '}'
  const baseReference = '{$' + base + '}'
  // References the rewrite did not write mean the source already uses a name.
  const source = compiled.chunks.join(reference)
  const uses = (r: string): number => {
    let n = 0
    for (let at = source.indexOf(r); at !== -1; at = source.indexOf(r, at + 1)) n++
    return n
  }
  const clash = `the playlist already uses the variable "${name}" or "${base}" (set the variables option to another ` +
    'name)'
  if (uses(reference) !== compiled.signed || uses(baseReference) !== 0) throw new FST_ERR_CF_INVALID_PLAYLIST(clash)
  const [chunks, start, end] = factorUrls(compiled.chunks, compiled.starts, baseReference)
  const text = chunks.join(reference)
  let version: [number, number] | null = null
  for (let at = 0; at < text.length;) {
    const [next, stop] = lineEnd(text, at)
    if (text.startsWith('#EXT-X-DEFINE:', at)) {
      // NAME, IMPORT and QUERYPARAM each define a variable; the spec forbids two of one name.
      for (const attribute of ['NAME', 'IMPORT', 'QUERYPARAM']) {
        const found = findAttribute(text, at + 14, stop, attribute)
        if (typeof found === 'string') throw new FST_ERR_CF_INVALID_PLAYLIST(`EXT-X-DEFINE: ${found}`)
        if (found !== null && [name, base].includes(text.slice(found[0],
          found[1]))) throw new FST_ERR_CF_INVALID_PLAYLIST(clash)
      }
    } else if (version === null && text.startsWith('#EXT-X-VERSION:', at)) {
      version = [at + 15, stop]
    }
    at = next + 1
  }
  // "#EXTM3U" is the first line (compilePlaylist checked); its line ending is reused.
  const eol = text.charCodeAt(7) === 13 ? '\r\n' : '\n'
  let body = text.slice(7 + eol.length)
  let added = ''
  if (version === null) {
    added = '#EXT-X-VERSION:8' + eol
  } else if (!(Number(text.slice(version[0], version[1])) >= 8)) {
    const skip = 7 + eol.length
    body = body.slice(0, version[0] - skip) + '8' + body.slice(version[1] - skip)
  }
  const define = (n: string): string => '#EXT-X-DEFINE:NAME="' + n + '",VALUE="'
  const out = ['#EXTM3U' + eol + define(base) + start + '"' + eol + define(name) + end, '"' + eol + added + body]
  return { ...compiled, chunks: out, ...encode(out) }
}

/**
 * Each chunk before a query ends with its signed URL, from `starts[i]` on. Returns the chunks with
 * the URLs' common start replaced by a reference to the base variable and their common end cut
 * (it is written before the query, in the query's variable), with that start and end.
 */
function factorUrls (chunks: readonly string[], starts: readonly number[], baseReference: string): [string[], string,
  string] {
  // The positions the rewrite wrote each URL at: searching the text for the origin could find it on
  // another line (a URI kept with a reference of its own does not start with it).
  const urls = starts
  let first = ''
  let prefix = Infinity
  let suffix = Infinity
  for (let i = 0; i < chunks.length - 1; i++) {
    const url = (chunks[i] as string).slice(urls[i] as number)
    if (i === 0) first = url
    prefix = Math.min(prefix, commonStart(first, url))
    suffix = Math.min(suffix, commonEnd(first, url))
  }
  // The start and end do not overlap, and hold no '"' (VALUE is a quoted-string) and no '{' (a
  // reference of the playlist's own stays on the line, where the player substitutes it).
  suffix = Math.min(suffix, first.length - prefix)
  let start = first.slice(0, prefix)
  let end = first.slice(first.length - suffix)
  // Nor a line break: a URL is on one line, and the values must stay on theirs.
  const cut = start.search(/["{\r\n]/)
  if (cut !== -1) start = start.slice(0, cut)
  end = end.slice(Math.max(end.lastIndexOf('"'), end.lastIndexOf('}'), end.lastIndexOf('\n'), end.lastIndexOf('\r')) +
    1)
  const out = chunks.map((chunk, i) => {
    if (i === chunks.length - 1) return chunk
    const at = urls[i] as number
    return chunk.slice(0, at) + baseReference + chunk.slice(at + start.length, chunk.length - end.length)
  })
  return [out, start, end]
}

function commonStart (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function commonEnd (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++
  return i
}
