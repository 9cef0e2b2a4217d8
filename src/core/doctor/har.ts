// A HAR (HTTP Archive, as exported by browser devtools or recorded by Playwright), replayed in
// order: the responses that set CloudFront cookies fill a jar, and each request CloudFront refused
// is judged with what the browser sent, what it held and did not send, and the CORS answer.
import type { KeyInput } from '../keys.js'
import { readCloudFrontCookies } from '../cookies.js'
import { decodeBase64 } from '../encoding.js'
import { parsePolicy } from '../policy.js'
import { invalid, isObject } from '../guards.js'
import { originOf, splitUrl } from '../url.js'
import { finding, report, type DoctorCode, type DoctorReport, type Finding } from './findings.js'
import { deletedBy, judgeRequest } from './request.js'
import { cookieHeaderOf, parseSetCookie, storeCookie, whyNotSent, type StoredCookie } from './jar.js'
import { loadDoctorKeys, type DoctorKeys } from './signature.js'

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

// A HAR is read field by field: a field of the wrong type is the file's fault, said with its path
// (log.entries[3].request.method), never a TypeError from deep inside. Values are not quoted: a
// misplaced field may hold a cookie value.
function kind (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function expected (path: string, what: string, value: unknown): never {
  return invalid('har', `${path}: expected ${what}, got ${kind(value)}`)
}

function object (value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) expected(path, 'an object', value)
  return value as Record<string, unknown>
}

function string (value: unknown, path: string): string {
  if (typeof value !== 'string') expected(path, 'a string', value)
  return value
}

function optionalString (value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path)
}

function array (value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) expected(path, 'an array', value)
  return value
}

/** `[{ name, value }]`, as HAR headers and cookies are. */
function pairs (value: unknown, path: string): Header[] {
  const list = array(value, path)
  const out: Header[] = []
  // Indexed, not mapped: a hole in an array built in code is a missing pair too.
  for (let i = 0; i < list.length; i++) {
    const pair = object(list[i], `${path}[${i}]`)
    out.push({ name: string(pair.name, `${path}[${i}].name`), value: string(pair.value, `${path}[${i}].value`) })
  }
  return out
}

function readEntry (value: unknown, path: string): Entry | null {
  const e = object(value, path)
  const started = string(e.startedDateTime, `${path}.startedDateTime`)
  const time = Date.parse(started)
  if (Number.isNaN(time)) invalid('har', `${path}.startedDateTime: expected an ISO 8601 date`)
  const request = object(e.request, `${path}.request`)
  const method = string(request.method, `${path}.request.method`)
  const url = string(request.url, `${path}.request.url`)
  const requestHeaders = pairs(request.headers, `${path}.request.headers`)
  if (request.cookies !== undefined) pairs(request.cookies, `${path}.request.cookies`)
  const response = object(e.response, `${path}.response`)
  const status = response.status
  if (typeof status !== 'number' || !Number.isInteger(status)) expected(`${path}.response.status`, 'an integer', status)
  const responseHeaders = pairs(response.headers, `${path}.response.headers`)
  if (response.cookies !== undefined) pairs(response.cookies, `${path}.response.cookies`)
  const content = response.content === undefined ? {} : object(response.content, `${path}.response.content`)
  const text = optionalString(content.text, `${path}.response.content.text`) ?? ''
  const encoding = optionalString(content.encoding, `${path}.response.content.encoding`)
  // Playwright writes _failureText, Chromium's devtools _error.
  const failureText = optionalString(response._failureText, `${path}.response._failureText`) ??
    optionalString(response._error, `${path}.response._error`)
  // data:, blob: and extension URLs say nothing about the CDN.
  if (!splitUrl(url)) return null
  return {
    time,
    method,
    url,
    request: requestHeaders,
    status,
    response: responseHeaders,
    body: encoding === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text,
    failure: status > 0 ? undefined : failureText ?? 'no response'
  }
}

function entriesOf (har: unknown): Entry[] {
  const file = 'expected a HAR file: { "log": { "entries": [...] } }'
  if (!isObject(har)) invalid('har', `${file}, got ${kind(har)}`)
  const log = har.log
  if (!isObject(log)) invalid('har', `${file}; its log is ${kind(log)}`)
  const entries = array(log.entries, 'log.entries')
  const out: Entry[] = []
  entries.forEach((e, i) => {
    const entry = readEntry(e, `log.entries[${i}]`)
    if (entry !== null) out.push(entry)
  })
  // Stable: entries that started in the same millisecond keep the file's order.
  return out.map((e, i) => [e, i] as const).sort((a, b) => a[0].time - b[0].time || a[1] - b[1]).map(([e]) => e)
}

function header (list: Header[], name: string): string | undefined {
  const values = list.filter((h) => h.name.toLowerCase() === name).map((h) => h.value)
  return values.length === 0 ? undefined : values.join(name === 'cookie' ? '; ' : ', ')
}

function fromCloudFront (e: Entry): boolean {
  return /cloudfront/i.test(header(e.response, 'x-cache') ?? '') ||
    /cloudfront/i.test(header(e.response, 'server') ?? '')
}

function cloudFrontCode (e: Entry): string | null {
  if (e.status !== 403) return null
  const code = /<Error>\s*<Code>(\w+)<\/Code>/.exec(e.body)?.[1]
  if (code !== undefined && Object.hasOwn(CODES, code)) return code
  return fromCloudFront(e) ? '' : null
}

/** The page that made the request: its Origin, else its Referer; undefined for a navigation. */
function initiatorOf (e: Entry): string | undefined {
  // Lax cookies go with a top-level navigation from another site: SameSite does not apply.
  if (header(e.request, 'sec-fetch-mode') === 'navigate' && e.method === 'GET') return undefined
  // An Origin or Referer that is no absolute URL ("null", or garbage) names no page.
  const origin = header(e.request, 'origin')
  if (origin !== undefined && splitUrl(origin)) return origin
  const referer = header(e.request, 'referer')
  return referer !== undefined && splitUrl(referer) ? referer : undefined
}

function corsFix (origin: string): string {
  return `Answer CORS for ${origin} with credentials: a response headers policy (or the origin) sending ` +
    `Access-Control-Allow-Origin: ${origin} (never *), Access-Control-Allow-Credentials: true and Vary: Origin; the ` +
      `local edge: cors: { origins: ['${origin}'] }.`
}

/** A response the browser withheld from a page on another origin: what a CORS refusal looks like in a HAR. */
function blocked (e: Entry, initiator: string | undefined): Finding | null {
  if (initiator === undefined || originOf(initiator) === originOf(e.url)) return null
  const origin = originOf(initiator)
  return finding('CORS_CREDENTIALS', 'error',
    `the browser withheld the answer to GET ${e.url.split('?')[0] as string} from the page at ${origin} ` +
    `(${e.failure ?? ''}; the HAR holds no response): most likely CORS, the CDN not allowing ${origin} to read it ` +
    'with credentials', corsFix(origin))
}

function corsProblem (e: Entry): Finding | null {
  const origin = header(e.request, 'origin')
  if (origin === undefined || origin === originOf(e.url) || e.method === 'OPTIONS') return null
  const allowOrigin = header(e.response, 'access-control-allow-origin')
  const allowCredentials = header(e.response, 'access-control-allow-credentials')
  if (allowOrigin === origin && allowCredentials === 'true') return null
  const got = allowOrigin === undefined
    ? 'no Access-Control-Allow-Origin'
    : `Access-Control-Allow-Origin: ${allowOrigin.slice(0, 80)}`
  return finding('CORS_CREDENTIALS', 'error',
    `${e.url.split('?')[0] as string} answered ${origin} with ${got}${allowCredentials === 'true'
? ''
      : ' and without Access-Control-Allow-Credentials: true'}: the page cannot read a credentialed response`,
    corsFix(origin))
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
      if (r && !/[*?]/.test(r.host)) {
        out.push(...(r.scheme === '*'
          ? ['http', 'https']
          : [r.scheme]).map((scheme) => `${scheme}://${r.host.toLowerCase()}`))
      }
    }
  }
  return out
}

/** Diagnoses every request CloudFront refused (or the browser withheld) in a HAR. */
export function diagnoseHar (har: unknown, options: HarOptions = {}): DoctorReport {
  const entries = entriesOf(har)
  if (options.now !== undefined && !Number.isFinite(options.now)) invalid('now', 'expected epoch milliseconds')
  if (options.clientIp !== undefined && typeof options.clientIp !== 'string') {
    invalid('clientIp', 'expected an IP address as a string')
  }
  const keys = options.keys === undefined ? null : loadDoctorKeys(options.keys)
  const replay = new HarReplay(mediaOrigins(entries), keys, options)
  for (const e of entries) replay.request(e)
  return report(replay.conclude())
}

/**
 * The CDN: where CloudFront answered, where the policies point, or where CloudFront cookies go that no
 * response there sets (the app that sets them gets them back too, on its own host).
 */
function mediaOrigins (entries: Entry[]): Set<string> {
  const setsCloudFrontCookies = (e: Entry): boolean =>
    e.response.some((h) => h.name.toLowerCase() === 'set-cookie' && h.value.includes('CloudFront-'))
  const setters = new Set(entries.filter(setsCloudFrontCookies).map((e) => originOf(e.url)))
  const sentTo = (e: Entry): boolean => readCloudFrontCookies(header(e.request, 'cookie')).size > 0 &&
    !setters.has(originOf(e.url))
  const cdn = entries.filter((e) => fromCloudFront(e) || cloudFrontCode(e) !== null || sentTo(e))
  return new Set([...policyOrigins(entries), ...cdn.map((e) => originOf(e.url))])
}

/** The HAR's requests in order, with the cookie jar a browser would have kept between them. */
class HarReplay {
  readonly findings: Finding[] = []
  readonly #jar = new Map<string, StoredCookie>()
  readonly #deleted = new Map<string, StoredCookie>()
  // Each cause the browser had to refuse a cookie, once, in the order met (a session renewing its
  // cookies meets the same ones again and again); the first `refusalsReported` are among the
  // findings already, where a repetition would add nothing. Kept this way, each refused request
  // costs what the jar holds, not what the HAR held before it.
  readonly #refusedAtStore: Finding[] = []
  readonly #refusalKeys = new Set<string>()
  #refusalsReported = 0
  readonly #judged = new Set<string>()
  #refused = 0
  #served = 0
  #cookiesSeen = false
  #lastServed: Entry | null = null

  constructor (readonly media: Set<string>, readonly keys: DoctorKeys | null, readonly options: HarOptions) {}

  request (e: Entry): void {
    const now = this.options.now ?? e.time
    const code = cloudFrontCode(e)
    const initiator = initiatorOf(e)
    const toMedia = this.media.has(originOf(e.url))
    if (header(e.request, 'cookie') !== undefined || e.response.some((h) => h.name.toLowerCase() === 'set-cookie')) {
      this.#cookiesSeen = true
    }
    // Chromium records a response it withheld from the page (CORS) as net::ERR_FAILED; a request
    // cancelled by leaving the page (net::ERR_ABORTED) or a network error says nothing about the CDN.
    const withheld = e.failure !== undefined && /ERR_FAILED|CORS/i.test(e.failure)
    const cors = !toMedia ? null : withheld ? blocked(e, initiator) : e.failure === undefined ? corsProblem(e) : null
    if (cors) this.findings.push(cors)
    if (code !== null || (toMedia && withheld)) {
      this.#refused++
      // Requests refused for the same reason are judged once.
      if (!this.#judgeRefused(e, code, initiator, now)) return
    } else if (toMedia && e.status >= 200 && e.status < 400) {
      this.#served++
      if (readCloudFrontCookies(header(e.request, 'cookie')).size > 0 ||
        /[?&]Signature=/.test(e.url)) this.#lastServed = e
    }
    this.#store(e, now)
  }

  /** Judges a refused request, unless one refused for the same reason was; false when it was. */
  #judgeRefused (e: Entry, code: string | null, initiator: string | undefined, now: number): boolean {
    // A request the browser got no answer to is recorded without the headers it sent: the jar tells.
    const cookieHeader = e.failure === undefined
      ? header(e.request, 'cookie')
      : cookieHeaderOf([...this.#jar.values()].filter((c) => whyNotSent(c, e.url, initiator, now) === null))
    // The CloudFront cookies alone count (CloudFront reads no other), so an app cookie that changes on
    // every request changes nothing.
    const cloudFrontCookies = JSON.stringify([...readCloudFrontCookies(cookieHeader)])
    const key = `${originOf(e.url)}\n${cloudFrontCookies}\n${initiator === undefined ? '' : originOf(initiator)}`
    if (this.#judged.has(key)) return false
    this.#judged.add(key)
    const pending = this.#refusedAtStore.slice(this.#refusalsReported)
    const notSent: Finding[] = [...pending]
    for (const cookie of this.#jar.values()) {
      const why = whyNotSent(cookie, e.url, initiator, now)
      if (why) notSent.push(why)
    }
    for (const cookie of this.#deleted.values()) notSent.push(deletedBy(cookie))
    if (code !== null) {
      const what = `${e.method} ${e.url.split('?')[0] as string}`
      this.findings.push(finding(code === '' ? 'CLOUDFRONT_REFUSED' : CODES[code] as DoctorCode, 'error',
        `CloudFront refused ${what} with 403${code === ''
? ''
          : ` ${code}`}${edgeReason(e)}`, 'See the findings that follow for why.'))
    }
    const judgedHere = judgeRequest({
      url: e.url,
      cookieHeader,
      notSent,
      keys: this.keys,
      now,
      clientIp: this.options.clientIp
    })
    // The cookies held but not sent are told only when they are the cause (no set arrived).
    if (pending.length > 0 &&
      judgedHere.includes(pending[0] as Finding)) this.#refusalsReported = this.#refusedAtStore.length
    this.findings.push(...judgedHere)
    return true
  }

  /** Keeps, deletes or refuses each CloudFront cookie the response sets, as a browser would. */
  #store (e: Entry, now: number): void {
    for (const h of e.response) {
      if (h.name.toLowerCase() !== 'set-cookie') continue
      for (const line of h.value.split('\n')) {
        const parsed = parseSetCookie(line)
        if (parsed === null || !parsed.name.startsWith('CloudFront-')) continue
        const result = storeCookie(parsed, e.url, now)
        if ('refused' in result) {
          const key = `${result.refused.code}\n${result.refused.message}`
          if (!this.#refusalKeys.has(key)) {
            this.#refusalKeys.add(key)
            this.#refusedAtStore.push(result.refused)
          }
        } else if ('deleted' in result) {
          if (this.#jar.delete(jarKey(result.deleted))) this.#deleted.set(jarKey(result.deleted), result.deleted)
        } else {
          this.#jar.set(jarKey(result.stored), result.stored)
          this.#deleted.delete(jarKey(result.stored))
        }
      }
    }
  }

  /** The findings, with what the HAR as a whole says: no cookies recorded, nothing refused. */
  conclude (): Finding[] {
    const findings = this.findings
    if (!this.#cookiesSeen) {
      findings.push(finding('HAR_WITHOUT_COOKIES', 'warning',
        'the HAR holds no Cookie or Set-Cookie header: it was exported without them',
        'Export the HAR with sensitive data (devtools: "Export HAR (with sensitive data)"), or use --cookie or ' +
          '--set-cookie.'))
    }
    if (this.#refused > 0) return findings
    // Nothing refused: the last served request's credentials, checked as a refused one would be.
    const e = this.#lastServed
    if (e !== null) {
      const cookieHeader = header(e.request, 'cookie')
      findings.push(...judgeRequest({
        url: e.url,
        cookieHeader,
        notSent: [],
        keys: this.keys,
        now: this.options.now ?? e.time,
        clientIp: this.options.clientIp
      }))
    }
    const served = this.#served
    findings.push(served > 0
      ? finding('NO_REFUSED_REQUEST', 'info', `CloudFront served ${served} request${served === 1
? ''
        : 's'} in this HAR and refused none`,
      'Record the HAR while the player fails.')
      : finding('NO_CLOUDFRONT_REQUEST', 'warning',
        'no request in this HAR went to CloudFront (none carries X-Cache, a CloudFront error or CloudFront cookies)',
        'Record the HAR while the player requests the media.'))
    return findings
  }
}

function edgeReason (e: Entry): string {
  const reason = header(e.response, 'x-cloudfront-edge-reason')
  return reason === undefined ? '' : ` (the local edge says: ${reason.slice(0, 200)})`
}
