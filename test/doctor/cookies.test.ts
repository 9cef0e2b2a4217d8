// The browser's side: Set-Cookie lines received from one URL, and whether a browser stores them
// and sends them to the media URL. One case per code, each with a valid twin.
import t from 'tap'
import { diagnose } from '../../src/api.js'
import { APP, codes, KEYS, MEDIA, NOW, secretsOf, setCookieLines, signer, T } from './helpers.js'

const LAX = 'Path=/courses/42/; Domain=example.com; Secure; HttpOnly; SameSite=Lax'
const HOST_ONLY = 'Path=/courses/42/; Secure; HttpOnly; SameSite=Lax'
const local = signer.signCookiesSync('http://localhost:3001/courses/42/*', { expires: T + 600 })

interface Case {
  code: string
  why: string
  lines: string[]
  from: string
  url?: string
  initiator?: string
  twin: { lines?: string[], from?: string, url?: string, initiator?: string }
  message: RegExp
}

const CASES: Case[] = [
  { code: 'COOKIE_NOT_SENT_HOST', why: 'host-only cookies of the app', lines: setCookieLines('Path=/courses/42/; Secure; HttpOnly; SameSite=Lax'), from: APP, twin: {}, message: /\(set by https:\/\/app\.example\.com, host-only for app\.example\.com, Path=\/courses\/42\/\): not sent to media\.example\.com/ },
  { code: 'COOKIE_NOT_SENT_HOST', why: 'the app opened at 127.0.0.1, the media on localhost', lines: setCookieLines(HOST_ONLY, local), from: 'http://127.0.0.1:3000/courses/42', url: 'http://localhost:3001/courses/42/seg-001.ts', twin: { from: 'http://localhost:3000/courses/42', lines: setCookieLines(HOST_ONLY, local) }, message: /not sent to localhost; cookies go only to the host that set them/ },
  { code: 'COOKIE_NOT_SENT_HOST', why: 'a Domain the app cannot set', lines: setCookieLines('Path=/courses/42/; Domain=other.com; Secure; HttpOnly; SameSite=Lax'), from: APP, twin: {}, message: /Domain=other\.com, which app\.example\.com cannot set/ },
  { code: 'COOKIE_NOT_SENT_PATH', why: 'another course\'s Path', lines: setCookieLines(LAX.replace('/42/', '/43/')), from: APP, twin: {}, message: /Path=\/courses\/43\/\): not sent to \/courses\/42\/seg-001\.ts/ },
  { code: 'COOKIE_NOT_SENT_SECURE', why: 'Secure cookies set over http', lines: setCookieLines(LAX), from: 'http://app.example.com/courses/42', twin: { from: APP }, message: /Secure, but set by http:\/\/app\.example\.com/ },
  { code: 'COOKIE_NOT_SENT_SECURE', why: 'media requested over http', lines: setCookieLines(LAX), from: APP, url: MEDIA.replace('https:', 'http:'), twin: { url: MEDIA }, message: /Secure, so not sent over http:\/\/media\.example\.com/ },
  { code: 'COOKIE_SAMESITE_CROSS_SITE', why: 'Lax cookies, the player on another site', lines: setCookieLines(LAX), from: APP, initiator: 'https://player.other.net/watch', twin: { lines: setCookieLines(LAX.replace('Lax', 'None')) }, message: /SameSite=Lax, and the request comes from another site \(https:\/\/other\.net, the media is on https:\/\/example\.com\)/ },
  { code: 'COOKIE_SAMESITE_CROSS_SITE', why: 'no SameSite (Lax by default), http and https are two sites', lines: setCookieLines('Path=/courses/42/; Domain=example.com; HttpOnly'), from: 'http://app.example.com/courses/42', twin: { from: APP, lines: setCookieLines('Path=/courses/42/; Domain=example.com; HttpOnly') }, message: /SameSite=Lax \(the default\)/ },
  { code: 'COOKIE_SAMESITE_CROSS_SITE', why: 'SameSite=None without Secure', lines: setCookieLines('Path=/courses/42/; Domain=example.com; SameSite=None'), from: APP, twin: { lines: setCookieLines('Path=/courses/42/; Domain=example.com; SameSite=None; Secure') }, message: /SameSite=None without Secure/ },
  { code: 'COOKIE_DOMAIN_CLOUDFRONT_NET', why: 'Domain=cloudfront.net', lines: setCookieLines(LAX.replace('example.com', '.cloudfront.net')), from: APP, twin: {}, message: /Domain=cloudfront\.net, which app\.example\.com cannot set; cloudfront\.net is a public suffix/ },
  { code: 'COOKIE_DOMAIN_CLOUDFRONT_NET', why: 'media on the distribution\'s cloudfront.net name', lines: setCookieLines(LAX), from: APP, url: 'https://d111111abcdef8.cloudfront.net/courses/42/seg-001.ts', twin: { url: MEDIA }, message: /not sent to d111111abcdef8\.cloudfront\.net; a cookie set by another site never reaches a \*\.cloudfront\.net host/ },
  { code: 'COOKIE_DELETED', why: 'an Expires in the past', lines: setCookieLines(`${LAX}; Expires=${new Date(NOW - 1000).toUTCString()}`), from: APP, twin: { lines: setCookieLines(`${LAX}; Expires=${new Date(NOW + 600_000).toUTCString()}`) }, message: /an expiry in the past/ },
  { code: 'COOKIE_DELETED', why: 'a sign-out\'s deletions', lines: [...setCookieLines(LAX), ...setCookieLines(`${LAX}; Max-Age=0`)], from: APP, twin: { lines: setCookieLines(`${LAX}; Max-Age=600`) }, message: /deleted by the response of https:\/\/app\.example\.com\/courses\/42/ }
]

for (const c of CASES) {
  t.test(`${c.code}: ${c.why}`, async (t) => {
    const url = c.url ?? MEDIA
    const hit = diagnose({ url, setCookies: c.lines, from: c.from, initiator: c.initiator, now: NOW, keys: KEYS })
    const f = hit.findings.find((x) => x.code === c.code)
    t.ok(f, `${c.code} is found (got ${codes(hit).join(', ')})`)
    t.equal(f?.severity, 'error')
    t.equal(hit.ok, false)
    t.match(f?.message, c.message)
    t.ok(codes(hit).includes('MISSING_COOKIES'), 'and nothing reaches CloudFront')
    const twin = diagnose({ url: c.twin.url ?? url, setCookies: c.twin.lines ?? setCookieLines(LAX), from: c.twin.from ?? c.from, initiator: c.twin.initiator ?? c.initiator, now: NOW, keys: KEYS })
    t.same(twin.findings.filter((x) => x.severity === 'error'), [], `the twin reaches CloudFront and is valid (${codes(twin).join(', ') || 'no finding'})`)
    t.notOk(secretsOf(c.lines.join('; ')).some((s) => JSON.stringify(hit).includes(s)), 'no cookie value in any finding')
  })
}

t.test('COOKIE_NOT_SENT_PATH: the cookies of another folder name the grant that is missing', async (t) => {
  const fix = (path: string, url: string): string | undefined => diagnose({ url, setCookies: setCookieLines(LAX.replace('/courses/42/', path)), from: APP, now: NOW }).findings.find((f) => f.code === 'COOKIE_NOT_SENT_PATH')?.fix
  const at = (needed: string): string => `The app did not grant ${needed} to this user (the cookie Path is the granted prefix): check its rules and authorize (authorize must return true for ${needed}), or call grant('${needed}') before the player requests it.`
  t.equal(fix('/courses/43/', MEDIA), at('/courses/42/'), 'course 43\'s cookies, a segment of course 42')
  t.equal(fix('/courses/43/', 'https://media.example.com/courses/42/720p/seg-001.ts'), at('/courses/42/'), 'as deep as the granted prefix')
  t.equal(fix('/courses/42/720p/', 'https://media.example.com/courses/42/index.m3u8'), at('/courses/42/'), 'a rendition\'s grant, the master playlist above it')
  t.equal(fix('/courses/42', 'https://media.example.com/courses/421/seg.ts'), at('/courses/421/'), 'a Path without its slash')
  t.equal(fix('/courses/42/', MEDIA), undefined, 'the twin: the folder granted')
})

t.test('one finding names the whole set', async (t) => {
  const r = diagnose({ url: MEDIA, setCookies: setCookieLines('Path=/courses/42/; Secure; SameSite=Lax'), from: APP, now: NOW })
  t.match(r.findings[0]?.message, /^CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id \(set by/)
  t.equal(r.findings.filter((f) => f.code === 'COOKIE_NOT_SENT_HOST').length, 1)
})

t.test('Set-Cookie lines as the CLI prints them, other cookies ignored, a default Path', async (t) => {
  const lines = setCookieLines('Domain=example.com; Secure; SameSite=Lax').map((l) => `Set-Cookie: ${l}`)
  // No Path: the default is the directory of the URL that set it.
  const r = diagnose({ url: MEDIA, setCookies: [...lines, 'session=1; Path=/', 'garbage'], from: 'https://app.example.com/courses/42/page', now: NOW, keys: KEYS })
  t.same(r, { ok: true, findings: [] }, 'stored for /courses/42, sent to /courses/42/seg-001.ts')
  const elsewhere = diagnose({ url: MEDIA, setCookies: lines, from: 'https://app.example.com/account/page', now: NOW })
  t.match(elsewhere.findings[0], { code: 'COOKIE_NOT_SENT_PATH', message: /Path=\/account\)/ })
  const both = diagnose({ url: MEDIA, setCookies: setCookieLines(LAX), from: APP, cookieHeader: 'theme=dark', now: NOW, keys: KEYS })
  t.ok(both.ok, 'a --cookie header and Set-Cookie lines together')
})

t.test('a Max-Age wins over Expires; a bad date is a session cookie', async (t) => {
  const past = new Date(NOW - 1000).toUTCString()
  t.ok(diagnose({ url: MEDIA, setCookies: setCookieLines(`${LAX}; Expires=${past}; Max-Age=60`), from: APP, now: NOW, keys: KEYS }).ok)
  t.ok(diagnose({ url: MEDIA, setCookies: setCookieLines(`${LAX}; Expires=someday`), from: APP, now: NOW, keys: KEYS }).ok)
})
