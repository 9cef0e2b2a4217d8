import {
  FST_ERR_CF_INVALID_MPD, FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_MPD_OUTSIDE, FST_ERR_CF_PLAYLIST_TOO_LARGE
} from '../../errors.js'
import { resolveContext, type PlaylistContext, type ResolvedContext } from '../context.js'
import {
  alreadySigned, encode, quote, schemeOf, DEFAULT_MAX_URIS, QUERY_RE, type CompiledPlaylist, type PlaylistLimits
} from '../rewrite.js'
import { MpdReader, XLINK_NAMESPACE, type MpdContent, type MpdElement } from './parse.js'

// The MPD rewrite (ISO/IEC 23009-1), compiled once per source like the HLS one: the text around
// the places where the signed query goes, so a user's MPD is a join with their query, XML-escaped.
//
// Where a leaf URL points depends on the BaseURLs around it (MPD, Period, AdaptationSet,
// Representation, each resolved against its parent, the top ones against the MPD's URL), and the
// mirror serves the MPD from the app, not the CDN. So:
// - a BaseURL with none above it is written absolute (it would resolve against the app); others
//   are kept as written and resolve against it. A Representation's BaseURL that is the media file
//   itself (no SegmentTemplate or SegmentList in effect) carries the query;
// - a relative leaf URL (SegmentTemplate, SegmentURL, Initialization, ...) that resolves through a
//   BaseURL is kept relative, with the query: it then still follows the player's choice among
//   several BaseURLs (serviceLocation). Every URL it can resolve to is checked first. One that
//   resolves against the MPD's URL alone is written absolute, as the HLS rewrite does;
// - Location, PatchLocation and xlink:href on the distribution become the mirror's path.

/** Most BaseURL alternatives a leaf URL may resolve against (several serviceLocations at several levels multiply). */
const MAX_ALTERNATIVES = 64

/**
 * Where the signed query goes, by element: attributes holding a leaf URL; `true` for a SegmentTemplate
 * (identifiers).
 */
const LEAF_ATTRIBUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['SegmentTemplate', ['media', 'initialization', 'index', 'bitstreamSwitching']],
  ['SegmentURL', ['media', 'index']],
  ['Initialization', ['sourceURL']],
  ['RepresentationIndex', ['sourceURL']],
  ['BitstreamSwitching', ['sourceURL']]
])

/** Elements whose text is a URL. */
const TEXT_URLS = new Set(['BaseURL', 'Location', 'PatchLocation'])
const STRUCTURE = new Set(['Period', 'AdaptationSet', 'Representation'])
/** Roots the mirror reads: an MPD, or a remote element (xlink) of one. */
const ROOTS = new Set(['MPD', 'Period', 'AdaptationSet'])
/**
 * DASH names a player may read whatever their namespace (several match on the local name): one in
 * another namespace is refused rather than left unsigned or unchecked.
 */
const WATCHED = new Set([...LEAF_ATTRIBUTES.keys(), ...TEXT_URLS, ...STRUCTURE, 'MPD', 'SegmentBase', 'SegmentList'])

interface Scope {
  readonly name: string
  readonly parent: Scope | null
  readonly line: number
  readonly bases: Base[]
  readonly children: Scope[]
  /** A SegmentTemplate or SegmentList directly in it. */
  segments: boolean
  /**
   * Segment information naming no URL of its own (SegmentBase, a SegmentURL without @media, an
   * Initialization without @sourceURL): the BaseURL is the file.
   */
  bare: boolean
  resolved?: URL[]
  below?: URL[]
}

interface Base {
  readonly scope: Scope
  readonly value: string
  readonly line: number
  readonly start: number
  readonly end: number
  resolved?: URL[]
}

/** A splice: the text before and after the query, or a replacement without one. */
type Edit = [string, string] | [string]

const BASE = 1
const LEAF = 2
const MIRROR = 3

interface Site {
  readonly kind: number
  /** What it is, for messages: `SegmentTemplate@media`, `BaseURL`. */
  readonly what: string
  readonly value: string
  readonly line: number
  readonly start: number
  readonly end: number
  readonly scope: Scope
  readonly template: boolean
  readonly base?: Base
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }

/** Text for an XML attribute value or element content. */
function escapeXml (s: string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const e = XML_ESCAPES[s[i] as string]
    if (e !== undefined) {
      out += s.slice(from, i) + e
      from = i + 1
    }
  }
  return from === 0 ? s : out + s.slice(from)
}

/** In a SegmentTemplate, a literal `$` is written `$$`. */
function escapeDollar (s: string): string {
  return s.includes('$') ? s.split('$').join('$$') : s
}

/** The signed query as the MPD carries it: XML-escaped (`&amp;`). Throws for a query that is not one. */
export function xmlQuery (query: string): string {
  if (typeof query !== 'string' || !QUERY_RE.test(query)) {
    throw new FST_ERR_CF_INVALID_OPTION('query',
      'expected the signed query string, such as "Policy=…&Signature=…&Key-Pair-Id=…" (without "?")')
  }
  // QUERY_RE allows no "$", "<" or quote: the query needs no other escape, in a template or not.
  return query.split('&').join('&amp;')
}

// C0 and C1 controls, DEL and the line separators in a decoded value: XML allows character
// references to some of them, and URL parsers disagree on what they do.
// eslint-disable-next-line no-control-regex
const VALUE_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** A number of an ISO 8601 duration, its unit after it. */
const DURATION_PART = '(\\d+(?:\\.\\d+)?)'
const ISO_DURATION_RE = new RegExp(`^P(?:${DURATION_PART}Y)?(?:${DURATION_PART}M)?(?:${DURATION_PART}D)?` +
  `(?:T(?:${DURATION_PART}H)?(?:${DURATION_PART}M)?(?:${DURATION_PART}S)?)?$`)

/** An ISO 8601 duration (xs:duration, as MPDs write them) in seconds, or NaN. */
export function parseIsoDuration (value: string): number {
  const m = ISO_DURATION_RE.exec(value.trim())
  if (m === null || value.trim() === 'P' || value.trim().endsWith('T')) return NaN
  const [, y, mo, d, h, mi, s] = m.map((x) => (x === undefined ? 0 : Number(x)))
  return (y as number) * 365 * 86400 + (mo as number) * 30 * 86400 + (d as number) * 86400 +
    (h as number) * 3600 + (mi as number) * 60 + (s as number)
}

class MpdCompiler {
  private readonly sites: Site[] = []
  private readonly scopes: Scope[] = []
  private uris = 0
  private dynamic = false
  private minimumUpdatePeriod = NaN
  private duration = 0
  readonly reader: MpdReader

  constructor (private readonly text: string, private readonly ctx: ResolvedContext, private readonly maxUris: number) {
    this.reader = new MpdReader(text, {
      open: (element) => this.open(element),
      close: (element, content) => this.close(element, content)
    })
  }

  private fail (line: number, what: string): never {
    throw new FST_ERR_CF_INVALID_MPD(`line ${line}: ${what}`)
  }

  private count (): void {
    if (++this.uris > this.maxUris) {
      throw new FST_ERR_CF_PLAYLIST_TOO_LARGE(`it has more than ${this.maxUris} URIs (playlists.maxUris)`)
    }
  }

  private open (element: MpdElement): boolean {
    if (element.depth === 0) this.openRoot(element)
    if (!element.dash) {
      if (WATCHED.has(element.local)) {
        this.fail(element.line, `<${element.name}> is in the namespace ${JSON.stringify(element.uri)}, ` +
          'not the MPD\'s: a player may read it as the DASH element, which the mirror would not have checked')
      }
      this.xlink(element)
      return false
    }
    const scope = this.scopes[this.scopes.length - 1] as Scope
    if (element.depth > 0 && STRUCTURE.has(element.local)) {
      const child: Scope = {
        name: element.local, parent: scope, line: element.line, bases: [], children: [], segments: false, bare: false
      }
      scope.children.push(child)
      this.scopes.push(child)
    }
    const current = this.scopes[this.scopes.length - 1] as Scope
    if (element.local === 'SegmentTemplate' || element.local === 'SegmentList') current.segments = true
    const names = LEAF_ATTRIBUTES.get(element.local)
    if (element.local === 'SegmentBase' || (names !== undefined && element.local !== 'SegmentTemplate' &&
      !element.attributes.some((a) => a.uri === '' && a.local === names[0]))) {
      current.bare = true
    }
    if (names !== undefined) {
      for (const a of element.attributes) {
        if (!names.includes(a.local)) continue
        if (a.uri !== '') {
          this.fail(element.line, `<${element.name}> has ${a.name}: a player may read it as ${a.local}, ` +
            'which the mirror would not have checked')
        }
        this.count()
        this.sites.push({
          kind: LEAF,
          what: `${element.local}@${a.local}`,
          value: this.checked(a.value, element.line, a.name),
          line: element.line,
          start: a.start,
          end: a.end,
          scope: current,
          template: element.local === 'SegmentTemplate'
        })
      }
    }
    this.xlink(element)
    return TEXT_URLS.has(element.local)
  }

  private openRoot (element: MpdElement): void {
    if (!element.dash) {
      this.fail(element.line, `the root element <${element.name}> is in the namespace ` +
        `${JSON.stringify(element.uri)}: an MPD is in urn:mpeg:dash:schema:mpd:2011`)
    }
    if (!ROOTS.has(element.local)) {
      this.fail(element.line, `the root element is <${element.name}>: ` +
        'the mirror serves an MPD, or a Period or AdaptationSet (xlink)')
    }
    this.scopes.push({
      name: element.local, parent: null, line: element.line, bases: [], children: [], segments: false, bare: false
    })
    if (element.local !== 'MPD') return
    for (const a of element.attributes) {
      if (a.uri !== '') continue
      if (a.local === 'type') this.dynamic = a.value.trim() === 'dynamic'
      if (a.local === 'minimumUpdatePeriod') this.minimumUpdatePeriod = parseIsoDuration(a.value)
      if (a.local === 'mediaPresentationDuration') {
        const d = parseIsoDuration(a.value)
        if (d >= 0 && d < Infinity) this.duration = d
      }
    }
  }

  /** An xlink:href on any element: a remote element the player fetches, through the mirror. */
  private xlink (element: MpdElement): void {
    for (const a of element.attributes) {
      if (a.uri !== XLINK_NAMESPACE || a.local !== 'href') continue
      this.count()
      const scope = this.scopes[this.scopes.length - 1] as Scope
      this.sites.push({
        kind: MIRROR,
        what: `${element.local}@${a.name}`,
        value: this.checked(a.value, element.line, a.name),
        line: element.line,
        start: a.start,
        end: a.end,
        scope,
        template: false
      })
    }
  }

  /** A URL value, refused when it holds a control character (character references can write them). */
  private checked (value: string, line: number, what: string): string {
    if (VALUE_CONTROL_RE.test(value)) {
      this.fail(line, `${what} holds a control character: the mirror refuses URLs a player could read differently`)
    }
    return value
  }

  private close (element: MpdElement, content: MpdContent): void {
    if (!element.dash) return
    if (TEXT_URLS.has(element.local)) {
      if (element.selfClosing) {
        this.fail(element.line, `<${element.name}/> is empty: write the URL, or leave the element out`)
      }
      if (content.elements > 0) this.fail(element.line, `<${element.name}> holds elements: it holds a URL`)
      this.count()
      const value = this.checked(content.text, element.line, element.local).trim()
      const scope = this.scopes[this.scopes.length - 1] as Scope
      if (element.local === 'BaseURL') {
        const base: Base = { scope, value, line: element.line, start: content.start, end: content.end }
        scope.bases.push(base)
        this.sites.push({
          kind: BASE,
          what: 'BaseURL',
          value,
          line: element.line,
          start: content.start,
          end: content.end,
          scope,
          template: false,
          base
        })
      } else {
        this.sites.push({
          kind: MIRROR,
          what: element.local,
          value,
          line: element.line,
          start: content.start,
          end: content.end,
          scope,
          template: false
        })
      }
    } else if (element.depth > 0 && STRUCTURE.has(element.local)) {
      this.scopes.pop()
    }
  }

  // What a scope's URLs resolve against: its BaseURLs (each against its parent's), else its parent's,
  // else the MPD's URL.
  private resolvedOf (scope: Scope | null): URL[] {
    if (scope === null) return [this.ctx.base]
    if (scope.resolved !== undefined) return scope.resolved
    const parent = this.resolvedOf(scope.parent)
    if (scope.bases.length === 0) {
      scope.resolved = parent
      return parent
    }
    const out: URL[] = []
    for (const b of scope.bases) {
      b.resolved = parent.map((p) => this.resolve(b.value, p, false, 'BaseURL', b.line))
      out.push(...b.resolved)
    }
    if (out.length > MAX_ALTERNATIVES) {
      this.fail(scope.line, `<${scope.name}> has ${out.length} BaseURL alternatives with those around it, ` +
        `more than ${MAX_ALTERNATIVES}`)
    }
    scope.resolved = out
    return out
  }

  /** The URLs the BaseURLs inside a scope (not its own) resolve to. */
  private below (scope: Scope): URL[] {
    if (scope.below !== undefined) return scope.below
    const out: URL[] = []
    for (const child of scope.children) {
      if (child.bases.length > 0) out.push(...this.resolvedOf(child))
      out.push(...this.below(child))
    }
    if (out.length > MAX_ALTERNATIVES) {
      this.fail(scope.line, `<${scope.name}> holds ${out.length} BaseURL alternatives, more than ${MAX_ALTERNATIVES}`)
    }
    scope.below = out
    return out
  }

  /** A BaseURL here or above. */
  private anchored (scope: Scope | null): boolean {
    for (let s = scope; s !== null; s = s.parent) if (s.bases.length > 0) return true
    return false
  }

  /** Every Representation inside resolves through a BaseURL of its own level or one between. */
  private based (scope: Scope): boolean {
    return scope.bases.length > 0 || (scope.children.length > 0 && scope.children.every((c) => this.based(c)))
  }

  /** Whether a Representation's own BaseURL is (also) its media file: no segment URLs, or some segments without one. */
  private isFile (scope: Scope): boolean {
    let segments = false
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      if (s.bare) return true
      segments ||= s.segments
    }
    return !segments
  }

  private resolve (value: string, base: URL, template: boolean, what: string, line: number): URL {
    try {
      // In a template, the base's own "$" are literal: written "$$" so that the result is a template too.
      return new URL(value, template ? escapeDollar(base.href) : base)
    } catch {
      this.fail(line, `${what} ${quote(value)} cannot be resolved`)
    }
  }

  private under (url: URL, template: boolean): boolean {
    return url.origin === this.ctx.origin &&
      url.pathname.startsWith(template ? escapeDollar(this.ctx.prefix) : this.ctx.prefix)
  }

  private outside (site: Site, url: URL): void {
    if (this.ctx.outside === 'refuse') {
      throw new FST_ERR_CF_MPD_OUTSIDE(`line ${site.line}: ${site.what} ${quote(site.value)} ` +
        `resolves to ${quote(url.href)}, not under ${this.ctx.origin}${this.ctx.prefix} ` +
        '(set the playlists option outside: \'keep\' to leave such URLs unsigned)')
    }
  }

  /**
   * The splice for a site: [text before the query, text after it] when signed, [text] when only rewritten,
   * null when kept.
   */
  private edit (site: Site): Edit | null {
    const v = site.value
    const scheme = schemeOf(v)
    // data:, urn: (resolve-to-zero) and other schemes are not fetched from the CDN: kept as they are.
    if (scheme !== '' && scheme !== 'http' && scheme !== 'https') return null
    if (site.kind === MIRROR) {
      const url = this.resolve(v, this.ctx.base, false, site.what, site.line)
      if (url.origin === this.ctx.origin) return [escapeXml(this.ctx.mirror + url.pathname + url.search + url.hash)]
      this.outside(site, url)
      return null
    }
    if (site.kind === BASE) return this.editBase(site)
    // A path-relative reference resolves against the BaseURLs; any other form (absolute, "/path",
    // "//host/path") names one URL whatever the base's path, and is written absolute.
    const relative = scheme === '' && !v.startsWith('/')
    const scope = site.scope
    if (!relative) return this.absolute(site, [this.resolve(v, this.ctx.base, site.template, site.what, site.line)])
    const anchored = this.anchored(scope)
    const below = this.below(scope)
    if (!anchored && !this.based(scope)) {
      if (below.length > 0) {
        this.fail(site.line, `${site.what} ${quote(v)} resolves against BaseURLs inside <${scope.name}> ` +
          'for some Representations and against the MPD\'s URL for others: give the MPD (or the Period) a BaseURL')
      }
      return this.absolute(site, this.resolvedOf(scope).map((b) =>
        this.resolve(v, b, site.template, site.what, site.line)))
    }
    // Kept relative: it resolves against BaseURLs the mirror wrote absolute (or kept, under them).
    const bases = anchored ? [...this.resolvedOf(scope), ...below] : below
    for (const b of bases) {
      const url = this.resolve(v, b, site.template, site.what, site.line)
      if (!this.under(url, site.template)) {
        this.outside(site, url)
        return null
      }
    }
    // A template starting with $RepresentationID$ could become "https://…" or "//host" once
    // substituted (an id is any string; the other identifiers are numbers): "./" keeps it a path.
    const guard = site.template && firstSegment(v).includes('$RepresentationID$') ? './' : ''
    return this.withQuery(guard + v)
  }

  /** The URL written absolute, signed when every URL it stands for is under the prefix. */
  private absolute (site: Site, urls: URL[]): Edit {
    const url = urls[0] as URL
    const written = this.ctx.origin + url.pathname + url.search
    const signed = urls.every((u) => this.under(u, site.template))
    if (!signed) {
      this.outside(site, url)
      return [escapeXml(schemeOf(site.value) !== '' ? site.value : url.href)]
    }
    return this.withQuery(written + url.hash)
  }

  /** `v` with the query before its fragment (kept as it is when it is signed already). */
  private withQuery (v: string): Edit {
    const hash = v.indexOf('#')
    const body = hash === -1 ? v : v.slice(0, hash)
    const q = body.indexOf('?')
    if (q !== -1 && alreadySigned(body.slice(q))) return [escapeXml(v)]
    const join = q === -1 ? '?' : body.endsWith('?') || body.endsWith('&') ? '' : '&'
    return [escapeXml(body + join), escapeXml(hash === -1 ? '' : v.slice(hash))]
  }

  private editBase (site: Site): Edit | null {
    const base = site.base as Base
    const scope = base.scope
    this.resolvedOf(scope)
    const resolved = base.resolved as URL[]
    const top = !this.anchored(scope.parent)
    const relative = schemeOf(site.value) === ''
    // A Representation's BaseURL is the media file when no template or list names segments of its
    // own (ffmpeg's single_file MPDs: a SegmentList of byte ranges of the BaseURL). A query on it is
    // harmless to the relative URLs that resolve against it (they carry their own).
    const leaf = scope.name === 'Representation' && this.isFile(scope)
    if (!leaf) return top && relative ? [escapeXml((resolved[0] as URL).href)] : null
    if (top && relative) return this.absolute(site, resolved)
    for (const url of resolved) {
      if (!this.under(url, false)) {
        this.outside(site, url)
        return null
      }
    }
    return this.withQuery(site.value)
  }

  // The output, built site after site: the text around the places where the query goes.
  private readonly chunks: string[] = []
  private readonly starts: number[] = []
  private literal = ''
  private from = 0
  private next = 0

  /** Splices the sites until all are done (true) or `deadline` (performance.now()) has passed (false). */
  private splice (deadline: number): boolean {
    const text = this.text
    const sites = this.sites
    while (this.next < sites.length) {
      if ((this.next & 255) === 255 && performance.now() > deadline) return false
      const site = sites[this.next++] as Site
      const edit = this.edit(site)
      if (edit === null) continue
      this.literal += text.slice(this.from, site.start) + edit[0]
      this.from = site.end
      if (edit.length === 2) {
        this.starts.push(this.literal.length - edit[0].length)
        this.chunks.push(this.literal)
        this.literal = edit[1]
      }
    }
    return true
  }

  private finish (): CompiledPlaylist {
    const chunks = this.chunks
    chunks.push(this.literal + this.text.slice(this.from))
    const immutable = !this.dynamic || !(this.minimumUpdatePeriod >= 0)
    return {
      chunks,
      starts: this.starts,
      ...encode(chunks),
      signed: chunks.length - 1,
      duration: this.dynamic ? 0 : this.duration,
      targetDuration: immutable ? 0 : Math.min(this.minimumUpdatePeriod, 3600),
      master: false,
      immutable,
      xml: true
    }
  }

  run (): CompiledPlaylist {
    this.reader.advance(Infinity)
    this.splice(Infinity)
    return this.finish()
  }

  async runInSlices (): Promise<CompiledPlaylist> {
    const turn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve))
    while (!this.reader.advance(performance.now() + SLICE_MS)) await turn()
    // Resolving every URL against its BaseURLs, then encoding the output: turns of their own.
    await turn()
    while (!this.splice(performance.now() + SLICE_MS)) await turn()
    await turn()
    return this.finish()
  }
}

/** Milliseconds of work between two turns of the event loop. */
const SLICE_MS = 8

/** The part of a relative reference before its first "/", "?" or "#". */
function firstSegment (v: string): string {
  let end = v.length
  for (const c of ['/', '?', '#']) {
    const at = v.indexOf(c)
    if (at !== -1 && at < end) end = at
  }
  return v.slice(0, end)
}

/**
 * Compiles an MPD for a context (`playlistPath` is the MPD's CDN path): parses it once and keeps
 * the text around the places where the signed query goes. Throws FST_ERR_CF_INVALID_MPD for text
 * it cannot read safely and FST_ERR_CF_MPD_OUTSIDE for a URL out of the grant when `outside` is `'refuse'`.
 */
export function compileMpd (
  text: string,
  context: PlaylistContext | ResolvedContext,
  limits: PlaylistLimits = {}
): CompiledPlaylist {
  if (typeof text !== 'string') throw new FST_ERR_CF_INVALID_MPD('the MPD must be a string')
  return new MpdCompiler(text, resolveContext(context), limits.maxUris ?? DEFAULT_MAX_URIS).run()
}

/** The same, for a server: parsed in slices of a few milliseconds, the event loop turning between them. */
export function compileMpdInSlices (
  text: string,
  context: PlaylistContext | ResolvedContext,
  limits: PlaylistLimits = {}
): Promise<CompiledPlaylist> {
  if (typeof text !== 'string') return Promise.reject(new FST_ERR_CF_INVALID_MPD('the MPD must be a string'))
  try {
    return new MpdCompiler(text, resolveContext(context), limits.maxUris ?? DEFAULT_MAX_URIS).runInSlices()
  } catch (err) {
    return Promise.reject(err)
  }
}

/** The rewritten MPD for one signed query (not escaped: `renderMpd` escapes it). */
export function renderMpd (compiled: CompiledPlaylist, query: string): string {
  return compiled.chunks.length === 1 ? compiled.chunks[0] as string : compiled.chunks.join(xmlQuery(query))
}

/** What `rewriteMpd` needs: where the MPD is (`playlistPath`), what is granted, and the user's signed query. */
export interface RewriteMpdOptions extends PlaylistContext {
  /**
   * The signed query of the user's custom policy for `distribution + prefix + '*'`:
   * `Policy=…&Signature=…&Key-Pair-Id=…`.
   */
  query: string
}

/**
 * Rewrites a DASH MPD for a player without cookies. Every leaf URL under the granted prefix
 * (SegmentTemplate @media, @initialization, @index, @bitstreamSwitching; SegmentURL @media,
 * @index; Initialization, RepresentationIndex, BitstreamSwitching @sourceURL; a Representation's
 * BaseURL that is its media file) carries the signed query, XML-escaped; a top BaseURL becomes the
 * absolute CDN URL; Location, PatchLocation and xlink:href on the distribution become the mirror's
 * path. Every other byte is kept. Pure: no I/O, no clock.
 */
export function rewriteMpd (text: string, options: RewriteMpdOptions): string {
  const query = xmlQuery(options?.query)
  const compiled = compileMpd(text, options)
  return compiled.chunks.length === 1 ? compiled.chunks[0] as string : compiled.chunks.join(query)
}
