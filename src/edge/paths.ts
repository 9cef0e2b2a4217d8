// Request-path handling for the edge. The verifier always sees the raw URL; these helpers only
// decide which behaviour applies, whether an origin may be asked for a path, and what to forward.

import { RESERVED_QUERY_PARAMS } from '../core/resource.js'
import { queryPairName } from '../core/url.js'

const HEX = '0123456789ABCDEF'

function isUnreserved (code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) ||
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
}

function removeDotSegments (path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  const last = segments.length - 1
  for (let i = 1; i <= last; i++) {
    const seg = segments[i] as string
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop()
      if (i === last) out.push('')
    } else if (seg !== '' || i === last) {
      out.push(seg)
    }
  }
  return '/' + out.join('/')
}

/**
 * The path CloudFront matches path patterns against: RFC 3986 normalisation (percent-encoded
 * unreserved characters decoded, dot segments removed) plus merged slashes, as the CloudFront
 * guide describes. Only behaviour selection uses it; signatures are checked on the raw URL.
 */
export function normalisePath (rawPath: string): string {
  // Fast path: what browsers send for media almost always needs no normalisation.
  if (!rawPath.includes('%') && !rawPath.includes('/.') && !rawPath.includes('//')) return rawPath
  const decoded = rawPath.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const code = parseInt(hex, 16)
    return isUnreserved(code)
      ? String.fromCharCode(code)
      : '%' + (HEX[code >> 4] as string) +
      (HEX[code & 15] as string)
  })
  return removeDotSegments(decoded.startsWith('/') ? decoded : '/' + decoded)
}

const SIGNING_PARAMS = new Set<string>(RESERVED_QUERY_PARAMS)

/** The query without CloudFront's signing parameters (other parameters kept byte for byte, in order). */
export function stripSigningParams (query: string): string {
  let kept = ''
  for (const pair of query.split('&')) {
    if (SIGNING_PARAMS.has(queryPairName(pair))) continue
    kept = kept === '' ? pair : kept + '&' + pair
  }
  return kept
}

/** The Cookie header without CloudFront-* cookies; undefined when nothing else is left. */
export function stripCloudFrontCookies (header: string | undefined): string | undefined {
  if (header === undefined || !header.includes('CloudFront-')) return header
  const kept = header.split(';').map((c) => c.trim()).filter((c) => c !== '' && !c.startsWith('CloudFront-'))
  return kept.length > 0 ? kept.join('; ') : undefined
}
