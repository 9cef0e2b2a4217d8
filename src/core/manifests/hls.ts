import { FST_ERR_CF_MANIFEST_TEMPLATE } from '../errors.js'
import { PlaylistReader, schemeOf } from '../playlists/rewrite.js'
import {
  checkReference, resolveSettings, templateSuffix, type ReferenceCheck, type ResolvedSettings, type TemplateSettings
} from './reference.js'

// HLS with the signed query pulled from the playlist's own URL (RFC 8216bis, EXT-X-DEFINE:QUERYPARAM,
// protocol version 11): each playlist is stored once and plays for whoever holds one signed URL of
// it. Read with the mirror's reader, so both passes see the same URIs.

/** The names imported from the playlist's URL: `\w` names only, the ones Shaka Player substitutes. */
export const IMPORTED = ['Policy', 'Signature'] as const

/** What the template writes after `#EXTM3U`: one QUERYPARAM per imported name, in every playlist (no IMPORT). */
const DEFINES = IMPORTED.map((name) => `#EXT-X-DEFINE:QUERYPARAM="${name}"`)

/** The version QUERYPARAM needs. */
export const QUERYPARAM_VERSION = 11

// CloudFront's query names: none of them may be a playlist's own variable.
const RESERVED = ['expires', 'policy', 'signature', 'key-pair-id', 'hash-algorithm']

/** What templating one playlist did. */
export interface HlsTemplate {
  text: string
  /** URIs that carry the templated query. */
  uris: number
  /** The text differs from the input. */
  changed: boolean
  /** It was a template already, for another key pair ID or hash algorithm. */
  retemplated: boolean
  /** A multivariant playlist. */
  master: boolean
}

class Templater extends PlaylistReader {
  readonly edits: Array<[number, number, string]> = []
  uris = 0
  /** Our defines were in place before the first URI: the input is a template already. */
  private ours: boolean | null = null

  constructor (text: string, private readonly check: ReferenceCheck, private readonly suffix: string) {
    super(text)
  }

  /** A playlist the mirror reads, but a template cannot be made of safely. */
  refuse (what: string): never {
    throw new FST_ERR_CF_MANIFEST_TEMPLATE(`line ${this.line}: ${what}`)
  }

  run (): HlsTemplate {
    this.begin()
    this.advance(Infinity)
    this.end()
    this.checkDefinitions()
    const text = this.text
    if (this.uris === 0) return { text, uris: 0, changed: false, retemplated: false, master: this.master }
    // "#EXTM3U" is the first line (begin checked); its line ending is reused.
    const eol = text.charCodeAt(7) === 13 ? '\r\n' : '\n'
    let out = ''
    let from = 0
    const version = this.version
    if (version !== null) {
      const v = Number(text.slice(version[0], version[1]))
      if (!Number.isInteger(v) || v < 1) this.fail('EXT-X-VERSION is not a whole number')
      if (v < QUERYPARAM_VERSION) this.edits.push([version[0], version[1], String(QUERYPARAM_VERSION)])
    }
    this.edits.sort((a, b) => a[0] - b[0])
    const header = (version === null ? `#EXT-X-VERSION:${QUERYPARAM_VERSION}${eol}` : '') +
      (this.ours === true ? '' : DEFINES.join(eol) + eol)
    const headerAt = 7 + eol.length
    out = text.slice(0, Math.min(headerAt, text.length)) + (text.length < headerAt ? eol : '') + header
    from = Math.min(headerAt, text.length)
    for (const [s, e, replacement] of this.edits) {
      out += text.slice(from, s) + replacement
      from = e
    }
    out += text.slice(from)
    return {
      text: out,
      uris: this.uris,
      changed: out !== text,
      retemplated: this.ours === true && out !== text,
      master: this.master
    }
  }

  /** Definitions checked so far. */
  private checked = 0

  /** Refuses variables a template cannot live with. */
  private checkDefinitions (): void {
    this.checked = this.definitions.size
    for (const [name, attribute] of this.definitions) {
      if (attribute === 'QUERYPARAM' && !/^\w+$/.test(name)) {
        throw new FST_ERR_CF_MANIFEST_TEMPLATE(`EXT-X-DEFINE:QUERYPARAM="${name}": Shaka Player substitutes only ` +
          `names of letters, digits and "_", and requests {$${name}} literally; ` +
          'CloudFront\'s Key-Pair-Id and Hash-Algorithm are written as constants instead')
      }
      if (!RESERVED.includes(name.toLowerCase())) continue
      if (this.ours === true && attribute === 'QUERYPARAM' && (IMPORTED as readonly string[]).includes(name)) continue
      throw new FST_ERR_CF_MANIFEST_TEMPLATE(`the playlist defines the variable "${name}" itself ` +
        `(EXT-X-DEFINE:${attribute}), a CloudFront query name: the template cannot tell its value from the signed one`)
    }
  }

  protected uri (s: number, e: number): void {
    if (this.ours === null) {
      this.ours = IMPORTED.every((name) => this.definitions.get(name) === 'QUERYPARAM') && this.hasOurDefines()
    }
    if (this.definitions.size !== this.checked) this.checkDefinitions()
    const raw = this.text.slice(s, e)
    // A URI this template wrote: its suffix comes off, and the source URI is templated again (with
    // the current key pair ID: that is how a key is rotated).
    let source = raw
    if (this.ours) {
      const found = OURS_RE.exec(raw)
      if (found !== null) source = raw.slice(0, found.index) + raw.slice(found.index + found[0].length)
    }
    if (/\{\$(?:Policy|Signature)\}/.test(source)) {
      this.refuse(`${quote(raw)} refers to {$Policy} or {$Signature} elsewhere than in the query the template writes`)
    }
    const expanded = source.includes('{$') ? this.expand(source) : source
    const scheme = schemeOf(expanded)
    // data:, skd: (FairPlay) and other schemes are not fetched from the CDN: kept as they are.
    if (scheme !== '' && scheme !== 'http' && scheme !== 'https') return
    // The query goes before a fragment; a variable's value holding "?" or "#" would move it.
    if (expanded.includes('?') !== source.includes('?') || expanded.includes('#') !== source.includes('#')) {
      this.refuse(`${quote(raw)}: a variable's value holds "?" or "#", ` +
        'so where the query goes depends on the substitution')
    }
    const refusal = this.check(expanded)
    if (refusal !== null) this.refuse(`${quote(raw)} ${refusal}`)
    const hash = source.indexOf('#')
    const before = hash === -1 ? source : source.slice(0, hash)
    const fragment = hash === -1 ? '' : source.slice(hash)
    const q = before.indexOf('?')
    const separator = q === -1 ? '?' : before.endsWith('?') || before.endsWith('&') ? '' : '&'
    const replacement = before + separator + this.suffix + fragment
    this.uris++
    if (replacement !== raw) this.edits.push([s, e, replacement])
  }

  /** Our two define lines right after "#EXTM3U" (and an EXT-X-VERSION line the template may have put first). */
  private hasOurDefines (): boolean {
    const lines = this.text.slice(0, 512).split(/\r?\n/, 4)
    const at = lines[1]?.startsWith('#EXT-X-VERSION:') === true ? 2 : 1
    return lines[at] === DEFINES[0] && lines[at + 1] === DEFINES[1]
  }
}

/** The query a previous template wrote, at the end of a URI's query (before a fragment). */
const OURS_RE =
  /[?&]Policy=\{\$Policy\}&Signature=\{\$Signature\}&Key-Pair-Id=[A-Za-z0-9_-]+(?:&Hash-Algorithm=SHA(?:1|256))?(?=#|$)/

function quote (uri: string): string {
  return JSON.stringify(uri.length > 120 ? uri.slice(0, 120) + '…' : uri)
}

/**
 * Templates one HLS playlist, stored at `path` (relative to the published folder, `/`-separated):
 * the QUERYPARAM defines after `#EXTM3U`, EXT-X-VERSION raised to 11, and every URI fetched from the
 * CDN (segment lines, EXT-X-MAP, EXT-X-KEY, EXT-X-SESSION-KEY, EXT-X-PART, EXT-X-PRELOAD-HINT,
 * EXT-X-SESSION-DATA, EXT-X-STREAM-INF lines, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF,
 * EXT-X-RENDITION-REPORT) given `Policy={$Policy}&Signature={$Signature}&Key-Pair-Id=…`. A template is
 * templated again to itself. Throws FST_ERR_CF_INVALID_PLAYLIST for a playlist the mirror would not
 * read and FST_ERR_CF_MANIFEST_TEMPLATE for one it cannot template safely.
 */
export function templateHls (text: string, path: string, settings: TemplateSettings): HlsTemplate {
  return templateHlsWith(text, path, resolveSettings(settings))
}

/** `templateHls` with settings checked once for a folder. */
export function templateHlsWith (text: string, path: string, settings: ResolvedSettings): HlsTemplate {
  const check = checkReference(path, settings)
  return new Templater(text, check, templateSuffix(settings, '{$Policy}', '{$Signature}')).run()
}
