// Why a policy Resource does not cover a URL, in words: the scheme, the host, letter case,
// percent-encoding, a query string, a missing wildcard, or simply another path.
import { globMatch, hasWildcard, resourceMatches, splitUrl } from '../url.js'

function decoded (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The first place two strings differ, as a few characters of each. */
function difference (a: string, b: string): string {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  const from = Math.max(0, i - 8)
  return `"…${a.slice(from, i + 6)}…" where the request has "…${b.slice(from, i + 6)}…"`
}

/** One sentence naming the cause; the caller already knows the two do not match. */
export function explainMismatch (resource: string, url: string): string {
  const r = splitUrl(resource)
  const u = splitUrl(url)
  if (!r || !u) return `the Resource ${resource} is not an absolute URL`
  if (r.scheme !== '*' && r.scheme !== u.scheme) {
    const swapped = `${r.scheme}${url.slice(u.scheme.length)}`
    if (resourceMatches(resource, swapped)) return `scheme: the Resource is for ${r.scheme}:// and the request is ${u.scheme}://`
  }
  if (!globMatch(r.host.toLowerCase(), u.host.toLowerCase())) {
    return `host: the Resource is for ${r.host} and the request went to ${u.host}`
  }
  if (globMatch(r.path.toLowerCase(), u.path.toLowerCase()) && !globMatch(r.path, u.path)) {
    return `letter case: the Resource path ${difference(r.path, u.path)} (paths are compared case-sensitively)`
  }
  if (r.path !== decoded(r.path) || u.path !== decoded(u.path)) {
    if (globMatch(decoded(r.path), decoded(u.path)) || globMatch(r.path, decoded(u.path)) ||
      globMatch(decoded(r.path), u.path)) {
      return `encoding: the Resource has ${difference(r.path, u.path)}; ` +
        'CloudFront compares the percent-encoded URL as sent'
    }
  }
  if (globMatch(r.path, u.path)) {
    if (r.query === null) {
      return `query string: the request has ?${u.query ?? ''} and the Resource, without a ` +
      'trailing *, allows none'
    }
    return `query string: the Resource wants ?${r.query} and the request has ${u.query === null
? 'none'
      : `?${u.query}`}`
  }
  if (!hasWildcard(resource) && u.path.startsWith(r.path)) {
    return `no wildcard: the Resource is the one URL ${resource}; a folder needs a trailing /*`
  }
  return `path: the Resource ${resource} does not cover ${u.path}`
}

/** The folder of `path` as deep as `prefix` (`/courses/42/` and `/courses/43/720p/a.ts`: `/courses/43/`). */
export function folderAtDepthOf (prefix: string, path: string): string {
  const depth = prefix.split('/').filter((s) => s !== '').length
  const folders = path.split('/').slice(1, -1)
  return `/${folders.slice(0, depth).map((f) => `${f}/`).join('')}`
}

/**
 * When a folder grant (`https://host/courses/42/*`) is right in every way but the folder: the
 * folder it opens and the one the request needed. The signing is then fine; the app did not grant
 * that folder. Null when the cause is anything else (scheme, host, case, encoding, query, wildcard).
 */
export function otherFolder (resource: string, url: string): { granted: string, needed: string } | null {
  const r = splitUrl(resource)
  const u = splitUrl(url)
  if (!r || !u || r.query !== null || !r.path.endsWith('/*') || hasWildcard(r.path.slice(0, -1))) return null
  if (!explainMismatch(resource, url).startsWith('path: ')) return null
  const granted = r.path.slice(0, -1)
  return { granted, needed: folderAtDepthOf(granted, u.path) }
}
