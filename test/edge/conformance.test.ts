// Conformance of the local edge with CloudFront, over real HTTP on loopback: each row is a
// request and the status and error code CloudFront answers it with.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSigner, type CloudFrontCookies } from '../../src/core/signer.js'
import { encodeBase64, decodeBase64 } from '../../src/core/encoding.js'
import { createEdgeServer, EDGE_REASON_HEADER } from '../../src/edge/index.js'
import { cookieHeader, ecKeys, errorCode, listen, rawGet, rsaKeys, tempDir } from './helpers.js'

const HOST = 'media.example.test'
const BASE = `https://${HOST}`
const T0 = 1_900_000_000
const E = T0 + 3600
const N = T0 + 600

const rsa = rsaKeys()
const rsa2 = rsaKeys()
const ec = ecKeys()
let clock = T0 * 1000
const now = (): number => clock

const signer = createSigner({ keyPairId: 'KRSA', privateKey: rsa.privateKey, now })
const sha256Signer = createSigner({ keyPairId: 'KRSA', privateKey: rsa.privateKey, hashAlgorithm: 'SHA256', now })
const ecSigner = createSigner({ keyPairId: 'KEC', privateKey: ec.privateKey, now })
const ecSha256Signer = createSigner({ keyPairId: 'KEC', privateKey: ec.privateKey, hashAlgorithm: 'SHA256', now })
// Valid signatures under the wrong name: another trusted key, an unknown key, a key trusted elsewhere.
const wrongIdSigner = createSigner({ keyPairId: 'KRSA2', privateKey: rsa.privateKey, now })
const unknownSigner = createSigner({ keyPairId: 'KNOPE', privateKey: rsa.privateKey, now })
const otherSigner = createSigner({ keyPairId: 'KOTHER', privateKey: rsa.privateKey, now })

const path = (signedUrl: string): string => signedUrl.slice(BASE.length)
const jar = (c: CloudFrontCookies | Record<string, string>): string => cookieHeader(c as Record<string, string>)

const course42 = signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E })
const courses = signer.signCookiesSync(`${BASE}/courses/*`, { expires: E })
const widenedPolicy = decodeBase64(course42['CloudFront-Policy'] as string)?.toString('utf8').replace('/courses/42/*', '/courses/*') as string
const sig = course42['CloudFront-Signature']
const twoStatements = `{"Statement":[{"Resource":"${BASE}/courses/42/*","Condition":{"DateLessThan":{"AWS:EpochTime":${E}}}},` +
  `{"Resource":"${BASE}/courses/43/*","Condition":{"DateLessThan":{"AWS:EpochTime":${E}}}}]}`
const cannedUrl = signer.signUrlSync(`${BASE}/courses/42/seg1.ts`, { expires: E })
const sha256Url = sha256Signer.signUrlSync(`${BASE}/courses/42/seg1.ts`, { expires: E })

interface Row {
  name: string
  path: string
  cookie?: string
  host?: string
  server?: 'v4' | 'mapped' | 'v6'
  nowMs?: number
  status: number
  code?: string
  body?: string
}

const SEG42 = 'segment 1 of course 42'
const rows: Row[] = [
  // Signed URLs and signed cookies that CloudFront accepts.
  { name: 'valid signed URL, canned policy', path: path(cannedUrl), status: 200, body: SEG42 },
  { name: 'valid signed URL, custom policy with a wildcard resource', path: path(signer.signUrlSync(`${BASE}/courses/42/seg1.ts`, { resource: `${BASE}/courses/42/*`, expires: E })), status: 200, body: SEG42 },
  { name: 'valid signed cookies, custom policy for a prefix', path: '/courses/42/seg1.ts', cookie: jar(course42), status: 200, body: SEG42 },
  { name: 'valid signed cookies also cover a query string under a trailing *', path: '/courses/42/seg1.ts?v=3', cookie: jar(course42), status: 200, body: SEG42 },
  { name: 'valid canned cookies open their one URL', path: '/courses/42/index.m3u8', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/index.m3u8`, { expires: E })), status: 200, body: '#EXTM3U' },
  { name: 'canned cookies do not open another URL', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/index.m3u8`, { expires: E })), status: 403, code: 'AccessDenied' },
  { name: 'public behaviour needs no signature', path: '/public/hello.txt', status: 200, body: 'hello' },
  { name: 'no signature at all', path: '/courses/42/seg1.ts', status: 403, code: 'MissingKey' },

  // Time.
  { name: 'expired', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: T0 + 60 })), nowMs: (T0 + 120) * 1000, status: 403, code: 'AccessDenied' },
  { name: 'not yet valid', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, notBefore: N })), status: 403, code: 'AccessDenied' },
  { name: 'boundary: last millisecond before DateLessThan', path: '/courses/42/seg1.ts', cookie: jar(course42), nowMs: E * 1000 - 1, status: 200, body: SEG42 },
  { name: 'boundary: at DateLessThan', path: '/courses/42/seg1.ts', cookie: jar(course42), nowMs: E * 1000, status: 403, code: 'AccessDenied' },
  { name: 'boundary: canned URL at its Expires second', path: path(cannedUrl), nowMs: E * 1000 + 500, status: 403, code: 'AccessDenied' },
  { name: 'boundary: within the DateGreaterThan second', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, notBefore: N })), nowMs: N * 1000 + 999, status: 403, code: 'AccessDenied' },
  { name: 'boundary: one second after DateGreaterThan', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, notBefore: N })), nowMs: (N + 1) * 1000, status: 200, body: SEG42 },
  { name: 'Expires in milliseconds', path: `/courses/42/seg1.ts?Expires=${E}000&Signature=${sig}&Key-Pair-Id=KRSA`, status: 403, code: 'MalformedPolicy' },

  // Keys.
  { name: 'wrong key id (another trusted key)', path: '/courses/42/seg1.ts', cookie: jar(wrongIdSigner.signCookiesSync(`${BASE}/courses/42/*`, { expires: E })), status: 403, code: 'AccessDenied' },
  { name: 'unknown key', path: '/courses/42/seg1.ts', cookie: jar(unknownSigner.signCookiesSync(`${BASE}/courses/42/*`, { expires: E })), status: 403, code: 'InvalidKey' },
  { name: 'key trusted only by another behaviour', path: '/courses/42/seg1.ts', cookie: jar(otherSigner.signCookiesSync(`${BASE}/*`, { expires: E })), status: 403, code: 'InvalidKey' },
  { name: 'the same key on the behaviour that trusts it', path: '/other/x.txt', cookie: jar(otherSigner.signCookiesSync(`${BASE}/*`, { expires: E })), status: 200, body: 'other' },

  // Tampering and malformed values.
  { name: 'tampered policy (resource widened)', path: '/courses/43/seg1.ts', cookie: jar({ ...course42, 'CloudFront-Policy': encodeBase64(widenedPolicy) }), status: 403, code: 'AccessDenied' },
  { name: 'policy that is not CloudFront Base64', path: '/courses/42/seg1.ts', cookie: jar({ ...course42, 'CloudFront-Policy': 'eyJ!' }), status: 403, code: 'MalformedPolicy' },
  { name: 'tampered signature', path: '/courses/42/seg1.ts', cookie: jar({ ...course42, 'CloudFront-Signature': (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) }), status: 403, code: 'AccessDenied' },
  { name: 'signature that is not CloudFront Base64', path: '/courses/42/seg1.ts', cookie: jar({ ...course42, 'CloudFront-Signature': 'not+base64/' }), status: 403, code: 'MalformedSignature' },
  { name: 'two statements, correctly signed', path: '/courses/42/seg1.ts', cookie: jar({ 'CloudFront-Policy': encodeBase64(twoStatements), 'CloudFront-Signature': signer.signPolicySync(twoStatements), 'CloudFront-Key-Pair-Id': 'KRSA' }), status: 403, code: 'MalformedPolicy' },

  // Resources.
  { name: 'wrong resource', path: '/courses/43/seg1.ts', cookie: jar(course42), status: 403, code: 'AccessDenied' },
  { name: 'sibling prefix (/courses/421/ under a /courses/42/* grant)', path: '/courses/421/seg1.ts', cookie: jar(course42), status: 403, code: 'AccessDenied' },
  { name: 'host is case-insensitive', path: '/courses/42/seg1.ts', cookie: jar(course42), host: 'MEDIA.Example.TEST', status: 200, body: SEG42 },
  { name: 'path is case-sensitive', path: '/COURSES/42/seg1.ts', cookie: jar(course42), status: 403, code: 'AccessDenied' },
  { name: 'percent-encoded file name signed as sent', path: path(signer.signUrlSync(`${BASE}/courses/42/a%20b.ts`, { expires: E })), status: 200, body: 'a b' },
  { name: 'percent-encoded traversal into the grant is compared raw', path: '/courses/43/%2e%2e/42/seg1.ts', cookie: jar(course42), status: 403, code: 'AccessDenied' },
  { name: 'percent-encoded traversal out of the grant never reaches the origin', path: '/courses/42/%2e%2e/43/seg1.ts', cookie: jar(course42), status: 400 },
  { name: 'encoded slash traversal out of a public path never reaches the origin', path: '/public/..%2Fcourses/42/seg1.ts', status: 400 },
  { name: 'percent-encoded dot segments select the behaviour of the normalised path', path: '/public/%2E%2E/courses/42/seg1.ts', status: 403, code: 'MissingKey' },

  // Client address.
  { name: 'IP mismatch', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, ipAddress: '203.0.113.7' })), status: 403, code: 'AccessDenied' },
  { name: 'IP match', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, ipAddress: '127.0.0.0/8' })), status: 200, body: SEG42 },
  { name: 'IPv4-mapped client matches its IPv4 address', server: 'mapped', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, ipAddress: '127.0.0.1' })), status: 200, body: SEG42 },
  { name: 'IPv4-mapped client outside the range', server: 'mapped', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, ipAddress: '10.0.0.0/8' })), status: 403, code: 'AccessDenied' },
  { name: 'IPv6 client on an IP-bound grant', server: 'v6', path: '/courses/42/seg1.ts', cookie: jar(signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E, ipAddress: '127.0.0.1' })), status: 403, code: 'AccessDenied' },
  { name: 'IPv6 client on a grant without IP condition', server: 'v6', path: '/courses/42/seg1.ts', cookie: jar(course42), status: 200, body: SEG42 },

  // Precedence and duplicates.
  { name: 'URL parameters plus valid cookies: the URL is judged', path: path(cannedUrl).replace(`Expires=${E}`, `Expires=${E + 1}`), cookie: jar(course42), status: 403, code: 'AccessDenied' },
  { name: 'a lone Expires parameter hides valid cookies', path: `/courses/42/seg1.ts?Expires=${E}`, cookie: jar(course42), status: 403, code: 'MissingKey' },
  { name: 'other query parameters leave cookies in charge', path: '/courses/42/seg1.ts?lang=en', cookie: jar(course42), status: 200, body: SEG42 },
  { name: 'identical duplicate cookies count once', path: '/courses/42/seg1.ts', cookie: `${jar(course42)}; ${jar(course42)}`, status: 200, body: SEG42 },
  { name: 'differing duplicate cookies (overlapping Paths) are refused', path: '/courses/42/seg1.ts', cookie: `${jar(course42)}; ${jar(courses)}`, status: 403, code: 'AccessDenied' },

  // Algorithms.
  { name: 'SHA-256 signed URL', path: path(sha256Url), status: 200, body: SEG42 },
  { name: 'SHA-256 signed cookies', path: '/courses/42/seg1.ts', cookie: jar(sha256Signer.signCookiesSync(`${BASE}/courses/42/*`, { expires: E })), status: 200, body: SEG42 },
  { name: 'SHA-256 signature without Hash-Algorithm', path: path(sha256Url).replace('&Hash-Algorithm=SHA256', ''), status: 403, code: 'AccessDenied' },
  { name: 'unknown Hash-Algorithm', path: path(sha256Url).replace('Hash-Algorithm=SHA256', 'Hash-Algorithm=SHA512'), status: 403, code: 'AccessDenied' },
  { name: 'ECDSA P-256 signed URL', path: path(ecSigner.signUrlSync(`${BASE}/courses/42/seg1.ts`, { expires: E })), status: 200, body: SEG42 },
  { name: 'ECDSA P-256 signed cookies', path: '/courses/42/seg1.ts', cookie: jar(ecSigner.signCookiesSync(`${BASE}/courses/42/*`, { expires: E })), status: 200, body: SEG42 },
  { name: 'ECDSA P-256 with SHA-256', path: path(ecSha256Signer.signUrlSync(`${BASE}/courses/42/seg1.ts`, { expires: E })), status: 200, body: SEG42 }
]

t.test('the edge answers like CloudFront', async (t) => {
  const root = tempDir(t, 'cf-edge-conformance-')
  const files: Record<string, string> = {
    'courses/42/seg1.ts': SEG42,
    'courses/42/index.m3u8': '#EXTM3U',
    'courses/42/a b.ts': 'a b',
    'courses/43/seg1.ts': 'segment 1 of course 43',
    'courses/421/seg1.ts': 'segment 1 of course 421',
    'public/hello.txt': 'hello',
    'other/x.txt': 'other'
  }
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), content)
  }
  const options = {
    keys: { KRSA: rsa.publicKey, KRSA2: rsa2.publicKey, KEC: ec.publicKey, KOTHER: rsa.publicKey },
    behaviors: [
      { pathPattern: '/public/*', public: true },
      { pathPattern: 'other/*', trustedKeyIds: ['KOTHER'] },
      { pathPattern: '*', trustedKeyIds: ['KRSA', 'KRSA2', 'KEC'] }
    ],
    origin: { root },
    scheme: 'https' as const,
    now
  }
  const servers = {
    v4: { connect: '127.0.0.1', listen: '127.0.0.1' },
    mapped: { connect: '127.0.0.1', listen: '::ffff:127.0.0.1' },
    v6: { connect: '::1', listen: '::1' }
  }
  const ports: Record<string, number> = {}
  const seenIps = new Set<string>()
  for (const [name, s] of Object.entries(servers)) {
    const app = await createEdgeServer(options)
    app.addHook('onRequest', (request, _reply, done) => {
      seenIps.add(request.ip)
      done()
    })
    t.teardown(() => app.close())
    ports[name] = await listen(app, s.listen)
  }

  for (const row of rows) {
    const server = row.server ?? 'v4'
    clock = row.nowMs ?? T0 * 1000
    const headers: Record<string, string> = { host: row.host ?? HOST }
    if (row.cookie !== undefined) headers.cookie = row.cookie
    const res = await rawGet(servers[server].connect, ports[server] as number, row.path, headers)
    t.equal(res.status, row.status, `${row.name}: status`)
    if (row.code !== undefined) {
      t.equal(errorCode(res.body), row.code, `${row.name}: code`)
      t.equal(res.headers['content-type'], 'text/xml', `${row.name}: XML error document`)
      t.equal(res.headers[EDGE_REASON_HEADER], undefined, `${row.name}: no reason without debug`)
    }
    if (row.body !== undefined) t.equal(res.body.toString('utf8'), row.body, `${row.name}: body`)
  }
  t.ok(seenIps.has('::ffff:127.0.0.1'), 'the mapped server saw an IPv4-mapped client address')
  t.ok(seenIps.has('::1'), 'the IPv6 server saw an IPv6 client address')
})

t.test('the error document is CloudFront\'s, byte for byte', async (t) => {
  const root = tempDir(t, 'cf-edge-xml-')
  const app = await createEdgeServer({ keys: { KRSA: rsa.publicKey }, origin: { root } })
  t.teardown(() => app.close())
  const port = await listen(app)
  const res = await rawGet('127.0.0.1', port, '/x', { cookie: jar({ ...course42, 'CloudFront-Signature': 'AAAA' }) })
  t.equal(res.status, 403)
  t.equal(res.body.toString('utf8'), '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>')
  const missing = await rawGet('127.0.0.1', port, '/x')
  t.equal(missing.body.toString('utf8'), '<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>')
})
