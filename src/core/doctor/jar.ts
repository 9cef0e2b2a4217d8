// A browser's cookie decisions, as far as they decide whether CloudFront receives its cookies:
// is a Set-Cookie line stored (Domain, Secure), and is the cookie sent to a URL (host, Path,
// Secure, SameSite, expiry). Follows RFC 6265bis as Chromium applies it; the site of a host is
// approximated without the Public Suffix List (see registrableDomain in ../guards.ts).
import { domainCovers, isIpHost, isLocalHost, isPublicSuffix, registrableDomain } from '../guards.js'
import { originOf, splitUrl } from '../url.js'
import { finding, type Finding } from './findings.js'
import { folderAtDepthOf } from './mismatch.js'

export interface StoredCookie {
  name: string
  value: string
  /** Lower-case host (host-only) or Domain attribute without its leading dot. */
  domain: string
  hostOnly: boolean
  path: string
  secure: boolean
  /** Undefined when the line set none (Chromium then applies Lax). */
  sameSite: 'Strict' | 'Lax' | 'None' | undefined
  /** Expiry in epoch ms; undefined for a session cookie. */
  expires: number | undefined
  /** The URL of the response that set it. */
  setBy: string
}

export interface ParsedSetCookie {
  name: string
  value: string
  attributes: Map<string, string>
}

/** Parses one Set-Cookie line (an optional leading `Set-Cookie:` is dropped); null when it has no `name=`. */
export function parseSetCookie (line: string): ParsedSetCookie | null {
  const text = line.replace(/^\s*set-cookie\s*:/i, '')
  const [pair = '', ...attrs] = text.split(';')
  const eq = pair.indexOf('=')
  if (eq <= 0) return null
  const attributes = new Map<string, string>()
  for (const attr of attrs) {
    const at = attr.indexOf('=')
    const key = (at === -1 ? attr : attr.slice(0, at)).trim().toLowerCase()
    if (key !== '') attributes.set(key, at === -1 ? '' : attr.slice(at + 1).trim())
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes }
}

function hostOf (url: string): { scheme: string, host: string, path: string } | null {
  const parts = splitUrl(url)
  if (!parts) return null
  const host = parts.host.toLowerCase()
  // Ports never count for cookies.
  const bare = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '')
  return { scheme: parts.scheme, host: bare, path: parts.path === '' ? '/' : parts.path }
}

/** Where a browser lets Secure cookies be set and sent over plain http. */
export function isTrustworthy (url: string): boolean {
  const u = hostOf(url)
  if (!u) return false
  return u.scheme === 'https' || isLocalHost(u.host)
}

/** Schemeful site, as Chromium compares it for SameSite: `https://example.com`. */
export function siteOf (url: string): string | null {
  const u = hostOf(url)
  return u ? `${u.scheme}://${registrableDomain(u.host)}` : null
}

function pathMatches (requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

function defaultPath (path: string): string {
  const slash = path.lastIndexOf('/')
  return slash <= 0 ? '/' : path.slice(0, slash)
}

function expiryOf (parsed: ParsedSetCookie, now: number): number | undefined {
  const maxAge = parsed.attributes.get('max-age')
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return now + Number(maxAge) * 1000
  const expires = parsed.attributes.get('expires')
  if (expires === undefined) return undefined
  const ms = Date.parse(expires)
  return Number.isNaN(ms) ? undefined : ms
}

export type StoreResult = { stored: StoredCookie } | { deleted: StoredCookie } | { refused: Finding }

/** Whether a browser keeps a Set-Cookie line received from `from` at `now` (epoch ms). */
export function storeCookie (parsed: ParsedSetCookie, from: string, now: number): StoreResult {
  const u = hostOf(from) as NonNullable<ReturnType<typeof hostOf>>
  const name = parsed.name
  const attrDomain = parsed.attributes.get('domain')?.replace(/^\./, '').toLowerCase()
  const secure = parsed.attributes.has('secure')
  const ss = parsed.attributes.get('samesite')?.toLowerCase()
  const sameSite = ss === 'strict' ? 'Strict' : ss === 'lax' ? 'Lax' : ss === 'none' ? 'None' : undefined
  if (secure && !isTrustworthy(from)) {
    return {
      refused: finding('COOKIE_NOT_SENT_SECURE', 'error',
        `${name}: Secure, but set by ${u.scheme}://${u.host}; a browser drops a Secure cookie set over plain http`,
        'Serve the app that sets the cookies over https (browsers make an exception for localhost only).')
    }
  }
  if (sameSite === 'None' && !secure) {
    return {
      refused: finding('COOKIE_SAMESITE_CROSS_SITE', 'error',
        `${name}: SameSite=None without Secure, which browsers refuse`,
        'Add Secure to a SameSite=None cookie (the plugin sets Secure by default).')
    }
  }
  let domain = u.host
  let hostOnly = true
  if (attrDomain !== undefined && attrDomain !== '' && attrDomain !== u.host) {
    if (attrDomain === 'cloudfront.net' || attrDomain.endsWith('.cloudfront.net')) {
      return {
        refused: finding('COOKIE_DOMAIN_CLOUDFRONT_NET', 'error',
          `${name}: Domain=${attrDomain}, which ${u.host} cannot set; cloudfront.net is a public suffix, and ` +
            'browsers refuse cookies for another site',
          'Give the distribution an alternate domain name under your app\'s domain (media.example.com for ' +
            'app.example.com), with its certificate, and set cookie.domain to the shared parent (example.com).')
      }
    }
    if (isPublicSuffix(attrDomain) || !domainCovers(attrDomain, u.host)) {
      return {
        refused: finding('COOKIE_NOT_SENT_HOST', 'error',
          `${name}: Domain=${attrDomain}, which ${u.host} cannot set (a browser only accepts the host itself or a ` +
            'parent domain that is not a public suffix)',
          `Set cookie.domain to a parent of ${u.host} that the CDN's host shares, or leave it out for a host-only ` +
            'cookie.')
      }
    }
    domain = attrDomain
    hostOnly = false
  }
  const pathAttr = parsed.attributes.get('path')
  const path = pathAttr !== undefined && pathAttr.startsWith('/') ? pathAttr : defaultPath(u.path)
  const expires = expiryOf(parsed, now)
  const cookie: StoredCookie = {
    name,
    value: parsed.value,
    domain,
    hostOnly,
    path,
    secure,
    sameSite,
    expires,
    setBy: from
  }
  return expires !== undefined && expires <= now ? { deleted: cookie } : { stored: cookie }
}

/**
 * Why a stored cookie is not sent to `url` from a page at `initiator` (the page's URL or origin;
 * undefined for a top-level navigation or when unknown); null when it is sent.
 */
export function whyNotSent (cookie: StoredCookie, url: string, initiator: string | undefined,
  now: number): Finding | null {
  const u = hostOf(url) as NonNullable<ReturnType<typeof hostOf>>
  const at = `${cookie.name} (set by ${originOf(cookie.setBy)}, ${cookie.hostOnly
? `host-only for ${cookie.domain}`
    : `Domain=${cookie.domain}`}, Path=${cookie.path})`
  const hostOk = cookie.hostOnly ? u.host === cookie.domain : domainCovers(cookie.domain, u.host)
  if (!hostOk) {
    if (u.host.endsWith('.cloudfront.net')) {
      return finding('COOKIE_DOMAIN_CLOUDFRONT_NET', 'error',
        `${at}: not sent to ${u.host}; a cookie set by another site never reaches a *.cloudfront.net host`,
        'Request the media at an alternate domain name of the distribution under your app\'s domain ' +
        `(media.${registrableDomain(hostOf(cookie.setBy)?.host ?? 'example.com')}) and sign for that host.`)
    }
    return finding('COOKIE_NOT_SENT_HOST', 'error',
      `${at}: not sent to ${u.host}; cookies go only to ${cookie.hostOnly
? 'the host that set them'
        : `${cookie.domain} and its subdomains`}`,
      cookie.hostOnly && (u.host === 'localhost' || isIpHost(u.host) || isIpHost(cookie.domain) ||
        cookie.domain === 'localhost')
        ? `Open the app at the same host as the CDN (${u.host}), not ${cookie.domain}: a browser keeps cookies per ` +
          'host name, whatever the port.'
        : `Set cookie.domain to the parent domain shared by ${cookie.domain} and ${u.host}, or serve the media from ` +
          'a host under the app\'s domain.')
  }
  if (!pathMatches(u.path, cookie.path)) {
    // The cookie Path is the granted prefix: cookies of another folder mean that folder was not granted.
    const needed = folderAtDepthOf(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`, u.path)
    return finding('COOKIE_NOT_SENT_PATH', 'error',
      `${at}: not sent to ${u.path}; the Path is not a prefix of that path`,
      `The app did not grant ${needed} to this user (the cookie Path is the granted prefix): check its rules and ` +
        `authorize (authorize must return true for ${needed}), or call grant('${needed}') before the player requests ` +
          'it.')
  }
  if (cookie.secure && !isTrustworthy(url)) {
    return finding('COOKIE_NOT_SENT_SECURE', 'error', `${at}: Secure, so not sent over ${u.scheme}://${u.host}`,
      'Request the media over https (the distribution\'s viewer protocol policy: redirect-to-https), and sign ' +
        'https:// URLs.')
  }
  if (cookie.expires !== undefined && cookie.expires <= now) {
    return finding('EXPIRED', 'error',
      `${at}: expired in the browser at ${new Date(cookie.expires).toISOString()}, so no longer sent`,
      'Renew the grant before it ends: keep the player reporting progress to an endpoint that grants again.')
  }
  const from = initiator === undefined ? null : siteOf(initiator)
  if (from !== null && from !== siteOf(url) && cookie.sameSite !== 'None') {
    return finding('COOKIE_SAMESITE_CROSS_SITE', 'error',
      `${at}: SameSite=${cookie.sameSite ?? 'Lax (the default)'}, and the request comes from another site ` +
      `(${from}, the media is on ${siteOf(url) as string}): it is not sent`,
      'Serve the app and the media from one site (app.example.com and media.example.com), or set SameSite=None (with ' +
        'Secure) and let the CDN answer CORS with credentials.')
  }
  return null
}

/** The Cookie header a browser sends with these cookies: longer Paths first, as browsers order them. */
export function cookieHeaderOf (cookies: StoredCookie[]): string {
  return [...cookies].sort((a, b) => b.path.length - a.path.length).map((c) => `${c.name}=${c.value}`).join('; ')
}
