import {
  FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PLAYLIST, FST_ERR_CF_PLAYLIST_OUTSIDE,
  FST_ERR_CF_PLAYLIST_TOO_LARGE
} from '../errors.js'
import { resolveContext, type PlaylistContext, type ResolvedContext } from './context.js'
import { findAttribute } from './attributes.js'
import { variableName, withVariable } from './variables.js'

// One pass over the playlist text. Every byte outside the URIs it rewrites is copied as is; the
// output is kept as the pieces between the places where the signed query goes, so serving the
// same source to another user is one `join` with that user's query.

/** A playlist compiled for a context: everything but the signed query. */
export interface CompiledPlaylist {
  /** The output around the signed query: `chunks.join(query)` is the rewritten playlist. */
  readonly chunks: string[]
  /** Where each signed URL starts in `chunks[i]`, which ends with it (for variables mode). */
  readonly starts: readonly number[]
  /** `chunks` in UTF-8, made once per source: a rendering copies them around the query's bytes. */
  readonly encoded: readonly Buffer[]
  /** UTF-8 bytes of `chunks`: a rendering is this plus `chunks.length - 1` copies of the query. */
  readonly bytes: number
  /** URIs that carry the signed query (`chunks.length - 1`, or through one variable). */
  readonly signed: number
  /** Sum of the EXTINF durations, in seconds (0 for a master playlist). */
  readonly duration: number
  /** EXT-X-TARGETDURATION in seconds, 0 when absent. */
  readonly targetDuration: number
  /** A master (multivariant) playlist. */
  readonly master: boolean
  /** It will not change: VOD (EXT-X-ENDLIST or EXT-X-PLAYLIST-TYPE:VOD) or a master playlist. */
  readonly immutable: boolean
  /** An XML document (a DASH MPD): the query is joined XML-escaped (`xmlQuery`), served as `application/dash+xml`. */
  readonly xml?: boolean
}

// What a tag's URI points to: media the CDN serves (signed), or another playlist (the mirror).
export const MEDIA = 1
export const PLAYLIST = 2
// Tags other than URI carriers that the pass reads.
const STREAM_INF = 3
const EXTINF = 4
const TARGET = 5
const ENDLIST = 6
const TYPE = 7
const DEFINE = 8
const VERSION = 9

const TAGS = new Map<string, number>([
  ['EXT-X-MAP', MEDIA],
  ['EXT-X-KEY', MEDIA],
  ['EXT-X-SESSION-KEY', MEDIA],
  ['EXT-X-PART', MEDIA],
  ['EXT-X-PRELOAD-HINT', MEDIA],
  ['EXT-X-SESSION-DATA', MEDIA],
  ['EXT-X-MEDIA', PLAYLIST],
  ['EXT-X-I-FRAME-STREAM-INF', PLAYLIST],
  ['EXT-X-RENDITION-REPORT', PLAYLIST],
  ['EXT-X-STREAM-INF', STREAM_INF],
  ['EXTINF', EXTINF],
  ['EXT-X-TARGETDURATION', TARGET],
  ['EXT-X-ENDLIST', ENDLIST],
  ['EXT-X-PLAYLIST-TYPE', TYPE],
  ['EXT-X-DEFINE', DEFINE],
  ['EXT-X-VERSION', VERSION]
])

/** A variable reference (RFC 8216bis 4.3): `{$name}`. */
const REFERENCE_RE = /\{\$([A-Za-z0-9_-]+)\}/g

// C0 controls but LF, a CR not before LF, DEL, C1 controls (NEL among them), and the Unicode line
// and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]|\r(?!\n)/

const RESERVED = ['expires=', 'policy=', 'signature=', 'key-pair-id=', 'hash-algorithm=']

/** Longest part of a URI quoted in an error message (it comes from the origin, not the request). */
const QUOTE = 120

export function quote (uri: string): string {
  return JSON.stringify(uri.length > QUOTE ? uri.slice(0, QUOTE) + '…' : uri)
}

export function alreadySigned (query: string): boolean {
  // query starts with "?"; names are compared as CloudFront reads them, case-insensitively here
  // to be safe: such a URI is left unsigned rather than given a second, conflicting signature.
  const lower = query.toLowerCase()
  for (const name of RESERVED) {
    const at = lower.indexOf(name)
    if (at !== -1 && (lower.charCodeAt(at - 1) === 63 || lower.charCodeAt(at - 1) === 38)) return true
  }
  return false
}

function isSpace (c: number): boolean {
  return c === 32 || c === 9
}

/** The scheme of an absolute URI (lower case), or '' for a relative reference. */
export function schemeOf (uri: string): string {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i)
    if (c === 58 /* : */) return i === 0 ? '' : uri.slice(0, i).toLowerCase()
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    if (!(letter || (i > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)))) return ''
  }
  return ''
}

/**
 * The line reading every HLS pass shares (the mirror's rewrite, the publish-time template): tags,
 * variables, the checks on the text; each URI (segment lines and URI attributes) goes to `uri`.
 */
export abstract class PlaylistReader {
  duration = 0
  targetDuration = 0
  master = false
  vod = false
  protected line = 1
  /** The playlist's own variables: NAME/VALUE ones by value; IMPORT and QUERYPARAM ones are null (unknown here). */
  protected readonly variables = new Map<string, string | null>()
  /** How each variable is defined: 'NAME', 'IMPORT' or 'QUERYPARAM'. */
  readonly definitions = new Map<string, string>()
  /** Where the value of EXT-X-VERSION is, [start, end), or null. */
  version: [number, number] | null = null

  constructor (protected readonly text: string) {}

  fail (what: string): never {
    throw new FST_ERR_CF_INVALID_PLAYLIST(`line ${this.line}: ${what}`)
  }

  /** A URI at [s, e): `MEDIA` or `PLAYLIST`. */
  protected abstract uri (s: number, e: number, kind: number): void

  /** The line an EXT-X-STREAM-INF still waiting for its URI line is on, or 0. */
  private variantLine = 0
  /** Where the next line starts. */
  private at = 0

  /** Checks what concerns the whole text; then `advance` reads the lines. */
  begin (): void {
    const text = this.text
    if (!text.startsWith('#EXTM3U') || (text.length > 7 && text.charCodeAt(7) !== 10 && text.charCodeAt(7) !== 13)) {
      this.fail('an HLS playlist starts with "#EXTM3U" on its own line')
    }
    this.refuseControls()
  }

  /** Reads lines until the text ends (true) or `deadline` (performance.now()) has passed (false). */
  advance (deadline: number): boolean {
    const text = this.text
    const n = text.length
    for (let lines = 0; this.at < n; this.line++) {
      if ((++lines & 255) === 0 && performance.now() > deadline) return false
      const start = this.at
      let end = text.indexOf('\n', start)
      if (end === -1) end = n
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end
      if (text.charCodeAt(start) === 35 /* # */) {
        // Lines starting "#EXT" are tags; any other "#" line is a comment, kept as is.
        if (text.startsWith('#EXT', start)) {
          const kind = this.tag(start, stop)
          if (kind === STREAM_INF) {
            if (this.variantLine !== 0) {
              this.fail(`EXT-X-STREAM-INF follows the one on line ${this.variantLine} before its URI line`)
            }
            this.variantLine = this.line
          }
        }
      } else {
        let s = start
        let e = stop
        while (s < e && isSpace(text.charCodeAt(s))) s++
        while (e > s && isSpace(text.charCodeAt(e - 1))) e--
        if (s < e) {
          this.uri(s, e, this.variantLine !== 0 ? PLAYLIST : MEDIA)
          this.variantLine = 0
        }
      }
      this.at = end + 1
    }
    return true
  }

  /** Checks that no EXT-X-STREAM-INF is left waiting for its URI line. */
  protected end (): void {
    if (this.variantLine !== 0) {
      this.line = this.variantLine
      this.fail('EXT-X-STREAM-INF has no URI line after it')
    }
  }

  /**
   * Refuses control characters anywhere but in a line ending: a player and this pass could read such
   * a line differently (hls.js ends a tag at a lone CR; the URL parser drops tabs and line breaks), and
   * whatever follows would be given the signed query.
   */
  private refuseControls (): void {
    const found = CONTROL_RE.exec(this.text)
    if (found === null) return
    const at = found.index
    let line = 1
    for (let i = this.text.indexOf('\n'); i !== -1 && i < at; i = this.text.indexOf('\n', i + 1)) line++
    this.line = line
    const code = this.text.charCodeAt(at)
    this.fail(`the line holds the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}${code === 13
      ? ' (a CR that does not end the line)'
: ''}: a playlist a player could read differently is refused`)
  }

  /** Reads one tag line; returns its kind (0 for a tag the pass does not look into). */
  private tag (start: number, stop: number): number {
    const text = this.text
    let colon = text.indexOf(':', start)
    if (colon === -1 || colon > stop) colon = stop
    const kind = TAGS.get(text.slice(start + 1, colon))
    if (kind === undefined) return 0
    const value = colon + 1
    switch (kind) {
      case MEDIA:
      case PLAYLIST: {
        // A rendition report names another playlist from within a media playlist.
        if (kind === PLAYLIST && text.charCodeAt(start + 7) !== 82 /* R */) this.master = true
        const at = findAttribute(text, value, stop, 'URI')
        if (typeof at === 'string') this.fail(at)
        if (at !== null) {
          if (at[0] === at[1]) this.fail('URI is empty')
          this.uri(at[0], at[1], kind)
        }
        return kind
      }
      case STREAM_INF:
        this.master = true
        return kind
      case EXTINF: {
        let comma = text.indexOf(',', value)
        if (comma === -1 || comma > stop) comma = stop
        const d = value < comma ? Number(text.slice(value, comma)) : NaN
        if (!(d >= 0) || d === Infinity) this.fail('EXTINF needs a duration in seconds, such as "#EXTINF:6.0,"')
        this.duration += d
        return kind
      }
      case TARGET: {
        const d = value < stop ? Number(text.slice(value, stop)) : NaN
        if (!Number.isInteger(d) || d < 0) this.fail('EXT-X-TARGETDURATION needs a whole number of seconds')
        this.targetDuration = d
        return kind
      }
      case ENDLIST:
        this.vod = true
        return kind
      case DEFINE:
        this.define(value, stop)
        return kind
      case VERSION:
        this.version ??= [value, stop]
        return kind
      default:
        if (text.slice(value, stop) === 'VOD') this.vod = true
        return kind
    }
  }

  /** Records an EXT-X-DEFINE: the value of a NAME, or that an IMPORT or QUERYPARAM name exists. */
  private define (from: number, stop: number): void {
    let defined: [string, string] | null = null
    for (const attribute of ['NAME', 'IMPORT', 'QUERYPARAM']) {
      const at = findAttribute(this.text, from, stop, attribute)
      if (typeof at === 'string') this.fail(`EXT-X-DEFINE: ${at}`)
      if (at === null) continue
      if (defined !== null) this.fail(`EXT-X-DEFINE has both ${defined[0]} and ${attribute}`)
      defined = [attribute, this.text.slice(at[0], at[1])]
    }
    if (defined === null) this.fail('EXT-X-DEFINE needs NAME, IMPORT or QUERYPARAM')
    const [attribute, name] = defined
    // The spec allows one definition per name; players differ on which of two they keep.
    if (this.variables.has(name)) {
      this.fail(`EXT-X-DEFINE defines "${name}" again (RFC 8216bis allows one definition ` +
      'per name)')
    }
    let value: string | null = null
    if (attribute === 'NAME') {
      const v = findAttribute(this.text, from, stop, 'VALUE')
      if (typeof v === 'string') this.fail(`EXT-X-DEFINE: ${v}`)
      if (v === null) this.fail(`EXT-X-DEFINE NAME="${name}" has no VALUE`)
      value = this.text.slice(v[0], v[1])
    }
    this.variables.set(name, value)
    this.definitions.set(name, attribute)
  }

  /**
   * A URI with its variable references replaced by the playlist's own values, as a player reads it.
   * A reference to a variable this playlist does not give a value for (IMPORT, QUERYPARAM, or none)
   * is refused: where the URI points, and so whether it may carry the query, cannot be known here.
   */
  protected expand (raw: string): string {
    return raw.replace(REFERENCE_RE, (reference: string, name: string) => {
      const value = this.variables.get(name)
      if (value === undefined || value === null) {
        this.fail(`${quote(raw)} uses ${reference}, which no EXT-X-DEFINE:NAME="${name}",VALUE="…" above it defines ` +
          '(an IMPORT or QUERYPARAM value is not known when the playlist is rewritten)')
      }
      return value
    })
  }
}

class Compiler extends PlaylistReader {
  readonly chunks: string[] = []
  /** Where each signed URL starts in the chunk that ends with it. */
  readonly starts: number[] = []
  private literal = ''
  private from = 0
  signed = 0
  private uris = 0

  constructor (text: string, private readonly ctx: ResolvedContext, private readonly maxUris: number) {
    super(text)
  }

  run (): CompiledPlaylist {
    this.begin()
    this.advance(Infinity)
    return this.finish()
  }

  async runInSlices (): Promise<CompiledPlaylist> {
    this.begin()
    while (!this.advance(performance.now() + SLICE_MS)) await new Promise((resolve) => setImmediate(resolve))
    // Encoding the output is a copy of the whole text: a turn of its own for a large one.
    if (this.text.length > 1024 * 1024) await new Promise((resolve) => setImmediate(resolve))
    return this.finish()
  }

  finish (): CompiledPlaylist {
    const text = this.text
    this.end()
    this.chunks.push(this.literal + text.slice(this.from))
    return {
      chunks: this.chunks,
      starts: this.starts,
      ...encode(this.chunks),
      signed: this.signed,
      duration: this.duration,
      targetDuration: this.targetDuration,
      master: this.master,
      immutable: this.vod || this.master
    }
  }

  /** Rewrites the URI at [s, e): media to the CDN with the signed query, playlists to the mirror. */
  protected uri (s: number, e: number, kind: number): void {
    if (++this.uris > this.maxUris) {
      throw new FST_ERR_CF_PLAYLIST_TOO_LARGE(`it has more than ${this.maxUris} URIs (playlists.maxUris)`)
    }
    const text = this.text
    const raw = text.slice(s, e)
    const references = raw.includes('{$')
    const expanded = references ? this.expand(raw) : raw
    const scheme = schemeOf(expanded)
    // data:, skd: (FairPlay) and other schemes are not fetched from the CDN: kept as they are.
    if (scheme !== '' && scheme !== 'http' && scheme !== 'https') return
    let url: URL
    try {
      url = new URL(expanded, this.ctx.base)
    } catch {
      this.fail(`the URI ${quote(raw)} cannot be resolved`)
    }
    // Everything written below comes from the parsed URL, never from the raw text, so that what
    // a player reads is what was checked here.
    const ours = url.origin === this.ctx.origin
    let before: string
    let after = ''
    let signs = false
    if (kind === PLAYLIST && ours) {
      // Another playlist of the distribution: served by the mirror, which checks its own grant.
      before = this.ctx.mirror + url.pathname + url.search + url.hash
    } else if (ours && url.pathname.startsWith(this.ctx.prefix)) {
      const written = references ? this.asWritten(raw, url) : null
      const [path, query, fragment] = written ?? [this.ctx.origin + url.pathname, url.search, url.hash]
      if (alreadySigned(url.search)) {
        before = path + query + fragment
      } else {
        before = path + (query === '' || query === '?' ? '?' : query + '&')
        after = fragment
        signs = true
      }
    } else if (this.ctx.outside === 'refuse') {
      const under = `${this.ctx.origin}${this.ctx.prefix}`
      throw new FST_ERR_CF_PLAYLIST_OUTSIDE(`line ${this.line}: ${quote(raw)} is not under ${under} ` +
        '(set the playlists option outside: \'keep\' to leave such URIs unsigned)')
    } else if (scheme !== '') {
      return // an absolute URI elsewhere: kept byte for byte
    } else {
      // Relative, but out of the prefix: made absolute, so it still names what it named, unsigned.
      before = this.ctx.origin + url.pathname + url.search + url.hash
    }
    const at = this.literal.length + s - this.from
    this.literal += text.slice(this.from, s) + before
    this.from = e
    if (signs) {
      this.starts.push(at)
      this.chunks.push(this.literal)
      this.literal = after
      this.signed++
    }
  }

  /**
   * A URI with references of the playlist's own, made absolute and kept as written (the player
   * substitutes them): its path, query and fragment. Null when the player's substitution would not
   * give exactly the URL checked (`url`), or a value holds "?" or "#": the caller then writes the
   * substituted URL.
   */
  private asWritten (raw: string, url: URL): [string, string, string] | null {
    const expanded = this.expand(raw)
    const base = this.ctx.base
    const absolute = schemeOf(expanded) !== ''
      ? raw
      : expanded.startsWith('//')
        ? null
        : expanded.startsWith('/')
          ? this.ctx.origin + raw
          : this.ctx.origin +
          base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1) + raw
    if (absolute === null || this.expand(absolute) !== url.href) return null
    for (const [, name] of absolute.matchAll(REFERENCE_RE)) {
      if (/[?#]/.test(this.variables.get(name as string) ?? '')) return null
    }
    const hash = absolute.indexOf('#')
    const end = hash === -1 ? absolute.length : hash
    const q = absolute.indexOf('?')
    const pathEnd = q === -1 || q > end ? end : q
    return [absolute.slice(0, pathEnd), absolute.slice(pathEnd, end), absolute.slice(end)]
  }
}

/**
 * Compiles a playlist for a context: parses it once and keeps the output around the places where
 * the signed query goes. Throws FST_ERR_CF_INVALID_PLAYLIST for text it cannot read safely and
 * FST_ERR_CF_PLAYLIST_OUTSIDE for a URI out of the grant when `outside` is `'refuse'`.
 */
export function compilePlaylist (text: string, context: PlaylistContext | ResolvedContext,
  limits: PlaylistLimits = {}): CompiledPlaylist {
  if (typeof text !== 'string') throw new FST_ERR_CF_INVALID_PLAYLIST('the playlist must be a string')
  return new Compiler(text, resolveContext(context), limits.maxUris ?? DEFAULT_MAX_URIS).run()
}

/**
 * The same, for a server: the lines are read in slices of a few milliseconds, the event loop
 * turning between them, so a long playlist never holds other requests for long (bench:hostile).
 */
export function compilePlaylistInSlices (text: string, context: PlaylistContext | ResolvedContext,
  limits: PlaylistLimits = {}): Promise<CompiledPlaylist> {
  if (typeof text !== 'string') return Promise.reject(new FST_ERR_CF_INVALID_PLAYLIST('the playlist must be a string'))
  return new Compiler(text, resolveContext(context), limits.maxUris ?? DEFAULT_MAX_URIS).runInSlices()
}

/** Milliseconds of work between two turns of the event loop, when compiling or rendering in slices. */
const SLICE_MS = 8

/** Bounds on what one playlist may cost to rewrite. */
export interface PlaylistLimits {
  /** Most URIs (segment lines and URI attributes) in one playlist (default 10,000). */
  maxUris?: number
}

/**
 * Five hours of 2-second segments, or sixteen of 6-second ones; a longer playlist is refused, not
 * rewritten: compiling and rendering one is then a few tens of milliseconds (bench:hostile).
 */
export const DEFAULT_MAX_URIS = 10_000

/** The chunks in UTF-8 and their size, for `renderPlaylistBody`. */
export function encode (chunks: readonly string[]): { encoded: Buffer[], bytes: number } {
  const encoded = chunks.map((c) => Buffer.from(c, 'utf8'))
  let bytes = 0
  for (const b of encoded) bytes += b.length
  return { encoded, bytes }
}

/** The size in bytes of the rewritten playlist for a query of `queryBytes`. */
export function renderedSize (compiled: CompiledPlaylist, queryBytes: number): number {
  return compiled.bytes + (compiled.encoded.length - 1) * queryBytes
}

/**
 * The rewritten playlist for one signed query, as the bytes a response carries: the encoded chunks
 * copied around the query's, without building the text (a 10,000-URI playlist is a few ms of copying).
 */
export function renderPlaylistBody (compiled: CompiledPlaylist, query: string): Buffer {
  const parts = compiled.encoded
  if (parts.length === 1) return parts[0] as Buffer
  const q = Buffer.from(query, 'utf8')
  const out = Buffer.allocUnsafeSlow(renderedSize(compiled, q.length))
  copyParts(parts, q, out, 0, parts.length, 0)
  return out
}

/** Parts [from, to), each but the first after a copy of the query, into `out` from `at`; returns the end. */
function copyParts (parts: readonly Buffer[], q: Buffer, out: Buffer, from: number, to: number, at: number): number {
  for (let i = from; i < to; i++) {
    if (i > 0) at += q.copy(out, at)
    at += (parts[i] as Buffer).copy(out, at)
  }
  return at
}

/** Parts copied per turn of the event loop when rendering in slices (a few milliseconds' worth). */
const SLICE_PARTS = 2000

/** `renderPlaylistBody` for a server: copied in slices, the event loop turning between them. */
export async function renderPlaylistBodyInSlices (compiled: CompiledPlaylist, query: string): Promise<Buffer> {
  const parts = compiled.encoded
  if (parts.length <= SLICE_PARTS) return renderPlaylistBody(compiled, query)
  const q = Buffer.from(query, 'utf8')
  const out = Buffer.allocUnsafeSlow(renderedSize(compiled, q.length))
  let at = 0
  for (let from = 0; from < parts.length; from += SLICE_PARTS) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve))
    at = copyParts(parts, q, out, from, Math.min(parts.length, from + SLICE_PARTS), at)
  }
  return out
}

/** The rewritten playlist for one signed query. */
export function renderPlaylist (compiled: CompiledPlaylist, query: string): string {
  return compiled.chunks.length === 1 ? compiled.chunks[0] as string : compiled.chunks.join(query)
}

/** What `rewritePlaylist` needs: where the playlist is, what is granted, and the user's signed query. */
export interface RewritePlaylistOptions extends PlaylistContext {
  /**
   * The signed query of the user's custom policy for `distribution + prefix + '*'`:
   * `Policy=…&Signature=…&Key-Pair-Id=…` (with `&Hash-Algorithm=SHA256` when signing with SHA-256).
   */
  query: string
  /**
   * Write the query once, in EXT-X-DEFINEs (HLS version 8): true (`cfq`, `cfqb`), or the query's variable name (default
   * off).
   */
  variables?: boolean | string
}

export const QUERY_RE = /^[A-Za-z0-9\-_~.=&%]+$/

/**
 * Rewrites an HLS playlist for a player without cookies. Every media URI under the granted prefix
 * (segment lines, EXT-X-MAP, EXT-X-KEY, EXT-X-SESSION-KEY, EXT-X-PART, EXT-X-PRELOAD-HINT,
 * EXT-X-SESSION-DATA) becomes the absolute CDN URL with the signed query appended; every playlist
 * URI on the distribution (EXT-X-STREAM-INF lines, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF,
 * EXT-X-RENDITION-REPORT) becomes the mirror's path for it. Query strings already on a URI are kept;
 * every other byte is kept. Pure: no I/O, no clock.
 */
export function rewritePlaylist (text: string, options: RewritePlaylistOptions): string {
  const query = options?.query
  if (typeof query !== 'string' || !QUERY_RE.test(query)) {
    throw new FST_ERR_CF_INVALID_OPTION('query',
      'expected the signed query string, such as "Policy=…&Signature=…&Key-Pair-Id=…" (without "?")')
  }
  const name = variableName(options.variables, 'variables')
  const compiled = compilePlaylist(text, options)
  return renderPlaylist(name === null ? compiled : withVariable(compiled, name), query)
}
