import { createVerifier, type VerifyResult } from '../../src/index.js'
import { rsaKey, rsaKey2, ecKey } from './keys.js'

/** Normalises a Set-Cookie header value to a list. */
export function setCookies (header: unknown): string[] {
  if (header === undefined || header === null) return []
  return Array.isArray(header) ? header.map(String) : [String(header)]
}

/** Only our CloudFront-* Set-Cookie strings. */
export function cloudfrontSetCookies (header: unknown): string[] {
  return setCookies(header).filter((c) => c.startsWith('CloudFront-'))
}

/** The Cookie header a browser would send back for these Set-Cookie strings (expired deletions dropped). */
export function cookieHeader (header: unknown): string {
  return setCookies(header)
    .filter((c) => !/Max-Age=0/i.test(c))
    .map((c) => c.slice(0, c.indexOf(';')))
    .join('; ')
}

/** Attribute of a Set-Cookie string, e.g. attr(c, 'Path'). */
export function attr (setCookie: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}(?:=([^;]*))?(;|$)`, 'i').exec(setCookie)
  if (!m) return undefined
  return m[1] ?? ''
}

export const DISTRIBUTION = 'https://media.example.com'

/** Judges a CDN URL with the cookies, as the local edge would, trusting every test key. */
export function judge (url: string, cookie: string, opts: { now?: () => number, clientIp?: string } = {}): VerifyResult {
  const verifier = createVerifier({
    keys: { [rsaKey.keyPairId]: rsaKey.publicKey, [rsaKey2.keyPairId]: rsaKey2.publicKey, [ecKey.keyPairId]: ecKey.publicKey },
    ...(opts.now ? { now: opts.now } : {}),
    cacheSize: 0
  })
  return verifier.verify({ url: DISTRIBUTION + url, cookieHeader: cookie, clientIp: opts.clientIp })
}
