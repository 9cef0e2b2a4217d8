// HARs of long sessions: 20,000 entries (over 6 MB), what an hour of HLS playback with renewals
// records. The doctor reads them in one pass (a run bounded by the test's timeout), judges
// requests refused for the same reason once, and says each cause once.
import t from 'tap'
import { diagnoseHar, type DoctorReport } from '../../src/api.js'
import { NOW, PREFIX, setCookieLines, signer, T } from './helpers.js'

const APP = 'http://app.example.com'
const CDN = 'https://media.example.com'
const SECURE = 'Path=/courses/42/; Domain=example.com; Secure; HttpOnly; SameSite=Lax'
// Signed once: every renewal sets the same values.
const SET = signer.signCookiesSync(PREFIX, { expires: T + 600 })
const MISSING_KEY = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>'

interface Session {
  entries: number
  renewEvery: number
  /** The attributes of the set the app sends with the i-th entry. */
  attributes?: (i: number) => string
  /** The Cookie header of the i-th request to the CDN. */
  cookie?: (i: number) => string
}

/**
 * The app runs over plain http and sets Secure cookies, so the browser refuses each set it receives
 * (its progress reports renew them every `renewEvery` entries); every segment request is refused
 * with MissingKey, carrying an app cookie that changes on each request.
 */
function session ({ entries, renewEvery, attributes = () => SECURE, cookie = (i) => `_ga=GA1.2.${i}` }: Session): object {
  const out: object[] = []
  for (let i = 0; i < entries; i++) {
    const startedDateTime = new Date(NOW + i * 200).toISOString()
    if (i % renewEvery === 0) {
      const response = setCookieLines(attributes(i), SET).map((value) => ({ name: 'set-cookie', value }))
      out.push({ startedDateTime, request: { method: 'POST', url: `${APP}/courses/42/progress`, headers: [] }, response: { status: 200, headers: response, content: { size: 0 } } })
    } else {
      const request = [{ name: 'Origin', value: APP }, { name: 'Cookie', value: cookie(i) }]
      const response = [{ name: 'x-cache', value: 'Error from cloudfront' }, { name: 'access-control-allow-origin', value: APP }, { name: 'access-control-allow-credentials', value: 'true' }]
      out.push({ startedDateTime, request: { method: 'GET', url: `${CDN}/courses/42/720p/seg-${i}.ts`, headers: request }, response: { status: 403, headers: response, content: { text: MISSING_KEY, mimeType: 'text/xml' } } })
    }
  }
  return { log: { version: '1.2', entries: out } }
}

function count (r: DoctorReport, code: string): number {
  return r.findings.filter((f) => f.code === code).length
}

t.test('20,000 entries: the refusals are judged once, the refused set told once', async (t) => {
  const har = session({ entries: 20_000, renewEvery: 10 })
  t.ok(JSON.stringify(har).length > 6_000_000, 'a HAR of several megabytes')
  const r = diagnoseHar(har)
  t.same(r.findings.map((f) => f.code), ['CLOUDFRONT_MISSING_KEY', 'COOKIE_NOT_SENT_SECURE', 'MISSING_COOKIES'], 'the app cookie that changes makes no new case')
  t.match(r.findings[1]?.message, /^CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id: Secure, but set by http:\/\/app\.example\.com/)
})

t.test('20,000 entries where every refusal is a case of its own, and every set refused for a cause of its own', async (t) => {
  // A HAR no browser writes, so that nothing is judged once: each request carries another lone
  // Key-Pair-Id (a set without its Policy and Signature), each set names a Domain of its own.
  const har = session({ entries: 20_000, renewEvery: 2, attributes: (i) => `Path=/courses/42/; Domain=other-${i}.example; SameSite=Lax`, cookie: (i) => `CloudFront-Key-Pair-Id=K${i}` })
  const r = diagnoseHar(har)
  t.equal(count(r, 'CLOUDFRONT_MISSING_KEY'), 10_000, 'each refused request judged')
  t.equal(count(r, 'MISSING_COOKIES'), 1, 'the same lack, once')
  t.equal(count(r, 'COOKIE_NOT_SENT_HOST'), 10_000, 'each refused set, once')
  t.match(r.findings.find((f) => f.code === 'COOKIE_NOT_SENT_HOST')?.message, /^CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id: Domain=other-0\.example, which app\.example\.com cannot set/)
})

t.test('the twins: cases that differ in their CloudFront cookies are judged apart, and a cause met late is told', async (t) => {
  const apart = diagnoseHar(session({ entries: 3, renewEvery: 10, cookie: (i) => `CloudFront-Key-Pair-Id=K${i}` }))
  t.equal(count(apart, 'CLOUDFRONT_MISSING_KEY'), 2)
  // Halfway through, the app starts setting Domain=cloudfront.net: a second cause, after the first was told.
  const late = diagnoseHar(session({ entries: 2_000, renewEvery: 10, attributes: (i) => i < 1_000 ? SECURE : 'Path=/courses/42/; Domain=d111.cloudfront.net; SameSite=Lax', cookie: (i) => `CloudFront-Key-Pair-Id=K${i}` }))
  t.equal(count(late, 'COOKIE_NOT_SENT_SECURE'), 1)
  t.equal(count(late, 'COOKIE_DOMAIN_CLOUDFRONT_NET'), 1, 'the later cause is told')
  const codes = late.findings.map((f) => f.code)
  t.ok(codes.indexOf('COOKIE_NOT_SENT_SECURE') < codes.indexOf('COOKIE_DOMAIN_CLOUDFRONT_NET'), 'in the order met')
})
