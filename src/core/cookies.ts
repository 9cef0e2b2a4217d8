import { FST_ERR_CF_COOKIE_TOO_LARGE, FST_ERR_CF_INVALID_OPTION } from './errors.js'
import type { CloudFrontCookies } from './signer.js'

/** The names CloudFront reads. */
export const CLOUDFRONT_COOKIE_NAMES = ['CloudFront-Policy', 'CloudFront-Expires', 'CloudFront-Signature',
  'CloudFront-Key-Pair-Id', 'CloudFront-Hash-Algorithm'] as const
export type CloudFrontCookieName = typeof CLOUDFRONT_COOKIE_NAMES[number]

/** Browsers keep at most 4,096 bytes per cookie (name, value and attributes). */
export const MAX_COOKIE_BYTES = 4096
/** Browsers refuse a cookie Path longer than 1,024 bytes. */
export const MAX_COOKIE_PATH_BYTES = 1024

/**
 * Reads the CloudFront-* cookies of a Cookie header, raw (CloudFront values need no decoding).
 * Each name maps to every value sent for it, in order: a browser sends one per matching Path.
 */
export function readCloudFrontCookies (header: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>()
  if (typeof header !== 'string' || !header.includes('CloudFront-')) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const name = part.slice(0, eq).trim()
    if (!name.startsWith('CloudFront-')) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    const list = out.get(name)
    if (list) list.push(value)
    else out.set(name, [value])
  }
  return out
}

export type SameSite = 'Strict' | 'Lax' | 'None'

export interface CookieAttributes {
  /**
   * Domain shared by the app and the CDN (e.g. `example.com` for `app.example.com` and `media.example.com`); host-only
   * when absent.
   */
  domain?: string | undefined
  /** The cookie Path: the granted prefix. */
  path: string
  secure: boolean
  httpOnly: boolean
  sameSite: SameSite
  /** Absolute expiry (epoch seconds), so one prepared string is right for every response. */
  expires?: number | undefined
}

/** The attributes after a cookie's value, in the order browsers show them: Path, Domain, the lifetime, flags. */
function attributeSuffix (attrs: Omit<CookieAttributes, 'expires'>, lifetime: string): string {
  let suffix = `; Path=${attrs.path}`
  if (attrs.domain) suffix += `; Domain=${attrs.domain}`
  suffix += lifetime
  if (attrs.secure) suffix += '; Secure'
  if (attrs.httpOnly) suffix += '; HttpOnly'
  return suffix + `; SameSite=${attrs.sameSite}`
}

/**
 * A cookie Domain attribute: a domain name (a leading "." allowed), never cloudfront.net, where a
 * browser refuses to store cookies for another site. Throws FST_ERR_CF_INVALID_OPTION naming `option`.
 */
export function checkCookieDomain (domain: unknown, option: string): string | undefined {
  if (domain === undefined) return undefined
  if (typeof domain !== 'string' || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain)) {
    throw new FST_ERR_CF_INVALID_OPTION(option, 'expected a domain such as "example.com"')
  }
  if (/(^|\.)cloudfront\.net$/i.test(domain)) {
    throw new FST_ERR_CF_INVALID_OPTION(option,
      'cookies cannot be set for cloudfront.net: use an alternate domain name (CNAME) shared with the app')
  }
  return domain
}

/**
 * Serialises a cookie set into `Set-Cookie` strings, once per set. Refuses a set a browser would
 * drop: a cookie over 4,096 bytes, or a Path over 1,024 bytes.
 */
export function serializeCookieSet (cookies: CloudFrontCookies | Record<string, string>,
  attrs: CookieAttributes): string[] {
  if (Buffer.byteLength(attrs.path) > MAX_COOKIE_PATH_BYTES) {
    throw new FST_ERR_CF_COOKIE_TOO_LARGE(`the cookie Path is longer than ${MAX_COOKIE_PATH_BYTES} bytes`)
  }
  const suffix = attributeSuffix(attrs, attrs.expires === undefined
    ? ''
    : `; Expires=${new Date(attrs.expires * 1000).toUTCString()}`)
  const out: string[] = []
  for (const [name, value] of Object.entries(cookies)) {
    if (value === undefined) continue
    const line = `${name}=${value}${suffix}`
    if (Buffer.byteLength(line) > MAX_COOKIE_BYTES) {
      throw new FST_ERR_CF_COOKIE_TOO_LARGE(`${name} would be ${Buffer.byteLength(line)} bytes, over the ` +
        `${MAX_COOKIE_BYTES} bytes browsers keep (shorten the resource or drop conditions)`)
    }
    out.push(flat(line))
  }
  return out
}

/**
 * A concatenated string is a tree of pieces in V8; what a cache keeps for minutes is copied once
 * into one flat string (bench:plugin, memory per cached set; and no flattening when it is written).
 */
export function flat (text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1')
}

/** The names of a prefix grant's set (a custom policy), with the hash algorithm's cookie when it is SHA-256. */
export function grantCookieNames (hashAlgorithm: 'SHA1' | 'SHA256'): readonly CloudFrontCookieName[] {
  return hashAlgorithm === 'SHA256' ? SHA256_SET : SHA1_SET
}
const SHA1_SET: readonly CloudFrontCookieName[] = ['CloudFront-Policy', 'CloudFront-Signature',
  'CloudFront-Key-Pair-Id']
const SHA256_SET: readonly CloudFrontCookieName[] = [...SHA1_SET, 'CloudFront-Hash-Algorithm']

/**
 * `Set-Cookie` strings that delete a cookie set at a Path: the names given (those the set had; clearing others
 * makes some cookie engines, curl's, drop real cookies of the same Path), by default every CloudFront name.
 */
export function serializeClearCookies (attrs: Omit<CookieAttributes, 'expires'>,
  names: readonly CloudFrontCookieName[] = CLOUDFRONT_COOKIE_NAMES): string[] {
  const suffix = attributeSuffix(attrs, '; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0')
  return names.map((name) => `${name}=${suffix}`)
}
