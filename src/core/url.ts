// Splitting and matching of URLs and Resource patterns, on the raw, percent-encoded text.
// Nothing here decodes: CloudFront compares the URL as it was sent on the wire.

export interface UrlParts {
  /** Lower-case scheme without `://` (`https`, `http`, or `*` in a pattern). */
  scheme: string
  /** Host (and port), as written. */
  host: string
  /** Path, from the first `/` after the host, without the query. */
  path: string
  /** Query without the `?`, or null when there is no `?`. */
  query: string | null
}

/** The path of a request target, without its query: what rules match and signatures cover. */
export function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** The name of one `name=value` pair of a query string (the whole pair when it has no `=`). */
export function queryPairName (pair: string): string {
  const eq = pair.indexOf('=')
  return eq === -1 ? pair : pair.slice(0, eq)
}

/** Splits `scheme://host/path?query`. Returns null when there is no `scheme://`. */
export function splitUrl (url: string): UrlParts | null {
  const sep = url.indexOf('://')
  if (sep <= 0) return null
  const scheme = url.slice(0, sep).toLowerCase()
  const afterScheme = sep + 3
  let hostEnd = afterScheme
  while (hostEnd < url.length && url[hostEnd] !== '/' && url[hostEnd] !== '?') hostEnd++
  const host = url.slice(afterScheme, hostEnd)
  const q = url.indexOf('?', hostEnd)
  const path = q === -1 ? url.slice(hostEnd) : url.slice(hostEnd, q)
  const query = q === -1 ? null : url.slice(q + 1)
  return { scheme, host, path, query }
}

/**
 * One character of a raw URL path as a browser sends it unchanged (RFC 3986 `pchar`: unreserved,
 * sub-delimiters, `:` and `@`; or a `%XX` escape), as a regular expression source. `*` is a wildcard
 * to CloudFront and `;` would end a cookie's Path attribute, so a prefix leaves them out; `/` is
 * admitted where a whole path, not one segment, is matched.
 */
export function pathCharSource ({ star = true, semicolon = true, slash = false } = {}): string {
  return `(?:[A-Za-z0-9\\-._~!$&'()+,=:@${star ? '*' : ''}${semicolon ? ';' : ''}${slash ? '/' : ''}]|%[0-9A-Fa-f]{2})`
}

/** A raw path from its leading `/`, every character one a browser sends unchanged. */
export const RAW_PATH_RE = new RegExp(`^/${pathCharSource({ slash: true })}*$`)

/**
 * The origin of a URL as browsers compare it, `scheme://host[:port]`, lower-cased (`https://Media.Example.com/a`
 * and `https://media.example.com/b` are one origin); the text itself when it has no `scheme://`.
 */
export function originOf (url: string): string {
  const u = splitUrl(url)
  return u ? `${u.scheme}://${u.host.toLowerCase()}` : url
}

/**
 * Glob match where `*` is zero or more characters and `?` exactly one. Iterative with a single
 * backtrack point, so it runs in O(pattern × text) at worst and cannot be made to blow up.
 */
export function globMatch (pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let star = -1
  let mark = 0
  while (t < text.length) {
    const pc = pattern.charCodeAt(p)
    // `*` is tested first: it is a wildcard even where the text holds a literal `*` at that point.
    if (p < pattern.length && pc === 42 /* * */) {
      star = p++
      mark = t
    } else if (p < pattern.length && (pc === 63 /* ? */ || pc === text.charCodeAt(t))) {
      p++
      t++
    } else if (star !== -1) {
      p = star + 1
      t = ++mark
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++
  return p === pattern.length
}

/**
 * Whether a policy Resource covers a request URL, the way CloudFront decides:
 * each part (scheme, host, path, query) is matched on its own; `*://` matches either scheme;
 * the host is compared case-insensitively, the path and query case-sensitively and raw;
 * a path pattern that ends in `*` (with no query part of its own) also covers any query string;
 * `*` alone covers every URL, and a domain that ends in `*` with no path covers every path.
 */
export function resourceMatches (resource: string, url: string): boolean {
  const u = splitUrl(url)
  if (!u) return false
  // `*` alone is CloudFront's documented "every URL"; it is not a `scheme://host/path` pattern.
  if (resource === '*') return u.scheme === 'https' || u.scheme === 'http'
  const r = splitUrl(resource)
  if (!r) return false
  // A trailing `*` in the domain carries on into the path: `https://*` is `https://*/*`.
  if (r.path === '' && r.query === null && r.host.endsWith('*')) r.path = '/*'
  // `*://` stands for http or https, the only schemes CloudFront serves; it never admits another scheme.
  if (r.scheme === '*' ? u.scheme !== 'https' && u.scheme !== 'http' : r.scheme !== u.scheme) return false
  if (!globMatch(r.host.toLowerCase(), u.host.toLowerCase())) return false
  if (r.query === null) {
    if (!globMatch(r.path, u.path)) return false
    return u.query === null || r.path.endsWith('*')
  }
  return globMatch(r.path, u.path) && globMatch(r.query, u.query ?? '')
}

/** Whether a Resource contains wildcards (anything but one exact URL). */
export function hasWildcard (resource: string): boolean {
  if (resource.includes('*')) return true
  const parts = splitUrl(resource)
  // The first `?` after the host starts the query (a host cannot hold one); any later `?` is a wildcard.
  if (!parts) return resource.includes('?')
  return parts.query !== null && parts.query.includes('?')
}
