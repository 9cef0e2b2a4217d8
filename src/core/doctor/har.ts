// A HAR (HTTP Archive, as exported by browser devtools or recorded by Playwright), replayed in
// order: the responses that set CloudFront cookies fill a jar, and each request CloudFront refused
// is judged with what the browser sent, what it held and did not send, and the CORS answer.
import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import type { KeyInput } from '../keys.js'
import { readCloudFrontCookies } from '../cookies.js'
import { decodeBase64 } from '../encoding.js'
import { parsePolicy } from '../policy.js'
import { splitUrl } from '../url.js'
import { finding, report, type DoctorCode, type DoctorReport, type Finding } from './findings.js'
import { deletedBy, judgeRequest } from './request.js'
import { cookieHeaderOf, parseSetCookie, storeCookie, whyNotSent, type StoredCookie } from './jar.js'
import { loadDoctorKeys } from './signature.js'

export interface HarOptions {
  keys?: Record<string, KeyInput> | undefined
  /** Judge at this time (epoch ms) instead of each request's own time. */
  now?: number | undefined
  clientIp?: string | undefined
}

interface Header { name: string, value: string }
interface Entry {
  time: number
  method: string
  url: string
  request: Header[]
  status: number
  response: Header[]
  body: string
  /** Why the browser got no response (a CORS refusal, a network error), when it got none. */
  failure: string | undefined
}

const CODES: Record<string, DoctorCode> = {
  MissingKey: 'CLOUDFRONT_MISSING_KEY',
  InvalidKey: 'CLOUDFRONT_INVALID_KEY',
  MalformedSignature: 'CLOUDFRONT_MALFORMED_SIGNATURE',
  MalformedPolicy: 'CLOUDFRONT_MALFORMED_POLICY',
  AccessDenied: 'CLOUDFRONT_ACCESS_DENIED'
}

function invalid (why: string): never {
  throw new FST_ERR_CF_INVALID_OPTION('har', why)
}

function headers (list: unknown): Header[] {
  return Array.isArray(list) ? list.filter((h): h is Header => typeof h?.name === 'string' && typeof h?.value === 'string') : []
}

function entriesOf (har: unknown): Entry[] {
  const entries = (har as { log?: { entries?: unknown } } | null)?.log?.entries
  if (!Array.isArray(entries)) invalid('expected a HAR file: { "log": { "entries": [...] } }')
  const out: Entry[] = []
  for (const e of entries) {
    const url = e?.request?.url
    if (typeof url !== 'string' || !splitUrl(url)) continue
    const content = e.response?.content ?? {}
    const text = typeof content.text === 'string' ? content.text : ''
    out.push({
      time: Date.parse(e.startedDateTime) || 0,
      method: String(e.request.method ?? 'GET'),
      url,
      request: headers(e.request.headers),
      status: Number(e.response?.status ?? 0),
      response: headers(e.response?.headers),
      body: content.encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text,
      failure: Number(e.response?.status ?? 0) > 0 ? undefined : String(e.response?._failureText ?? e.response?._error ?? 'no response')
    })
  }
  // Stable: entries that started in the same millisecond keep the file's order.
  return out.map((e, i) => [e, i] as const).sort((a, b) => a[0].time - b[0].time || a[1] - b[1]).map(([e]) => e)
}

function header (list: Header[], name: string): string | undefined {
  const values = list.filter((h) => h.name.toLowerCase() === name).map((h) => h.value)
  return values.length === 0 ? undefined : values.join(name === 'cookie' ? '; ' : ', ')
}

function fromCloudFront (e: Entry): boolean {
  return /cloudfront/i.test(header(e.response, 'x-cache') ?? '') || /cloudfront/i.test(header(e.response, 'server') ?? '')
}

function cloudFrontCode (e: Entry): string | null {
  if (e.status !== 403) return null
  const code = /<Error>\s*<Code>(\w+)<\/Code>/.exec(e.body)?.[1]
  if (code !== undefined && Object.hasOwn(CODES, code)) return code
  return fromCloudFront(e) ? '' : null
}

function originOf (url: string): string {
  const u = splitUrl(url) as NonNullable<ReturnType<typeof splitUrl>>
  return `${u.scheme}://${u.host.toLowerCase()}`
}

/** The page that made the request: its Origin, else its Referer; undefined for a navigation. */
function initiatorOf (e: Entry): string | undefined {
  // Lax cookies go with a top-level navigation from another site: SameSite does not apply.
  if (header(e.request, 'sec-fetch-mode') === 'navigate' && e.method === 'GET') return undefined
  const origin = header(e.request, 'origin')
  if (origin !== undefined && origin !== 'null') return origin
  return header(e.request, 'referer')
}

function corsFix (origin: string): string {
  return `Answer CORS for ${origin} with credentials: a response headers policy (or the origin) sending Access-Control-Allow-Origin: ${origin} (never *), Access-Control-Allow-Credentials: true and Vary: Origin; the local edge: cors: { origins: ['${origin}'] }.`
}

/** A response the browser withheld from a page on another origin: what a CORS refusal looks like in a HAR. */
function blocked (e: Entry, initiator: string | undefined): Finding | null {
  if (initiator === undefined || originOf(initiator) === originOf(e.url)) return null
  const origin = originOf(initiator)
  return finding('CORS_CREDENTIALS', 'error', `the browser withheld the answer to GET ${e.url.split('?')[0] as string} from the page at ${origin} (${e.failure ?? ''}; the HAR holds no response): most likely CORS, the CDN not allowing ${origin} to read it with credentials`, corsFix(origin))
}

function corsProblem (e: Entry): Finding | null {
  const origin = header(e.request, 'origin')
  if (origin === undefined || origin === originOf(e.url) || e.method === 'OPTIONS') return null
  const allowOrigin = header(e.response, 'access-control-allow-origin')
  const allowCredentials = header(e.response, 'access-control-allow-credentials')
  if (allowOrigin === origin && allowCredentials === 'true') return null
  const got = allowOrigin === undefined ? 'no Access-Control-Allow-Origin' : `Access-Control-Allow-Origin: ${allowOrigin.slice(0, 80)}`
  return finding('CORS_CREDENTIALS', 'error', `${e.url.split('?')[0] as string} answered ${origin} with ${got}${allowCredentials === 'true' ? '' : ' and without Access-Control-Allow-Credentials: true'}: the page cannot read a credentialed response`, corsFix(origin))
}

function jarKey (c: StoredCookie): string {
  return `${c.name};${c.domain};${c.path}`
}

/** The origins of the Resources in the CloudFront-Policy cookies a HAR sets: where the media is. */
function policyOrigins (entries: Entry[]): string[] {
  const out: string[] = []
  for (const e of entries) {
    for (const h of e.response) {
      const m = h.name.toLowerCase() === 'set-cookie' ? /^\s*CloudFront-Policy=([^;]+)/.exec(h.value) : null
      const json = m ? decodeBase64(m[1] as string)?.toString('utf8') : undefined
      const parsed = json === undefined ? null : parsePolicy(json, true)
      const r = parsed !== null && typeof parsed !== 'string' ? splitUrl(parsed.resource as string) : null
      if (r && !/[*?]/.test(r.host)) out.push(...(r.scheme === '*' ? ['http', 'https'] : [r.scheme]).map((scheme) => `${scheme}://${r.host.toLowerCase()}`))
    }
  }
  return out
}

/** Diagnoses every request CloudFront refused (or the browser withheld) in a HAR. */
export function diagnoseHar (har: unknown, options: HarOptions = {}): DoctorReport {
  const entries = entriesOf(har)
  const keys = options.keys === undefined ? null : loadDoctorKeys(options.keys)
  const jar = new Map<string, StoredCookie>()
  const deleted = new Map<string, StoredCookie>()
  // Each cause the browser had to refuse a cookie, once, in the order met (a session renewing its
  // cookies meets the same ones again and again); the first `refusalsReported` are among the
  // findings already, where a repetition would add nothing. Kept this way, each refused request
  // costs what the jar holds, not what the HAR held before it.
  const refusedAtStore: Finding[] = []
  const refusalKeys = new Set<string>()
  let refusalsReported = 0
  // The CDN: where CloudFront answered, where the policies point, or where CloudFront cookies go
  // that no response there sets (the app that sets them gets them back too, on its own host).
  const setters = new Set(entries.filter((e) => e.response.some((h) => h.name.toLowerCase() === 'set-cookie' && h.value.includes('CloudFront-'))).map((e) => originOf(e.url)))
  const media = new Set([...policyOrigins(entries), ...entries.filter((e) => fromCloudFront(e) || cloudFrontCode(e) !== null ||
    (readCloudFrontCookies(header(e.request, 'cookie')).size > 0 && !setters.has(originOf(e.url)))).map((e) => originOf(e.url))])
  let lastServed: Entry | null = null
  const findings: Finding[] = []
  const judged = new Set<string>()
  let refused = 0
  let served = 0
  let cookiesSeen = false
  for (const e of entries) {
    const now = options.now ?? (e.time || Date.now())
    const code = cloudFrontCode(e)
    const initiator = initiatorOf(e)
    const toMedia = media.has(originOf(e.url))
    if (header(e.request, 'cookie') !== undefined || e.response.some((h) => h.name.toLowerCase() === 'set-cookie')) cookiesSeen = true
    // Chromium records a response it withheld from the page (CORS) as net::ERR_FAILED; a request
    // cancelled by leaving the page (net::ERR_ABORTED) or a network error says nothing about the CDN.
    const withheld = e.failure !== undefined && /ERR_FAILED|CORS/i.test(e.failure)
    const cors = !toMedia ? null : withheld ? blocked(e, initiator) : e.failure === undefined ? corsProblem(e) : null
    if (cors) findings.push(cors)
    if (code !== null || (toMedia && withheld)) {
      refused++
      // A request the browser got no answer to is recorded without the headers it sent: the jar tells.
      const cookieHeader = e.failure === undefined ? header(e.request, 'cookie') : cookieHeaderOf([...jar.values()].filter((c) => whyNotSent(c, e.url, initiator, now) === null))
      // Requests refused for the same reason are judged once: the CloudFront cookies alone count
      // (CloudFront reads no other), so an app cookie that changes on every request changes nothing.
      const key = `${originOf(e.url)}\n${JSON.stringify([...readCloudFrontCookies(cookieHeader)])}\n${initiator === undefined ? '' : originOf(initiator)}`
      if (judged.has(key)) continue
      judged.add(key)
      const pending = refusedAtStore.slice(refusalsReported)
      const notSent: Finding[] = [...pending]
      for (const cookie of jar.values()) {
        const why = whyNotSent(cookie, e.url, initiator, now)
        if (why) notSent.push(why)
      }
      for (const cookie of deleted.values()) notSent.push(deletedBy(cookie))
      if (code !== null) {
        findings.push(finding(code === '' ? 'CLOUDFRONT_REFUSED' : CODES[code] as DoctorCode, 'error',
          `CloudFront refused ${e.method} ${e.url.split('?')[0] as string} with 403${code === '' ? '' : ` ${code}`}${edgeReason(e)}`, 'See the findings that follow for why.'))
      }
      const judgedHere = judgeRequest({ url: e.url, cookieHeader, notSent, keys, now, clientIp: options.clientIp })
      // The cookies held but not sent are told only when they are the cause (no set arrived).
      if (pending.length > 0 && judgedHere.includes(pending[0] as Finding)) refusalsReported = refusedAtStore.length
      findings.push(...judgedHere)
    } else if (toMedia && e.status >= 200 && e.status < 400) {
      served++
      if (readCloudFrontCookies(header(e.request, 'cookie')).size > 0 || /[?&]Signature=/.test(e.url)) lastServed = e
    }
    for (const h of e.response) {
      if (h.name.toLowerCase() !== 'set-cookie') continue
      for (const line of h.value.split('\n')) {
        const parsed = parseSetCookie(line)
        if (parsed === null || !parsed.name.startsWith('CloudFront-')) continue
        const result = storeCookie(parsed, e.url, now)
        if ('refused' in result) {
          const key = `${result.refused.code}\n${result.refused.message}`
          if (!refusalKeys.has(key)) {
            refusalKeys.add(key)
            refusedAtStore.push(result.refused)
          }
        } else if ('deleted' in result) {
          if (jar.delete(jarKey(result.deleted))) deleted.set(jarKey(result.deleted), result.deleted)
        } else {
          jar.set(jarKey(result.stored), result.stored)
          deleted.delete(jarKey(result.stored))
        }
      }
    }
  }
  if (!cookiesSeen) {
    findings.push(finding('HAR_WITHOUT_COOKIES', 'warning', 'the HAR holds no Cookie or Set-Cookie header: it was exported without them', 'Export the HAR with sensitive data (devtools: "Export HAR (with sensitive data)"), or use --cookie or --set-cookie.'))
  }
  if (refused === 0) {
    // Nothing refused: the last served request's credentials, checked as a refused one would be.
    if (lastServed !== null) {
      const e: Entry = lastServed
      findings.push(...judgeRequest({ url: e.url, cookieHeader: header(e.request, 'cookie'), notSent: [], keys, now: options.now ?? e.time, clientIp: options.clientIp }))
    }
    findings.push(served > 0
      ? finding('NO_REFUSED_REQUEST', 'info', `CloudFront served ${served} request${served === 1 ? '' : 's'} in this HAR and refused none`, 'Record the HAR while the player fails.')
      : finding('NO_CLOUDFRONT_REQUEST', 'warning', 'no request in this HAR went to CloudFront (none carries X-Cache, a CloudFront error or CloudFront cookies)', 'Record the HAR while the player requests the media.'))
  }
  return report(findings)
}

function edgeReason (e: Entry): string {
  const reason = header(e.response, 'x-cloudfront-edge-reason')
  return reason === undefined ? '' : ` (the local edge says: ${reason.slice(0, 200)})`
}
