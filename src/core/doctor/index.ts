// The doctor: why CloudFront refuses (or would refuse) a request, in findings that say what to
// change. Pure: URLs, headers, keys and a time in; findings out. Nothing here does I/O.
import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import type { KeyInput } from '../keys.js'
import { report, type DoctorReport, type Finding } from './findings.js'
import { cookieHeaderOf } from './jar.js'
import { browserCookies, checkUrl, judgeRequest } from './request.js'
import { loadDoctorKeys } from './signature.js'

export { type DoctorCode, type DoctorReport, type Finding, type Severity } from './findings.js'
export { diagnoseHar, type HarOptions } from './har.js'

export interface DoctorInput {
  /** The media URL, as requested. */
  url: string
  /** The Cookie header as sent to the CDN. */
  cookieHeader?: string | undefined
  /** Set-Cookie lines, as received with the response from `from`; the doctor decides as a browser which are sent. */
  setCookies?: string[] | undefined
  /** The URL of the response that carried `setCookies`. */
  from?: string | undefined
  /** The page that requests the media (for SameSite); default `from`. */
  initiator?: string | undefined
  /** Public keys by key ID; without them every check but the signature runs. */
  keys?: Record<string, KeyInput> | undefined
  /** Epoch ms; default now. */
  now?: number | undefined
  /** The viewer's address, for grants bound to one. */
  clientIp?: string | undefined
}

/** Diagnoses one request: a Cookie header, or Set-Cookie lines and the URL that set them. */
export function diagnose (input: DoctorInput): DoctorReport {
  const url = checkUrl(input.url, 'url')
  const now = input.now ?? Date.now()
  if (!Number.isFinite(now)) throw new FST_ERR_CF_INVALID_OPTION('now', 'expected epoch milliseconds')
  const keys = input.keys === undefined ? null : loadDoctorKeys(input.keys)
  let header = input.cookieHeader
  let notSent: Finding[] = []
  if (input.setCookies !== undefined && input.setCookies.length > 0) {
    const from = checkUrl(input.from, 'from')
    const cookies = browserCookies(input.setCookies, from, url, input.initiator ?? from, now)
    notSent = cookies.notSent
    const sent = cookieHeaderOf(cookies.sent)
    header = [header, sent].filter((h) => h !== undefined && h !== '').join('; ')
  }
  return report(judgeRequest({ url, cookieHeader: header, notSent, keys, now, clientIp: input.clientIp }))
}
