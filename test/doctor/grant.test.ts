// One doctor code per case, on what reaches CloudFront: the exact input that triggers it and a
// valid twin that differs in that one respect and does not.
import t from 'tap'
import { createSigner, diagnose, type DoctorInput } from '../../src/api.js'
import { cannedPolicy, customPolicy } from '../../src/core/policy.js'
import { encodeBase64 } from '../../src/core/encoding.js'
import { rsaKey, rsaKey2 } from '../helpers/keys.js'
import { codes, header, KEYS, MEDIA, NOW, PREFIX, run, secretsOf, signer, T, validHeader } from './helpers.js'

const valid = validHeader()
const sha256 = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem, hashAlgorithm: 'SHA256' })
const other = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey2.privatePem })
const canned = (resource: string): string => header({
  'CloudFront-Expires': String(T + 600),
  'CloudFront-Signature': signer.signPolicySync(cannedPolicy(resource, T + 600)),
  'CloudFront-Key-Pair-Id': rsaKey.keyPairId
})
const policyCookie = (json: string): string => header({ 'CloudFront-Policy': encodeBase64(json), 'CloudFront-Signature': signer.signPolicySync(json), 'CloudFront-Key-Pair-Id': rsaKey.keyPairId })
const withPolicy = (statement: Parameters<typeof customPolicy>[0]): string => policyCookie(customPolicy(statement))
const replace = (h: string, name: string, value: string | null): string => h.split('; ').flatMap((c) => c.startsWith(`${name}=`) ? (value === null ? [] : [`${name}=${value}`]) : [c]).join('; ')
const signature = /CloudFront-Signature=([^;]+)/.exec(valid)?.[1] as string

interface Case {
  code: string
  why: string
  trigger: Partial<DoctorInput>
  twin: Partial<DoctorInput>
  message?: RegExp
  severity?: string
}

const CASES: Case[] = [
  { code: 'MISSING_COOKIES', why: 'no CloudFront cookie at all', trigger: { cookieHeader: 'session=abc' }, twin: { cookieHeader: `session=abc; ${valid}` }, message: /no CloudFront-\* cookie is sent to media\.example\.com\/courses\/42\/seg-001\.ts/ },
  { code: 'MISSING_COOKIES', why: 'a set without its Key-Pair-Id', trigger: { cookieHeader: replace(valid, 'CloudFront-Key-Pair-Id', null) }, twin: { cookieHeader: valid }, message: /the cookie set lacks CloudFront-Key-Pair-Id/ },
  { code: 'DUPLICATE_COOKIES', why: 'two different signatures', trigger: { cookieHeader: `${valid}; CloudFront-Signature=${other.signPolicySync('x')}` }, twin: { cookieHeader: valid }, message: /2 CloudFront-Signature cookies with different values/, severity: 'error' },
  { code: 'DUPLICATE_COOKIES', why: 'the same set twice', trigger: { cookieHeader: `${valid}; ${valid}` }, twin: { cookieHeader: valid }, severity: 'warning' },
  { code: 'URL_PARAMS_OVERRIDE_COOKIES', why: 'signing parameters in the media URL', trigger: { url: `${MEDIA}?Expires=${T + 600}&Key-Pair-Id=${rsaKey.keyPairId}`, cookieHeader: valid }, twin: { url: `${MEDIA}?v=2`, cookieHeader: valid } },
  { code: 'MALFORMED_POLICY', why: 'a Policy that is not Base64', trigger: { cookieHeader: replace(valid, 'CloudFront-Policy', 'eyJ!') }, twin: { cookieHeader: valid }, message: /not CloudFront's URL-safe Base64/ },
  { code: 'MALFORMED_POLICY', why: 'two statements', trigger: { cookieHeader: policyCookie(`{"Statement":[${customPolicy({ resource: PREFIX, expires: T + 600 }).slice(14, -2)},{}]}`) }, twin: { cookieHeader: valid }, message: /exactly one Statement/ },
  { code: 'MALFORMED_POLICY', why: 'Policy and Expires together', trigger: { cookieHeader: `${valid}; CloudFront-Expires=${T + 600}` }, twin: { cookieHeader: valid }, message: /both a Policy and an Expires/ },
  { code: 'MALFORMED_SIGNATURE', why: 'standard Base64', trigger: { cookieHeader: replace(valid, 'CloudFront-Signature', signature.replace(/-/g, '+').replace(/~/g, '/').replace(/_/g, '=')) }, twin: { cookieHeader: valid }, message: /standard Base64 \(\+ \/ =\)/ },
  { code: 'MALFORMED_SIGNATURE', why: 'percent-encoded', trigger: { cookieHeader: replace(valid, 'CloudFront-Signature', encodeURIComponent('/' + signature.slice(1).replace(/~/g, '/'))) }, twin: { cookieHeader: valid } },
  { code: 'EXPIRES_IN_MILLISECONDS', why: 'a canned Expires in ms', trigger: { cookieHeader: replace(canned(MEDIA), 'CloudFront-Expires', String((T + 600) * 1000)) }, twin: { cookieHeader: canned(MEDIA) }, message: /Expires is 1900000600000: that is milliseconds/ },
  { code: 'EXPIRES_IN_MILLISECONDS', why: 'a policy DateLessThan in ms', trigger: { cookieHeader: policyCookie(customPolicy({ resource: PREFIX, expires: (T + 600) * 1000 })) }, twin: { cookieHeader: withPolicy({ resource: PREFIX, expires: T + 600 }) } },
  { code: 'EXPIRED', why: 'judged after DateLessThan', trigger: { cookieHeader: valid, now: NOW + 600_000 }, twin: { cookieHeader: valid, now: NOW + 599_000 }, message: /expired at 2030-03-17T17:56:40\.000Z \(now\)/ },
  { code: 'NOT_YET_VALID', why: 'DateGreaterThan ahead of now', trigger: { cookieHeader: validHeader({ notBefore: T + 30 }) }, twin: { cookieHeader: validHeader({ notBefore: T - 30 }) }, message: /valid only after 2030-03-17T17:47:10\.000Z \(in 30 s\)/ },
  { code: 'CANNED_POLICY_FOR_PREFIX', why: 'a canned set signed for the folder', trigger: { cookieHeader: canned(PREFIX) }, twin: { cookieHeader: valid }, message: /signed as a canned policy for https:\/\/media\.example\.com\/courses\/42\/\*/, severity: 'error' },
  { code: 'CANNED_POLICY_FOR_PREFIX', why: 'a canned set, without a key to tell what it was signed for', trigger: { cookieHeader: canned(PREFIX), keys: undefined }, twin: { cookieHeader: valid, keys: undefined }, severity: 'error' },
  { code: 'RESOURCE_MISMATCH', why: 'another folder', trigger: { url: MEDIA.replace('/42/', '/43/'), cookieHeader: valid }, twin: { cookieHeader: valid }, message: /path: the Resource https:\/\/media\.example\.com\/courses\/42\/\* does not cover \/courses\/43\/seg-001\.ts/ },
  { code: 'RESOURCE_MISMATCH', why: 'the scheme', trigger: { url: MEDIA.replace('https:', 'http:'), cookieHeader: valid }, twin: { url: MEDIA.replace('https:', 'http:'), cookieHeader: withPolicy({ resource: '*://media.example.com/courses/42/*', expires: T + 600 }) }, message: /scheme: the Resource is for https:\/\/ and the request is http:\/\// },
  { code: 'RESOURCE_MISMATCH', why: 'the host', trigger: { url: 'https://d111111abcdef8.cloudfront.net/courses/42/seg-001.ts', cookieHeader: valid }, twin: { cookieHeader: valid }, message: /host: the Resource is for media\.example\.com and the request went to d111111abcdef8\.cloudfront\.net/ },
  { code: 'RESOURCE_MISMATCH', why: 'letter case in the path', trigger: { cookieHeader: withPolicy({ resource: 'https://media.example.com/Courses/42/*', expires: T + 600 }) }, twin: { cookieHeader: withPolicy({ resource: 'https://MEDIA.example.com/courses/42/*', expires: T + 600 }) }, message: /letter case: the Resource path "…\/Course…" where the request has "…\/course…" \(paths are compared case-sensitively\)/ },
  { code: 'RESOURCE_MISMATCH', why: 'percent-encoding', trigger: { url: "https://media.example.com/courses/it's/seg.ts", cookieHeader: withPolicy({ resource: 'https://media.example.com/courses/it%27s/*', expires: T + 600 }) }, twin: { url: 'https://media.example.com/courses/it%27s/seg.ts', cookieHeader: withPolicy({ resource: 'https://media.example.com/courses/it%27s/*', expires: T + 600 }) }, message: /encoding: the Resource has "…urses\/it%27s\/\*…" where the request has "…urses\/it's\/seg…"/ },
  { code: 'RESOURCE_MISMATCH', why: 'a query string on an exact Resource', trigger: { url: `${MEDIA}?v=2`, cookieHeader: withPolicy({ resource: MEDIA, expires: T + 600 }) }, twin: { cookieHeader: withPolicy({ resource: MEDIA, expires: T + 600 }) }, message: /query string: the request has \?v=2 and the Resource, without a trailing \*, allows none/ },
  { code: 'RESOURCE_MISMATCH', why: 'a folder without its wildcard', trigger: { cookieHeader: withPolicy({ resource: 'https://media.example.com/courses/42/', expires: T + 600 }) }, twin: { cookieHeader: valid }, message: /no wildcard: the Resource is the one URL https:\/\/media\.example\.com\/courses\/42\/; a folder needs a trailing \/\*/ },
  { code: 'RESOURCE_MISMATCH', why: 'a signed URL with capitals in its host', trigger: { url: signer.signUrlSync('https://Media.Example.com/courses/42/seg-001.ts', { expires: T + 600 }) }, twin: { url: signer.signUrlSync(MEDIA, { expires: T + 600 }) }, message: /host case: the signature is for Media\.Example\.com, and a browser sends the host in lower case \(media\.example\.com\)/ },
  { code: 'RESOURCE_MISMATCH', why: 'a signed URL with capitals in its host, without a key', trigger: { url: signer.signUrlSync('https://Media.Example.com/courses/42/seg-001.ts', { expires: T + 600 }), keys: undefined }, twin: { url: signer.signUrlSync(MEDIA, { expires: T + 600 }), keys: undefined }, severity: 'warning' },
  { code: 'RESOURCE_MISMATCH', why: 'a canned signed URL requested over the other scheme', trigger: { url: signer.signUrlSync(MEDIA, { expires: T + 600 }).replace('https:', 'http:') }, twin: { url: signer.signUrlSync(MEDIA.replace('https:', 'http:'), { expires: T + 600 }) }, message: /scheme: the signature is for https:\/\/ and the request is http:\/\// },
  { code: 'RESOURCE_MISMATCH', why: 'a canned signed URL signed decoded', trigger: { url: `https://media.example.com/courses/it%27s/seg.ts?Expires=${T + 600}&Signature=${signer.signPolicySync(cannedPolicy("https://media.example.com/courses/it's/seg.ts", T + 600))}&Key-Pair-Id=${rsaKey.keyPairId}` }, twin: { url: signer.signUrlSync('https://media.example.com/courses/it%27s/seg.ts', { expires: T + 600 }) }, message: /encoding: the signature is for \/courses\/it's\/seg\.ts, and the request sends \/courses\/it%27s\/seg\.ts/ },
  { code: 'IP_MISMATCH', why: 'another address', trigger: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }), clientIp: '198.51.100.7' }, twin: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }), clientIp: '203.0.113.7' }, message: /bound to 203\.0\.113\.0\/24 and the viewer's address is 198\.51\.100\.7/ },
  { code: 'IP_NOT_CHECKED', why: 'an IP-bound grant without an address to compare', trigger: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }) }, twin: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }), clientIp: '203.0.113.7' }, severity: 'warning' },
  { code: 'IPV6_CLIENT', why: 'an IPv6 viewer on an IP-bound grant', trigger: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }), clientIp: '2001:db8::7' }, twin: { cookieHeader: validHeader({ ipAddress: '203.0.113.0/24' }), clientIp: '::ffff:203.0.113.7' } },
  { code: 'UNKNOWN_KEY', why: 'a key ID not among the keys', trigger: { cookieHeader: valid, keys: { [rsaKey2.keyPairId]: rsaKey2.publicPem } }, twin: { cookieHeader: valid }, message: new RegExp(`the Key-Pair-Id ${rsaKey.keyPairId} is not among the keys given \\(${rsaKey2.keyPairId}\\)`) },
  { code: 'UNKNOWN_KEY', why: 'a key ID with a space', trigger: { cookieHeader: replace(valid, 'CloudFront-Key-Pair-Id', `${rsaKey.keyPairId} x`) }, twin: { cookieHeader: valid } },
  { code: 'SIGNATURE_INVALID', why: 'a signature over another policy', trigger: { cookieHeader: replace(valid, 'CloudFront-Signature', signer.signPolicySync('{}')) }, twin: { cookieHeader: valid }, message: /does not match the policy and key/ },
  { code: 'SIGNATURE_INVALID', why: 'signed by another key than its ID says', trigger: { cookieHeader: header(other.signCookiesSync(PREFIX, { expires: T + 600 })), keys: { ...KEYS, [rsaKey2.keyPairId]: rsaKey2.publicPem } }, twin: { cookieHeader: valid, keys: { ...KEYS, [rsaKey2.keyPairId]: rsaKey2.publicPem } }, message: new RegExp(`made with key ${rsaKey2.keyPairId}, and the Key-Pair-Id says ${rsaKey.keyPairId}`) },
  { code: 'HASH_ALGORITHM', why: 'a lower-case marker', trigger: { cookieHeader: `${header(sha256.signCookiesSync(PREFIX, { expires: T + 600 }))}`.replace('=SHA256', '=sha256') }, twin: { cookieHeader: header(sha256.signCookiesSync(PREFIX, { expires: T + 600 })) } },
  { code: 'HASH_ALGORITHM', why: 'an unknown marker', trigger: { cookieHeader: `${valid}; CloudFront-Hash-Algorithm=SHA-1` }, twin: { cookieHeader: `${valid}; CloudFront-Hash-Algorithm=SHA1` } },
  { code: 'HASH_ALGORITHM', why: 'a SHA-256 signature without the marker', trigger: { cookieHeader: replace(header(sha256.signCookiesSync(PREFIX, { expires: T + 600 })), 'CloudFront-Hash-Algorithm', null) }, twin: { cookieHeader: header(sha256.signCookiesSync(PREFIX, { expires: T + 600 })) }, message: /the signature is SHA-256 and the request announces SHA-1 \(no Hash-Algorithm\)/ },
  { code: 'POLICY_WITHOUT_RESOURCE', why: 'a policy that opens everything', trigger: { cookieHeader: policyCookie(`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":${T + 600}}}}]}`) }, twin: { cookieHeader: valid }, severity: 'warning' },
  { code: 'SIGNATURE_NOT_CHECKED', why: 'no key given', trigger: { cookieHeader: valid, keys: undefined }, twin: { cookieHeader: valid }, severity: 'info' }
]

for (const c of CASES) {
  t.test(`${c.code}: ${c.why}`, async (t) => {
    const hit = run(c.trigger)
    const f = hit.findings.find((x) => x.code === c.code)
    t.ok(f, `${c.code} is found (got ${codes(hit).join(', ')})`)
    const severity = c.severity ?? 'error'
    t.equal(f?.severity, severity, severity)
    if (severity === 'error') t.equal(hit.ok, false, 'not ok')
    if (c.message) t.match(f?.message, c.message)
    t.ok((f?.fix.length ?? 0) > 20, 'says what to change')
    const twin = run(c.twin)
    t.notOk(codes(twin).includes(c.code), `the twin has no ${c.code} (${codes(twin).join(', ') || 'no finding'})`)
    t.ok(twin.ok, 'the twin is ok')
    const secrets = secretsOf(c.trigger.cookieHeader ?? '', c.trigger.url ?? '', c.twin.cookieHeader ?? '')
    for (const m of `${c.trigger.url ?? ''}`.matchAll(/Signature=([^&]+)/g)) secrets.push((m[1] as string).slice(0, 16))
    const printed = JSON.stringify([hit, twin])
    t.notOk(secrets.some((s) => printed.includes(s)), 'no cookie value or signature in any finding')
  })
}

t.test('a valid set with its key: no finding at all', async (t) => {
  t.same(run({ cookieHeader: valid }), { ok: true, findings: [] })
})

t.test('bad input is a coded error, never a finding', async (t) => {
  t.throws(() => diagnose({ url: '/courses/42/seg.ts' }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /url: expected an absolute http/ })
  t.throws(() => diagnose({ url: 'ftp://media.example.com/x' }), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => diagnose({ url: MEDIA, setCookies: ['CloudFront-Policy=x'] }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /from: expected/ })
  t.throws(() => diagnose({ url: MEDIA, now: Number.NaN }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /now/ })
  t.throws(() => diagnose({ url: MEDIA, keys: { K: 'not a key' } }), { code: 'FST_ERR_CF_INVALID_KEY' })
})

t.test('a signed URL is judged like cookies', async (t) => {
  const url = signer.signUrlSync(MEDIA, { expires: T + 600 })
  t.same(run({ url }), { ok: true, findings: [] }, 'a valid canned signed URL')
  t.match(codes(run({ url: url.replace(/&Key-Pair-Id=[^&]+/, '') })), ['MALFORMED_SIGNATURE'], 'without its Key-Pair-Id')
  t.match(codes(run({ url: `${url}&Signature=x` })), ['MALFORMED_SIGNATURE'], 'a repeated parameter')
  t.match(codes(run({ url: url.replace(/Expires=\d+/, 'Expires=soon') })), ['MALFORMED_POLICY'], 'an Expires that is not a number')
})

t.test('the cause named for a few more mismatches', async (t) => {
  const message = (url: string, resource: string): string => run({ url, cookieHeader: withPolicy({ resource, expires: T + 600 }) }).findings[0]?.message ?? ''
  t.match(message(`${MEDIA}?v=2`, `${MEDIA}?v=1`), /query string: the Resource wants \?v=1 and the request has \?v=2/)
  t.match(message(MEDIA, `${MEDIA}?v=1`), /query string: the Resource wants \?v=1 and the request has none/)
  t.match(message('https://media.example.com/courses/%E0%A4/seg.ts', 'https://media.example.com/courses/%E0%A5/*'), /path: the Resource/, 'bad percent-encoding is compared raw')
  t.match(run({ cookieHeader: canned(PREFIX), keys: { [rsaKey2.keyPairId]: rsaKey2.publicPem } }).findings, [{ code: 'UNKNOWN_KEY' }, { code: 'CANNED_POLICY_FOR_PREFIX', severity: 'error' }], 'a canned set whose key is unknown')
  t.match(run({ cookieHeader: canned(MEDIA) }).findings, [{ code: 'CANNED_POLICY_FOR_PREFIX', severity: 'warning', message: /signed for exactly this URL/ }], 'a canned set for this one URL')
})

t.test('another folder\'s grant: the advice names the missing grant, not the signing', async (t) => {
  const SIGN = /^Sign the Resource as the browser requests the media/
  for (const [url, needed] of [['https://media.example.com/courses/43/seg-001.ts', '/courses/43/'], ['https://media.example.com/courses/43/720p/seg-001.ts', '/courses/43/'], ['https://media.example.com/intro.ts', '/']] as Array<[string, string]>) {
    const f = run({ url, cookieHeader: valid }).findings
    t.same(codes({ ok: false, findings: f }), ['RESOURCE_MISMATCH'], url)
    t.match(f[0]?.message, new RegExp(`: these cookies grant /courses/42/\\*, and the request is under ${needed.replace(/\//g, '\\/')}$`), `${url}: the granted folder and the one needed`)
    t.equal(f[0]?.fix, `The app did not grant ${needed} to this user: check its rules and authorize (authorize must return true for ${needed}), or call grant('${needed}') before the player requests it. The signing is not the cause.`)
  }
  const url = signer.signUrlSync(MEDIA, { resource: PREFIX, expires: T + 600 }).replace('/42/', '/43/')
  t.match(run({ url }).findings, [{ code: 'RESOURCE_MISMATCH', message: /this signed URL grants \/courses\/42\/\*, and the request is under \/courses\/43\//, fix: /did not grant \/courses\/43\/ to this user/ }], 'a signed URL for another folder')
  // The twins: a folder grant wrong in its signing keeps the signing advice.
  const twins: Array<[string, string, string]> = [
    ['the scheme', 'http://media.example.com/courses/42/seg-001.ts', PREFIX],
    ['the host', 'https://d111111abcdef8.cloudfront.net/courses/42/seg-001.ts', PREFIX],
    ['letter case', MEDIA, 'https://media.example.com/Courses/42/*'],
    ['encoding', "https://media.example.com/courses/it's/seg.ts", 'https://media.example.com/courses/it%27s/*'],
    ['no wildcard', MEDIA, 'https://media.example.com/courses/42/'],
    ['a wildcard inside the path', 'https://media.example.com/courses/43/seg-001.ts', 'https://media.example.com/courses/4*/720p/*']
  ]
  for (const [why, twinUrl, resource] of twins) {
    const f = run({ url: twinUrl, cookieHeader: withPolicy({ resource, expires: T + 600 }) }).findings.find((x) => x.code === 'RESOURCE_MISMATCH')
    t.match(f?.fix, SIGN, `${why}: the signing is the cause`)
    t.notMatch(f?.message, /these cookies grant/, `${why}: no folder named`)
  }
})

t.test('times in words', async (t) => {
  const at = (now: number): string => run({ cookieHeader: valid, now }).findings[0]?.message ?? ''
  t.match(at(NOW + 3 * 3600_000), /\(3 h ago\)/)
  t.match(at(NOW + 5 * 86400_000), /\(5 days ago\)/)
  t.match(at(NOW + 700_000), /\(100 s ago\)/)
})
