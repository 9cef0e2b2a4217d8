// The HAR-only codes, on small HAR files written here in the shape devtools and Playwright write:
// CORS, CloudFront's error code of the refused response, and HARs that cannot tell.
// (Recorded HARs of the example are in har.test.ts.)
import t from 'tap'
import { diagnoseHar } from '../../src/api.js'
import { codes, KEYS, NOW, setCookieLines } from './helpers.js'

const APP = 'https://app.example.com'
const CDN = 'https://media.example.com'
const SEGMENT = `${CDN}/courses/42/seg-001.ts`
const LAX = 'Path=/courses/42/; Domain=example.com; Secure; HttpOnly; SameSite=Lax'

type Headers = Array<[string, string]>
interface Spec { at?: number, method?: string, url: string, request?: Headers, status?: number, response?: Headers, body?: string, base64?: boolean, failure?: string }

function entry (s: Spec): object {
  return {
    startedDateTime: new Date(s.at ?? NOW).toISOString(),
    request: { method: s.method ?? 'GET', url: s.url, headers: (s.request ?? []).map(([name, value]) => ({ name, value })) },
    response: {
      status: s.failure === undefined ? s.status ?? 200 : -1,
      headers: (s.response ?? []).map(([name, value]) => ({ name, value })),
      content: s.body === undefined ? { size: -1 } : { text: s.base64 === true ? Buffer.from(s.body).toString('base64') : s.body, ...(s.base64 === true ? { encoding: 'base64' } : {}) },
      ...(s.failure === undefined ? {} : { _failureText: s.failure })
    }
  }
}

function har (...specs: Spec[]): object {
  return { log: { version: '1.2', entries: specs.map(entry) } }
}

const lines = setCookieLines(LAX)
const cookie = lines.map((l) => l.slice(0, l.indexOf(';'))).join('; ')
const page: Spec = { at: NOW - 5000, url: `${APP}/courses/42`, response: lines.map((l) => ['set-cookie', l]) }
const xml = (code: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>x</Message></Error>`
const corsOk: Headers = [['access-control-allow-origin', APP], ['access-control-allow-credentials', 'true']]
const asked: Headers = [['Origin', APP], ['Referer', `${APP}/`], ['Cookie', cookie]]

t.test('CORS_CREDENTIALS: a credentialed answer without the right Access-Control-Allow-*', async (t) => {
  for (const [why, response] of [['Allow-Origin *', [['access-control-allow-origin', '*'], ['access-control-allow-credentials', 'true']]], ['no Allow-Credentials', [['access-control-allow-origin', APP]]], ['no CORS at all', []]] as Array<[string, Headers]>) {
    const r = diagnoseHar(har(page, { url: SEGMENT, request: asked, response }), { keys: KEYS })
    t.equal(r.findings[0]?.code, 'CORS_CREDENTIALS', why)
    t.match(r.findings[0]?.fix, /Access-Control-Allow-Origin: https:\/\/app\.example\.com \(never \*\), Access-Control-Allow-Credentials: true/)
    t.equal(r.ok, false)
  }
  const twin = diagnoseHar(har(page, { url: SEGMENT, request: asked, response: corsOk }), { keys: KEYS })
  t.same(codes(twin), ['NO_REFUSED_REQUEST'], 'the twin: the exact origin with credentials')
  t.match(twin.findings[0]?.message, /CloudFront served 1 request in this HAR/)
})

t.test('CORS_CREDENTIALS: an answer the browser withheld, recorded without a response', async (t) => {
  const withheld = { url: SEGMENT, request: [['Referer', `${APP}/`]] as Headers, failure: 'net::ERR_FAILED' }
  const r = diagnoseHar(har(page, withheld), { keys: KEYS })
  t.same(codes(r), ['CORS_CREDENTIALS'], 'the cookies would have been sent: CORS alone is the cause')
  t.match(r.findings[0]?.message, /withheld the answer to GET https:\/\/media\.example\.com\/courses\/42\/seg-001\.ts from the page at https:\/\/app\.example\.com \(net::ERR_FAILED/)
  // Chromium's devtools write status 0 and _error where Playwright writes -1 and _failureText.
  const devtools = har(page, withheld) as { log: { entries: Array<{ response: Record<string, unknown> }> } }
  Object.assign(devtools.log.entries[1]?.response ?? {}, { status: 0, _failureText: undefined, _error: 'net::ERR_FAILED' })
  t.match(diagnoseHar(devtools, { keys: KEYS }).findings, [{ code: 'CORS_CREDENTIALS', message: /\(net::ERR_FAILED; the HAR holds no response\)/ }], 'as devtools export it')
  const aborted = diagnoseHar(har(page, { ...withheld, failure: 'net::ERR_ABORTED' }), { keys: KEYS })
  t.same(codes(aborted), ['NO_CLOUDFRONT_REQUEST'], 'the twin: a request cancelled by leaving the page says nothing')
  const sameOrigin = diagnoseHar(har(page, { ...withheld, request: [['Referer', `${CDN}/player`]] }), { keys: KEYS })
  t.notOk(codes(sameOrigin).includes('CORS_CREDENTIALS'), 'the twin: from the CDN\'s own origin, not CORS')
})

t.test('the CloudFront error code of each refused response', async (t) => {
  const CODES = { MissingKey: 'CLOUDFRONT_MISSING_KEY', InvalidKey: 'CLOUDFRONT_INVALID_KEY', MalformedSignature: 'CLOUDFRONT_MALFORMED_SIGNATURE', MalformedPolicy: 'CLOUDFRONT_MALFORMED_POLICY', AccessDenied: 'CLOUDFRONT_ACCESS_DENIED' }
  for (const [code, finding] of Object.entries(CODES)) {
    const r = diagnoseHar(har(page, { url: SEGMENT, request: asked, status: 403, response: [...corsOk, ['content-type', 'text/xml']], body: xml(code), base64: code === 'AccessDenied' }))
    t.match(r.findings[0], { code: finding, severity: 'error', message: `CloudFront refused GET ${SEGMENT} with 403 ${code}` }, code)
  }
  const bare = diagnoseHar(har(page, { url: SEGMENT, request: asked, status: 403, response: [...corsOk, ['x-cache', 'Error from cloudfront']] }))
  t.match(bare.findings[0], { code: 'CLOUDFRONT_REFUSED', message: `CloudFront refused GET ${SEGMENT} with 403` }, 'no body: the status and X-Cache tell')
  const app = diagnoseHar(har(page, { url: `${APP}/courses/42/progress`, method: 'POST', request: asked, status: 403, body: '{"error":"Not your course"}' }))
  t.notOk(codes(app).some((c) => c.startsWith('CLOUDFRONT_')), 'the twin: a 403 from the app is not CloudFront\'s')
})

t.test('a refused request is judged with the cookies it carried', async (t) => {
  const expired = diagnoseHar(har(page, { url: SEGMENT, request: asked, status: 403, response: corsOk, body: xml('AccessDenied') }), { keys: KEYS, now: NOW + 3_600_000 })
  t.same(codes(expired), ['CLOUDFRONT_ACCESS_DENIED', 'EXPIRED'], '--now judges at another time')
  const twice = diagnoseHar(har(page, ...[1, 2, 3].map((i) => ({ at: NOW + i, url: SEGMENT, request: asked, status: 403, response: corsOk, body: xml('AccessDenied') }))), { keys: KEYS, now: NOW + 3_600_000 })
  t.equal(twice.findings.length, 2, 'three refusals for one reason, judged once')
})

t.test('EXPIRED: cookies stored, then expired in the browser before the request', async (t) => {
  const short = { ...page, response: setCookieLines(`${LAX}; Max-Age=3`).map((l) => ['set-cookie', l]) as Headers }
  const r = diagnoseHar(har(short, { url: SEGMENT, request: [['Origin', APP]], status: 403, response: corsOk, body: xml('MissingKey') }))
  t.match(r.findings.find((f) => f.code === 'EXPIRED')?.message, /expired in the browser at .*, so no longer sent/)
  const twin = diagnoseHar(har({ ...short, at: NOW - 1000 }, { url: SEGMENT, request: [['Origin', APP]], status: 403, response: corsOk, body: xml('MissingKey') }))
  t.notOk(codes(twin).includes('EXPIRED'), 'the twin: still alive when asked')
})

t.test('SameSite: a navigation from another site takes Lax cookies along, a subresource request does not', async (t) => {
  const fromElsewhere: Headers = [['Referer', 'https://blog.other.net/post']]
  const xhr = diagnoseHar(har(page, { url: SEGMENT, request: fromElsewhere, failure: 'net::ERR_FAILED' }), { keys: KEYS })
  t.ok(codes(xhr).includes('COOKIE_SAMESITE_CROSS_SITE'))
  const link = diagnoseHar(har(page, { url: SEGMENT, request: [...fromElsewhere, ['Sec-Fetch-Mode', 'navigate']], status: 403, response: [['x-cache', 'Error from cloudfront']] }), { keys: KEYS })
  t.notOk(codes(link).includes('COOKIE_SAMESITE_CROSS_SITE'), 'the twin: a link followed to the media')
})

t.test('HARs that cannot tell', async (t) => {
  const sanitized = diagnoseHar(har({ url: `${APP}/courses/42` }, { url: SEGMENT, status: 403, response: [['x-cache', 'Error from cloudfront']], body: xml('MissingKey') }))
  t.ok(codes(sanitized).includes('HAR_WITHOUT_COOKIES'), 'exported without cookies')
  t.notOk(codes(diagnoseHar(har(page, { url: SEGMENT, request: asked, response: corsOk }))).includes('HAR_WITHOUT_COOKIES'), 'the twin, with them')
  const none = diagnoseHar(har({ url: `${APP}/` }, { url: 'not a url' }))
  t.same(codes(none), ['HAR_WITHOUT_COOKIES', 'NO_CLOUDFRONT_REQUEST'])
  t.equal(none.ok, true, 'warnings only')
  t.throws(() => diagnoseHar({ entries: [] }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /har: expected a HAR file/ })
  t.throws(() => diagnoseHar(null), { code: 'FST_ERR_CF_INVALID_OPTION' })
})
