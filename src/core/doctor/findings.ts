// What the doctor reports: one finding per cause, each with what to change. Messages may name
// cookies, key IDs, resources and times, never a cookie value, a signature or key material.

export type Severity = 'error' | 'warning' | 'info'

export type DoctorCode =
  | 'MISSING_COOKIES' | 'COOKIE_NOT_SENT_HOST' | 'COOKIE_NOT_SENT_PATH' | 'COOKIE_NOT_SENT_SECURE'
  | 'COOKIE_SAMESITE_CROSS_SITE' | 'COOKIE_DOMAIN_CLOUDFRONT_NET' | 'COOKIE_DELETED' | 'DUPLICATE_COOKIES'
  | 'URL_PARAMS_OVERRIDE_COOKIES' | 'MALFORMED_POLICY' | 'MALFORMED_SIGNATURE' | 'EXPIRES_IN_MILLISECONDS'
  | 'EXPIRED' | 'NOT_YET_VALID' | 'CANNED_POLICY_FOR_PREFIX' | 'RESOURCE_MISMATCH' | 'POLICY_WITHOUT_RESOURCE'
  | 'IP_MISMATCH' | 'IP_NOT_CHECKED' | 'IPV6_CLIENT' | 'UNKNOWN_KEY' | 'SIGNATURE_INVALID' | 'SIGNATURE_NOT_CHECKED'
  | 'HASH_ALGORITHM' | 'REFUSED' | 'CORS_CREDENTIALS' | 'HAR_WITHOUT_COOKIES'
  | 'NO_CLOUDFRONT_REQUEST' | 'NO_REFUSED_REQUEST'
  | `CLOUDFRONT_${'MISSING_KEY' | 'INVALID_KEY' | 'MALFORMED_SIGNATURE' | 'MALFORMED_POLICY' | 'ACCESS_DENIED'}`
  | 'CLOUDFRONT_REFUSED'

export interface Finding {
  code: DoctorCode
  severity: Severity
  message: string
  fix: string
}

export interface DoctorReport {
  /** True when no finding is an error. */
  ok: boolean
  findings: Finding[]
}

export function finding (code: DoctorCode, severity: Severity, message: string, fix: string): Finding {
  return { code, severity, message, fix }
}

const COOKIE_NAME = /^CloudFront-[A-Za-z-]+/

/**
 * The report for a list of findings: the same finding given twice is kept once, and findings that
 * differ only by the cookie they start with (one per cookie of a set) become one naming them all.
 */
export function report (findings: Finding[]): DoctorReport {
  const merged = new Map<string, { first: Finding, names: string[] }>()
  for (const f of findings) {
    const name = COOKIE_NAME.exec(f.message)?.[0]
    const key = `${f.code}\n${f.severity}\n${name === undefined ? f.message : f.message.slice(name.length)}`
    const seen = merged.get(key)
    if (seen === undefined) merged.set(key, { first: f, names: name === undefined ? [] : [name] })
    else if (name !== undefined && !seen.names.includes(name)) seen.names.push(name)
  }
  const kept = [...merged.values()].map(({ first, names }) => names.length < 2
    ? first
    : {
        ...first,
        message: `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] as string}` +
          first.message.slice((names[0] as string).length)
      })
  return { ok: !kept.some((f) => f.severity === 'error'), findings: kept }
}

/** Epoch seconds as an ISO date, with the distance from now. */
export function when (seconds: number, nowSeconds: number): string {
  const iso = seconds * 1000 <= 8.64e15 ? new Date(seconds * 1000).toISOString() : `${seconds}`
  const d = seconds - nowSeconds
  return `${iso} (${d === 0 ? 'now' : d > 0 ? `in ${span(d)}` : `${span(-d)} ago`})`
}

function span (s: number): string {
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} days`
}
