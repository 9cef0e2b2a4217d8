// One request at the CDN: what the browser sends (and what it holds but does not send), judged.
import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import { splitUrl } from '../url.js'
import { finding, type Finding } from './findings.js'
import { checkGrant } from './grant.js'
import { parseSetCookie, storeCookie, whyNotSent, type StoredCookie } from './jar.js'
import type { DoctorKeys } from './signature.js'

export function checkUrl (url: unknown, what: string): string {
  const parts = typeof url === 'string' ? splitUrl(url) : null
  if (!parts || (parts.scheme !== 'http' && parts.scheme !== 'https') || parts.host === '') {
    throw new FST_ERR_CF_INVALID_OPTION(what, 'expected an absolute http:// or https:// URL')
  }
  return url as string
}

/** The URL as a browser puts it on the wire: the host in lower case. */
function onTheWire (url: string): { url: string, given: string | undefined } {
  const parts = splitUrl(url) as NonNullable<ReturnType<typeof splitUrl>>
  const start = url.indexOf('://') + 3
  const wire = `${parts.scheme}://${parts.host.toLowerCase()}${url.slice(start + parts.host.length)}`
  return { url: wire, given: wire === url ? undefined : url }
}

export interface RequestCase {
  url: string
  cookieHeader: string | undefined
  /** Cookies a browser holds for the request, with the findings of those it does not send. */
  notSent: Finding[]
  keys: DoctorKeys | null
  now: number
  clientIp: string | undefined
}

/** The findings for one request, as judged at the CDN. */
export function judgeRequest (c: RequestCase): Finding[] {
  const wire = onTheWire(c.url)
  const grant = checkGrant({
    url: wire.url,
    cookieHeader: c.cookieHeader,
    keys: c.keys,
    now: c.now,
    clientIp: c.clientIp,
    givenUrl: wire.given
  })
  const out = grant.some((f) => f.code === 'MISSING_COOKIES') ? [...c.notSent, ...grant] : grant
  const failing = out.some((f) => f.severity === 'error')
  if (c.keys === null) {
    if (!failing) {
      out.push(finding('SIGNATURE_NOT_CHECKED', 'info',
        'no public key was given: everything but the signature was checked', 'Give the public key (--key ' +
        'ID=public.pem) to check the signature too.'))
    }
  } else if (!failing) {
    const verdict = c.keys.verdict(wire.url, c.cookieHeader, c.clientIp, c.now)
    if (!verdict.ok) {
      out.push(finding('REFUSED', 'error',
      `the verifier refuses it: ${verdict.code}, ${verdict.reason}`, 'Compare the grant with the request URL, time ' +
        'and address above.'))
    }
  }
  return out
}

/** Decides, as a browser, which Set-Cookie lines are kept and which of those are sent to `url`. */
export function browserCookies (lines: string[], from: string, url: string, initiator: string | undefined,
  now: number): { sent: StoredCookie[], notSent: Finding[] } {
  const jar = new Map<string, StoredCookie>()
  const notSent: Finding[] = []
  for (const line of lines) {
    const parsed = parseSetCookie(line)
    if (parsed === null || !parsed.name.startsWith('CloudFront-')) continue
    const result = storeCookie(parsed, from, now)
    if ('refused' in result) notSent.push(result.refused)
    else if ('deleted' in result) {
      jar.delete(`${result.deleted.name};${result.deleted.domain};${result.deleted.path}`)
      notSent.push(deletedBy(result.deleted))
    } else jar.set(`${result.stored.name};${result.stored.domain};${result.stored.path}`, result.stored)
  }
  const sent: StoredCookie[] = []
  for (const cookie of jar.values()) {
    const why = whyNotSent(cookie, onTheWire(url).url, initiator, now)
    if (why === null) sent.push(cookie)
    else notSent.push(why)
  }
  return { sent, notSent }
}

export function deletedBy (cookie: StoredCookie): Finding {
  return finding('COOKIE_DELETED', 'error',
    `${cookie.name} (Path=${cookie.path}): deleted by the response of ${cookie.setBy} (an expiry in the past: a ` +
      'sign-out or a revoke)',
    'Expected after sign-out or a revoke; otherwise grant the prefix again (sign in, reopen the page) before the ' +
      'player requests media.')
}
