import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import { checkKeyId } from '../keys.js'
import { isCdnPath } from '../paths.js'
import { RESERVED_QUERY_PARAMS } from '../resource.js'
import { queryPairName } from '../url.js'
import { schemeOf } from '../playlists/rewrite.js'

// Where a manifest's URIs may point once it carries the signed query: into the published folder,
// nowhere else. A URI on another host would hand that host the viewer's signed query; one that climbs
// out of the folder would be signed for files the folder's grant does not cover.

/** What every template of a folder shares. */
export interface TemplateSettings {
  /** The CloudFront key pair ID the app signs with: written into every URI as a constant. */
  keyPairId: string
  /** The hash algorithm the app signs with (default SHA1); SHA256 adds `Hash-Algorithm=SHA256` to every URI. */
  hashAlgorithm?: 'SHA1' | 'SHA256'
  /**
   * Where the folder is published, `https://media.example.com/courses/42/`: needed only for URIs that
   * are absolute or start with `/`, which must then be on that host, under that path.
   */
  baseUrl?: string
}

/** The checked settings. */
export interface ResolvedSettings {
  keyPairId: string
  hashAlgorithm: 'SHA1' | 'SHA256'
  baseUrl: URL | null
}

/** Checks the settings once (FST_ERR_CF_INVALID_OPTION names what to change). */
export function resolveSettings (settings: TemplateSettings): ResolvedSettings {
  if (typeof settings !== 'object' || settings === null) {
    throw new FST_ERR_CF_INVALID_OPTION('template options', 'expected { keyPairId, hashAlgorithm?, baseUrl? }')
  }
  const keyPairId = checkKeyId(settings.keyPairId, 'keyPairId')
  const hashAlgorithm = settings.hashAlgorithm ?? 'SHA1'
  if (hashAlgorithm !== 'SHA1' && hashAlgorithm !== 'SHA256') {
    throw new FST_ERR_CF_INVALID_OPTION('hashAlgorithm', 'expected "SHA1" or "SHA256", the signer\'s')
  }
  let baseUrl: URL | null = null
  if (settings.baseUrl !== undefined) {
    try {
      baseUrl = typeof settings.baseUrl === 'string' ? new URL(settings.baseUrl) : null
    } catch {}
    if (baseUrl === null || (baseUrl.protocol !== 'https:' && baseUrl.protocol !== 'http:') ||
      baseUrl.search !== '' || baseUrl.hash !== '' || baseUrl.username !== '' || !baseUrl.pathname.endsWith('/') ||
      !isCdnPath(baseUrl.pathname) || baseUrl.href !== settings.baseUrl) {
      throw new FST_ERR_CF_INVALID_OPTION('baseUrl', 'expected the URL the folder is published at, ending with "/", such as "https://media.example.com/courses/42/"')
    }
  }
  return { keyPairId, hashAlgorithm, baseUrl }
}

/** The query every templated URI ends with, around the given Policy and Signature values. */
export function templateSuffix (settings: ResolvedSettings, policy: string, signature: string): string {
  return `Policy=${policy}&Signature=${signature}&Key-Pair-Id=${settings.keyPairId}` +
    (settings.hashAlgorithm === 'SHA256' ? '&Hash-Algorithm=SHA256' : '')
}

/** Why a URI (variables substituted) may not carry the signed query, or null when it may. */
export type ReferenceCheck = (uri: string) => string | null

const RESERVED = new Set<string>(RESERVED_QUERY_PARAMS.map((n) => n.toLowerCase()))

const BAD_PATH = 'has a path a CDN or an origin may read otherwise (a dot segment spelt with escapes, ' +
  'a needless escape, a control character or a character a URL path cannot hold)'

const NO_BASE = 'write it relative to the manifest, or give the URL the folder is published at (baseUrl, --base-url) ' +
  'so that it can be checked'

/** The check for the URIs of the manifest at `manifestPath` (relative to the folder, `/`-separated). */
export function checkReference (manifestPath: string, settings: ResolvedSettings): ReferenceCheck {
  const dir = manifestPath.split('/').slice(0, -1)
  const base = settings.baseUrl
  return (uri) => {
    if (uri.includes('\\')) return 'holds "\\", which browsers read as "/": write "/"'
    const hash = uri.indexOf('#')
    const noFragment = hash === -1 ? uri : uri.slice(0, hash)
    const q = noFragment.indexOf('?')
    const path = q === -1 ? noFragment : noFragment.slice(0, q)
    if (q !== -1 && noFragment.slice(q + 1).split('&').some((pair) =>
      RESERVED.has(queryPairName(pair).toLowerCase()))) {
      return 'already carries a CloudFront query parameter (Expires, Policy, Signature, Key-Pair-Id or Hash-Algorithm)'
    }
    if (schemeOf(uri) !== '' || path.startsWith('//')) {
      if (base === null) return `is an absolute URL: ${NO_BASE}`
      let url: URL
      try {
        url = new URL(uri, base)
      } catch {
        return 'cannot be resolved'
      }
      if (url.origin !== base.origin) {
        return `is on another host than ${base.origin}: the signed query must never be sent elsewhere`
      }
      const rawPath = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/[^/?#]*(.*)$/.exec(path)?.[1] ?? ''
      if (!isCdnPath(rawPath)) return BAD_PATH
      if (!rawPath.startsWith(base.pathname)) return `is not under ${base.href}, where the folder is published`
      return null
    }
    if (path.startsWith('/')) {
      if (base === null) return `is a path from the host's root: ${NO_BASE}`
      if (!isCdnPath(path)) return BAD_PATH
      if (!path.startsWith(base.pathname)) return `is not under ${base.pathname}, where the folder is published`
      return null
    }
    const segments = dir.slice()
    for (const segment of path.split('/')) {
      // WHATWG URL parsing reads "%2e" as "." in a dot segment.
      const dots = segment.replace(/%2e/gi, '.')
      if (dots === '.') continue
      if (dots === '..') {
        if (segments.length === 0) return 'leaves the folder ("..")'
        segments.pop()
        continue
      }
      segments.push(segment)
    }
    if (!isCdnPath('/' + segments.join('/'))) return BAD_PATH
    return null
  }
}
