import { FST_ERR_CF_INVALID_RESOURCE } from './errors.js'
import { pathCharSource, queryPairName, splitUrl, hasWildcard, resourceMatches } from './url.js'

/** Query parameter names CloudFront reserves for signed URLs. */
export const RESERVED_QUERY_PARAMS = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'] as const
const RESERVED_LOWER = new Set(RESERVED_QUERY_PARAMS.map((n) => n.toLowerCase()))

/** A URL is at most 8,192 bytes at CloudFront. */
export const MAX_URL_BYTES = 8192

// What a browser sends unchanged: unreserved, sub-delimiters, `:@/`, and `%XX` escapes.
// Everything else (space, quotes, `<>\^`{|}`, non-ASCII) a browser would percent-encode, so a
// signature over it would never match. `'` is refused in the query, where browsers send `%27`.
const HOST_RE = /^[A-Za-z0-9.*?-]+(:\d{1,5})?$/
const PATH_RE = new RegExp(`^${pathCharSource({ slash: true })}*$`)
const QUERY_RE = /^(?:[A-Za-z0-9\-._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/

/**
 * Checks that a Resource (or URL) is sendable as is and returns it unchanged. The signer never
 * re-encodes: what it signs is byte for byte what the browser will request. `pattern` admits the
 * forms only a Resource can take (`*`, and a domain ending in `*` without a path).
 */
export function checkResource (resource: unknown, what = 'resource', pattern = true): string {
  if (typeof resource !== 'string' || resource.length === 0) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} must be a non-empty string`)
  }
  if (Buffer.byteLength(resource) > MAX_URL_BYTES) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} is longer than ${MAX_URL_BYTES} bytes`)
  }
  if (/[^\x21-\x7e]/.test(resource)) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} contains whitespace, control or non-ASCII characters: ` +
      'percent-encode it as the browser sends it (a space is %20)')
  }
  // CloudFront documents `*` alone as "every URL": as wide as a missing Resource, but written down.
  if (pattern && resource === '*') return resource
  const parts = splitUrl(resource)
  if (!parts || !['https', 'http', '*'].includes(parts.scheme) || !resource.startsWith(parts.scheme === '*'
    ? '*://'
    : parts.scheme)) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} must start with https://, http:// or *://`)
  }
  if (!HOST_RE.test(parts.host)) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} has no valid host`)
  }
  // A trailing `*` in the domain carries on into the path (`https://*` is `https://*/*`).
  const hostStar = pattern && parts.path === '' && parts.query === null && parts.host.endsWith('*')
  if (!hostStar && !parts.path.startsWith('/')) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} needs a path after the host, such as "/" or "/courses/*"`)
  }
  if (resource.includes('#')) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} contains "#": a fragment is never sent to CloudFront`)
  }
  if (!PATH_RE.test(parts.path) || (parts.query !== null && !QUERY_RE.test(parts.query))) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the ${what} contains characters a browser would percent-encode (or a bad ` +
      '%-escape): give it exactly as the browser will send it')
  }
  return resource
}

/** Checks a URL to sign: a valid, exact URL that does not already carry signing parameters. */
export function checkUrlToSign (url: unknown): string {
  checkResource(url, 'URL', false)
  const u = url as string
  const parts = splitUrl(u)
  if (parts?.scheme === '*') {
    throw new FST_ERR_CF_INVALID_RESOURCE('the URL to sign must start with https:// or ' +
    'http://')
  }
  if (parts?.query) {
    for (const pair of parts.query.split('&')) {
      const name = queryPairName(pair)
      if (RESERVED_LOWER.has(name.toLowerCase())) {
        throw new FST_ERR_CF_INVALID_RESOURCE(`the URL already carries the reserved parameter "${name}" (Expires, ` +
          'Policy, Signature, Key-Pair-Id and Hash-Algorithm are CloudFront\'s)')
      }
    }
  }
  return u
}

export { hasWildcard, resourceMatches }
