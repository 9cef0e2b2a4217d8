import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PLAYLIST } from '../errors.js'
import { findAttribute } from './attributes.js'
import type { CompiledPlaylist } from './rewrite.js'

// Variable substitution (RFC 8216bis, EXT-X-DEFINE, protocol version 8): the signed query is
// written once, as the VALUE of a variable, and each signed URI ends in a reference to it. A
// compressor then sees one long query and short repeated references instead of a ~600-byte copy
// per line. VALUE is a quoted-string, which the signed query can be: it never holds '"'.

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
 * The compiled playlist in variables mode: `chunks` becomes the text before and after the
 * EXT-X-DEFINE value, so `renderPlaylist` still joins it with the query. A playlist with nothing to
 * sign is returned as it is. Throws FST_ERR_CF_INVALID_PLAYLIST when the playlist already uses the name.
 */
export function withVariable (compiled: CompiledPlaylist, name: string): CompiledPlaylist {
  if (compiled.signed === 0) return compiled
  const reference = '{$' + name + '}'
  const text = compiled.chunks.join(reference)
  // A reference the rewrite did not write means the source already uses the name.
  let uses = 0
  for (let at = text.indexOf(reference); at !== -1; at = text.indexOf(reference, at + 1)) uses++
  const clash = `the playlist already uses the variable "${name}" (set the variables option to another name)`
  if (uses !== compiled.signed) throw new FST_ERR_CF_INVALID_PLAYLIST(clash)
  let version: [number, number] | null = null
  for (let start = 0; start < text.length;) {
    const [end, stop] = lineEnd(text, start)
    if (text.startsWith('#EXT-X-DEFINE:', start)) {
      // NAME, IMPORT and QUERYPARAM each define a variable; the spec forbids two of one name.
      for (const attribute of ['NAME', 'IMPORT', 'QUERYPARAM']) {
        const at = findAttribute(text, start + 14, stop, attribute)
        if (typeof at === 'string') throw new FST_ERR_CF_INVALID_PLAYLIST(`EXT-X-DEFINE: ${at}`)
        if (at !== null && text.slice(at[0], at[1]) === name) throw new FST_ERR_CF_INVALID_PLAYLIST(clash)
      }
    } else if (version === null && text.startsWith('#EXT-X-VERSION:', start)) {
      version = [start + 15, stop]
    }
    start = end + 1
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
  return {
    ...compiled,
    chunks: ['#EXTM3U' + eol + '#EXT-X-DEFINE:NAME="' + name + '",VALUE="', '"' + eol + added + body]
  }
}
