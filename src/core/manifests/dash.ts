import { FST_ERR_CF_MANIFEST_TEMPLATE } from '../errors.js'
import { readMpd, XLINK_NAMESPACE, type MpdElement } from '../playlists/mpd/parse.js'
import { schemeOf } from '../playlists/rewrite.js'
import { checkReference, resolveSettings, type ResolvedSettings, type TemplateSettings } from './reference.js'

// DASH with the signed query appended by the player (ISO/IEC 23009-1 Annex I, URL parameters): a
// SupplementalProperty at MPD level makes the player add the MPD URL's query to every segment
// request; Supplemental, so a player without Annex I still reads the MPD (and gets 403s). Read with
// the mirror's MPD reader.

export const URLPARAM_SCHEME = 'urn:mpeg:dash:urlparam:2014'
export const URLPARAM_NAMESPACE = 'urn:mpeg:dash:schema:urlparam:2014'

/** What the template adds, the `up:` prefix declared on the element itself. */
export const URLPARAM_PROPERTY = `<SupplementalProperty schemeIdUri="${URLPARAM_SCHEME}">` +
  `<up:UrlQueryInfo xmlns:up="${URLPARAM_NAMESPACE}" queryTemplate="$querypart$" useMPDUrlQuery="true"/>` +
  '</SupplementalProperty>'

/** Attributes holding a URL the player fetches, by element. */
const URL_ATTRIBUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['SegmentTemplate', ['media', 'initialization', 'index', 'bitstreamSwitching']],
  ['SegmentURL', ['media', 'index']],
  ['Initialization', ['sourceURL']],
  ['RepresentationIndex', ['sourceURL']],
  ['BitstreamSwitching', ['sourceURL']]
])

/** SegmentTemplate identifiers (ISO/IEC 23009-1 5.3.9.4.4), with their optional format tag. */
const IDENTIFIER_RE = /\$(?:RepresentationID|Number|Time|Bandwidth|SubNumber)(?:%0\d+[diuxX])?\$/g

/**
 * MPD children the property follows (ISO/IEC 23009-1's order: ..., Period, Metrics, EssentialProperty,
 * SupplementalProperty, UTCTiming, ...).
 */
const BEFORE_PROPERTY = new Set(['Period', 'Metrics', 'EssentialProperty', 'SupplementalProperty'])

/** What templating one MPD did. */
export interface MpdTemplate {
  text: string
  /** URLs (BaseURLs and segment URLs) the player will add the query to. */
  uris: number
  changed: boolean
  retemplated: false
}

interface UrlParameters {
  depth: number
  element: MpdElement
  infos: MpdElement[]
}

/**
 * Templates one MPD, stored at `path` (relative to the published folder): the Annex I property at
 * MPD level, every other byte kept. Every URL in it (BaseURL, SegmentTemplate, SegmentURL,
 * Initialization, RepresentationIndex, BitstreamSwitching) must stay below the MPD's folder: nested
 * BaseURLs resolve against one another, so a relative URL may not climb with "..", and an absolute
 * one must be under `baseUrl`. Refuses Location, PatchLocation and remote elements (xlink:href),
 * whose requests do not carry the MPD's query, and URL parameters of the MPD's own. An MPD
 * templated already is returned as it is.
 */
export function templateMpd (text: string, path: string, settings: TemplateSettings): MpdTemplate {
  return templateMpdWith(text, path, resolveSettings(settings))
}

/** `templateMpd` with settings checked once for a folder. */
export function templateMpdWith (text: string, path: string, settings: ResolvedSettings): MpdTemplate {
  const check = checkReference(path, settings)
  const refuse = (line: number, what: string): never => {
    throw new FST_ERR_CF_MANIFEST_TEMPLATE(`line ${line}: ${what}`)
  }
  const checkUrl = (line: number, what: string, raw: string): void => {
    // A template's identifiers stand for numbers and IDs ("%05d" is a width, not an escape).
    const url = what.startsWith('SegmentTemplate@')
      ? raw.trim().replace(IDENTIFIER_RE, '0').replace(/\$\$/g, '$')
      : raw.trim()
    const scheme = schemeOf(url)
    if (scheme !== '' && scheme !== 'http' && scheme !== 'https') {
      refuse(line, `${what} ${JSON.stringify(url)}: only http(s) URLs are fetched from the CDN`)
    }
    if (scheme === '' && !url.startsWith('/')) {
      // Each nested BaseURL resolves against the one above it: a URL that only descends stays in the folder.
      const path = url.split(/[?#]/)[0] as string
      if (path.split('/').some((segment) => segment.replace(/%2e/gi, '.') === '..')) {
        refuse(line, `${what} ${JSON.stringify(url)} climbs with "..": MPD URLs resolve against nested BaseURLs, ` +
          'so the template accepts only URLs that stay below the MPD\'s folder')
      }
    }
    const refusal = check(url)
    if (refusal !== null) refuse(line, `${what} ${JSON.stringify(url)} ${refusal}`)
    uris++
  }
  let uris = 0
  let insertAt = -1
  let mpdEnd = -1
  const parameters: UrlParameters[] = []
  const open: UrlParameters[] = []
  readMpd(text, {
    open (el) {
      if (el.depth === 0 && !(el.dash && el.local === 'MPD')) {
        refuse(el.line, `the root element is <${el.name}>: an MPD's is <MPD> in the DASH namespace`)
      }
      for (const a of el.attributes) {
        if (a.uri === XLINK_NAMESPACE && a.local === 'href') {
          refuse(el.line, `<${el.name}> is a remote element (xlink:href): whether a player adds the MPD's query ` +
            'to its request is not known, so it is not templated')
        }
      }
      const property = el.local === 'SupplementalProperty' || el.local === 'EssentialProperty'
      if (property && el.attributes.some((a) =>
        a.local === 'schemeIdUri' && a.uri === '' && a.value.startsWith('urn:mpeg:dash:urlparam:'))) {
        const found = { depth: el.depth, element: el, infos: [] }
        parameters.push(found)
        open.push(found)
      } else if (open.length > 0 && /UrlQueryInfo$/.test(el.local)) {
        (open[open.length - 1] as UrlParameters).infos.push(el)
      }
      if (!el.dash) return false
      const names = URL_ATTRIBUTES.get(el.local)
      if (names !== undefined) {
        for (const a of el.attributes) {
          if (a.uri === '' && names.includes(a.local)) checkUrl(el.line, `${el.local}@${a.local}`, a.value)
        }
      }
      return el.local === 'BaseURL' || el.local === 'Location' || el.local === 'PatchLocation'
    },
    close (el, content) {
      if (open.length > 0 && (open[open.length - 1] as UrlParameters).element === el) open.pop()
      if (el.depth === 0) mpdEnd = content.end
      if (!el.dash) return
      if (el.local === 'BaseURL') checkUrl(el.line, 'BaseURL', content.text)
      if (el.local === 'Location' || el.local === 'PatchLocation') {
        refuse(el.line, `<${el.local}>: a player fetches the MPD again from there without its query, ` +
          'so a dynamic MPD with it cannot be templated')
      }
      if (el.depth === 1 && BEFORE_PROPERTY.has(el.local)) {
        insertAt = el.selfClosing ? content.end : text.indexOf('>', content.end) + 1
      }
    }
  })
  if (parameters.length > 0) {
    const [only] = parameters
    const ours = parameters.length === 1 && only !== undefined && only.depth === 1 &&
      only.element.local === 'SupplementalProperty' &&
      only.element.attributes.some((a) => a.local === 'schemeIdUri' && a.value === URLPARAM_SCHEME) &&
      only.infos.length === 1 &&
      only.infos[0]?.uri === URLPARAM_NAMESPACE && only.infos[0].local === 'UrlQueryInfo' &&
      only.infos[0].attributes.filter((a) => a.uri === '').map((a) => `${a.local}=${a.value}`).sort().join(' ') ===
        'queryTemplate=$querypart$ useMPDUrlQuery=true'
    if (!ours) {
      refuse((parameters[0] as UrlParameters).element.line, 'the MPD has URL parameters (urn:mpeg:dash:urlparam) ' +
        'of its own: the template cannot tell how they combine with the signed query')
    }
    return { text, uris, changed: false, retemplated: false }
  }
  if (insertAt === -1) insertAt = mpdEnd
  // On a line of its own, indented as the element before it, when the MPD is laid out in lines.
  const lineStart = text.lastIndexOf('\n', insertAt - 1) + 1
  const indent = /^[ \t]*/.exec(text.slice(lineStart, insertAt))?.[0] ?? ''
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const laidOut = lineStart > 0
  const out = text.slice(0, insertAt) + (laidOut ? eol + indent : '') + URLPARAM_PROPERTY + text.slice(insertAt)
  return { text: out, uris, changed: true, retemplated: false }
}
