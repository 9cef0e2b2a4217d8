// Every URL and cookie set a peer SDK signed with a published key, exactly as that peer sends it
// (its parameter order, its markers: .NET's Hash-Algorithm=SHA1, js-v3's Signature last), must pass
// this verifier for its own URL and fail for any other.
import t from 'tap'
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { createVerifier, createSigner, type VerifyResult } from '../../../src/index.js'
import {
  sdkCases, sdkFiles, privateKeyOf, publicKeyOf, peerSign, toCfB64, assemble, cookieHeader, addressIn, urlUnder, elsewhere,
  queryMap, fromCfB64, type PeerCase, type PeerFile
} from './helpers.js'

interface PeerOutput { url: string, cookieHeader?: string, policy: string }

function policyOf (file: PeerFile, c: PeerCase): string | undefined {
  const given = c.expected.policyJson ?? c.input.policy ?? c.expected.signatureVerifiesOver ?? c.expected.policyJsonImplied
  // A case that states no policy signed the SEP one (Resource, DateLessThan, DateGreaterThan, IpAddress), as .NET's cases show.
  // js-v3 re-encodes its input, so only the policies its cases state are what it signed.
  if (given !== undefined || file.name === 'aws-sdk-js-v3' || typeof c.input.dateLessThan !== 'number') return given
  const i = c.input
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': i.dateLessThan } }
  if (i.dateGreaterThan !== undefined) condition.DateGreaterThan = { 'AWS:EpochTime': i.dateGreaterThan }
  if (i.ipAddress !== undefined) condition.IpAddress = { 'AWS:SourceIp': i.ipAddress }
  return JSON.stringify({ Statement: [{ Resource: i.resource ?? i.url, Condition: condition }] })
}

/** The signature the peer sent: its literal, or what its test computes (RSA PKCS#1 v1.5 is deterministic). */
function signatureOf (file: PeerFile, c: PeerCase, policy: string): string | undefined {
  const e = c.expected
  const literal = e.signature ?? e.queryParamsExact?.Signature ?? e.queryParams?.Signature ?? e.cookies?.['CloudFront-Signature'] ??
    e.cookiesExact?.['CloudFront-Signature'] ?? e.cookiesSubset?.['CloudFront-Signature']
  if (literal !== undefined) return literal
  const pem = privateKeyOf(file, c) as string
  return pem.includes('EC PRIVATE') || createPrivateKey(pem).asymmetricKeyType !== 'rsa' ? undefined : peerSign(pem, c.hashAlgorithm, policy)
}

/** Is the policy the peer signed the canned one (so it sends Expires, not Policy)? */
function isCanned (file: PeerFile, c: PeerCase): boolean {
  const e = c.expected
  if (typeof c.input.policy === 'string') return false
  // js-v3 sends a canned set whenever only an expiry is given, wildcard or not.
  if (file.name === 'aws-sdk-js-v3') return c.input.dateGreaterThan === undefined && c.input.ipAddress === undefined
  return [e.queryParams, e.queryParamsExact, e.cookies, e.cookiesExact].some((m) => m?.Expires !== undefined || m?.['CloudFront-Expires'] !== undefined)
}

/** The signed URL or cookie set as the peer emits it, or null when its test publishes no signature. */
function peerOutput (file: PeerFile, c: PeerCase): PeerOutput | null {
  const e = c.expected
  if (privateKeyOf(file, c) === null || e.error === true || c.kind === 'verify') return null
  if (typeof e.signedUrl === 'string' && e.signedUrl.startsWith('http')) return { url: e.signedUrl, policy: policyOf(file, c) ?? fromCfB64(queryMap(e.signedUrl).Policy as string).toString() }
  const policy = policyOf(file, c)
  if (policy === undefined) return null
  const signature = signatureOf(file, c, policy)
  if (signature === undefined) return null
  const canned = isCanned(file, c)
  const expires = String(JSON.parse(policy).Statement?.[0]?.Condition?.DateLessThan?.['AWS:EpochTime'])
  const marker = file.name === 'aws-sdk-net' ? c.hashAlgorithm : c.hashAlgorithm === 'SHA256' ? 'SHA256' : undefined
  if (c.kind === 'url') {
    // js-v3 takes the URL from the policy's Resource when none is given.
    // js-v3 sends the URL it encoded, which is the canned Resource.
    const jsEncoded = file.name === 'aws-sdk-js-v3' && canned ? JSON.parse(policy).Statement[0].Resource : undefined
    const base = (e.signedUrlTemplate as string | undefined)?.split('?')[0] ?? jsEncoded ?? e.applyTo ?? c.input.url ?? c.input.resource ?? JSON.parse(policy).Statement?.[0]?.Resource
    if (typeof base !== 'string' || !base.startsWith('http')) return null
    const first: [string, string] = canned ? ['Expires', expires] : ['Policy', toCfB64(policy)]
    const params: Array<[string, string]> = file.name === 'aws-sdk-js-v3'
      ? [first, ['Key-Pair-Id', c.keyPairId as string], ['Signature', signature]]
      : [first, ['Signature', signature], ['Key-Pair-Id', c.keyPairId as string]]
    if (marker !== undefined) params.push(['Hash-Algorithm', marker])
    const ownQuery = c.input.url?.includes('?') === true && !base.includes('?') ? c.input.url.slice(c.input.url.indexOf('?')) : ''
    return { url: assemble(base + ownQuery, params), policy }
  }
  const cookies: Record<string, string> = {}
  if (canned) cookies['CloudFront-Expires'] = expires
  else cookies['CloudFront-Policy'] = toCfB64(policy)
  cookies['CloudFront-Signature'] = signature
  cookies['CloudFront-Key-Pair-Id'] = c.keyPairId as string
  if (marker !== undefined) cookies['CloudFront-Hash-Algorithm'] = marker
  const resource = JSON.parse(policy).Statement?.[0]?.Resource ?? c.input.url
  const url = typeof c.input.url === 'string' ? urlUnder(c.input.url) : typeof resource === 'string' ? urlUnder(resource) : 'https://d111111abcdef8.cloudfront.net/private-content/private.jpeg'
  return { url, cookieHeader: cookieHeader(cookies), policy }
}

/** Peer outputs this verifier refuses on purpose, as CloudFront does. */
const REFUSED: Record<string, { code: string, reason: string }> = {
  'ruby-custom-policy-url-images-ip': { code: 'AccessDenied', reason: 'a relative Resource ("images/image.jpg") covers no request URL' },
  'ruby-cookie-custom-policy-without-url': { code: 'AccessDenied', reason: 'a relative Resource covers no request URL' },
  'js-cookies-wildcard-becomes-canned': { code: 'AccessDenied', reason: 'a canned set for a wildcard: CloudFront rebuilds the canned policy from the requested URL' },
  'js-user-policy-opaque': { code: 'MalformedPolicy', reason: 'the policy {"foo":"bar"} has no Statement' },
  'js-cookies-user-policy-no-url': { code: 'MalformedPolicy', reason: 'the policy {"foo":"bar"} has no Statement' },
  'js-user-policy-url-extracted': { code: 'MalformedPolicy', reason: 'a policy without DateLessThan' },
  'js-no-normalize-dot': { code: 'MalformedPolicy', reason: 'a policy without DateLessThan' },
  'js-no-normalize-dotdot': { code: 'MalformedPolicy', reason: 'a policy without DateLessThan' },
  'json-injection-ip-range': { code: 'MalformedPolicy', reason: 'smithy-rs escapes the injected quotes into AWS:SourceIp, which is then no IPv4 CIDR' }
}

function verifierFor (file: PeerFile, c: PeerCase, policy: string): { verify: (url: string, cookie?: string) => VerifyResult, clientIp?: string } {
  const pem = privateKeyOf(file, c) as string
  const st = JSON.parse(policy).Statement?.[0]
  const dlt = st?.Condition?.DateLessThan?.['AWS:EpochTime'] ?? c.input.dateLessThan ?? 1767290400
  const cidr = st?.Condition?.IpAddress?.['AWS:SourceIp']
  const verifier = createVerifier({ keys: { [c.keyPairId as string]: pem }, now: () => (dlt - 60) * 1000, cacheSize: 0 })
  const clientIp = typeof cidr === 'string' ? addressIn(cidr) : '198.51.100.7'
  return { verify: (url, cookie) => verifier.verify({ url, cookieHeader: cookie, clientIp }), clientIp }
}

let replayed = 0
const replayable = sdkCases.filter(({ file, c }) => peerOutput(file, c) !== null)
for (const { file, c } of replayable) {
  t.test(`${file.name}: ${c.id}`, async (t) => {
    const out = peerOutput(file, c) as PeerOutput
    const { verify } = verifierFor(file, c, out.policy)
    const refused = REFUSED[c.id]
    const own = verify(out.url, out.cookieHeader)
    if (refused) {
      t.match(own, { ok: false, code: refused.code }, `${c.id}: refused, ${refused.reason}`)
    } else {
      t.match(own, { ok: true, mode: out.cookieHeader === undefined ? 'url' : 'cookie', keyPairId: c.keyPairId }, `${c.id}: accepted for its own URL`)
      const other = out.cookieHeader === undefined ? elsewhere(out.url) : elsewhere(out.url)
      t.match(verify(other, out.cookieHeader), { ok: false, code: 'AccessDenied' }, `${c.id}: refused on another host`)
      if (out.cookieHeader === undefined) {
        const tampered = out.url.replace(/(Expires=\d+|Policy=[^&]+)/, (m) => m.startsWith('Expires') ? `Expires=${Number(m.slice(8)) + 1}` : `Policy=${toCfB64(out.policy.replace('"Statement"', ' "Statement"'))}`)
        t.match(verify(tampered), { ok: false }, `${c.id}: refused once its policy is changed`)
      }
    }
    replayed++
  })
}

t.test('every peer-signed output was replayed', async (t) => {
  t.equal(replayed, replayable.length)
  for (const id of Object.keys(REFUSED)) t.ok(replayable.some(({ c }) => c.id === id), `${id} is replayed`)
  t.ok(replayable.some(({ c }) => c.id === 'net-canned-policy-url-basic-default'), '.NET SHA1-marked URLs are among them')
  t.ok(replayable.some(({ c }) => c.id === 'net-canned-policy-cookies-default'), '.NET SHA1-marked cookies are among them')
  t.comment(`${replayable.length} peer-signed outputs pass: ${replayable.length - Object.keys(REFUSED).length} accepted for their own URL and refused elsewhere, ${Object.keys(REFUSED).length} refused on purpose`)
})

t.test('smithy-rs: its literal ECDSA-SHA1 signature passes, as a URL and as cookies', async (t) => {
  const file = sdkFiles.find((f) => f.name === 'smithy-rs') as PeerFile
  const c = file.cases.find((x) => x.kind === 'verify') as PeerCase
  const keys = { [c.keyPairId as string]: publicKeyOf(file, c.input.publicKey) }
  const verifier = createVerifier({ keys, now: () => (1767290400 - 60) * 1000 })
  const url = 'https://d111111abcdef8.cloudfront.net/video.mp4'
  t.equal(c.input.policyJson, JSON.stringify({ Statement: [{ Resource: url, Condition: { DateLessThan: { 'AWS:EpochTime': 1767290400 } } }] }), 'the canned policy of that URL')
  t.match(verifier.verify({ url: `${url}?Expires=1767290400&Signature=${c.input.signature as string}&Key-Pair-Id=${c.keyPairId as string}` }), { ok: c.expected.ok }, 'URL')
  t.match(verifier.verify({ url, cookieHeader: cookieHeader({ 'CloudFront-Expires': 1767290400, 'CloudFront-Signature': c.input.signature, 'CloudFront-Key-Pair-Id': c.keyPairId }) }), { ok: true }, 'cookies')
  t.match(verifier.verify({ url: `${url}?Expires=1767290400&Signature=${c.input.signature as string}&Key-Pair-Id=${c.keyPairId as string}&Hash-Algorithm=SHA256` }), { ok: false, code: 'AccessDenied' }, 'not as SHA-256')
})

t.test('policies with other whitespace and key order verify over the bytes as sent', async (t) => {
  // Java v2, legacy .NET and pretty-printed policies; their keys are not published, so a key made here signs the same bytes.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const java = sdkFiles.find((f) => f.name === 'aws-sdk-java-v2')?.cases.find((x) => x.id === 'java-custom-url-policy-param') as PeerCase
  const net = sdkFiles.find((f) => f.name === 'aws-sdk-net')?.cases.find((x) => x.id === 'net-legacy-cookies-custom') as PeerCase
  const javaPolicy = fromCfB64(/Policy=([^&]+)/.exec(java.expected.signedUrlPrefix)?.[1] as string).toString('utf8')
  const netPolicy = fromCfB64(net.expected.cookies['CloudFront-Policy']).toString('utf8')
  t.ok(javaPolicy.startsWith('{"Statement": [') && netPolicy.startsWith('{"Statement": ['), 'both have the space')
  const pretty = JSON.stringify({ Statement: [{ Resource: 'https://awesome.dot.com/*', Condition: { DateLessThan: { 'AWS:EpochTime': 1704110400 } } }] }, null, 2)
  const verifier = createVerifier({ keys: { K: publicKey }, now: () => (1704067200 - 60) * 1000, cacheSize: 0 })
  for (const [what, policy, url, ip] of [
    ['Java v2 (space, DateLessThan-IpAddress-DateGreaterThan, bare IP)', javaPolicy, 'https://distributionDomain/s3ObjectKey', '1.2.3.4'],
    ['legacy .NET (space)', netPolicy, 'https://awesome.dot.com/amazing/uri', '192.0.2.9'],
    ['pretty-printed', pretty, 'https://awesome.dot.com/a.mp4', '192.0.2.9']
  ] as const) {
    const sig = peerSign(privateKey, 'SHA1', policy)
    const signed = `${url}?Policy=${toCfB64(policy)}&Signature=${sig}&Key-Pair-Id=K`
    t.match(verifier.verify({ url: signed, clientIp: ip }), { ok: true }, `${what}: accepted`)
    t.match(verifier.verify({ url: signed.replace(toCfB64(policy), toCfB64(policy.replace(/\s/g, ''))), clientIp: ip }), { ok: false, code: 'AccessDenied' }, `${what}: normalised bytes no longer match the signature`)
  }
})

t.test('the Resources CloudFront documents: *, https://*, a domain ending in *', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signer = createSigner({ keyPairId: 'K', privateKey, now: () => 1_700_000_000_000 })
  const verifier = createVerifier({ keys: { K: publicKey }, now: () => 1_700_000_000_000, cacheSize: 0 })
  const rows: Array<[string, string, boolean]> = [
    ['*', 'https://media.example.com/a.mp4', true],
    ['*', 'http://anything.example.org/x/y?z=1', true],
    ['https://*', 'https://media.example.com/a/b.mp4?x=1', true],
    ['https://*', 'http://media.example.com/a.mp4', false],
    ['https://media.example.com*', 'https://media.example.com/', true],
    ['https://media.example.com*', 'https://media.example.com/courses/42/seg.ts?x=1', true],
    ['https://media.example.com*', 'https://other.example.com/a.mp4', false],
    ['https://media.example.com*', 'http://media.example.com/a.mp4', false],
    ['*://media.example.com*', 'http://media.example.com/a.mp4', true],
    ['https://media.example.com/*', 'https://media.example.com/a.mp4', true],
    ['https://media.example.com/*', 'https://media.example.com.evil.net/a.mp4', false]
  ]
  for (const [resource, url, ok] of rows) {
    for (const [mode, sign] of [['cookies', () => ({ url, cookieHeader: cookieHeader(signer.signCookiesSync(resource, { expires: 1_700_000_600 })) })],
      ['URL', () => ({ url: signer.signUrlSync(url.startsWith('https://media.example.com/') || resource === '*' || resource === 'https://*' ? url : 'https://media.example.com/a.mp4', { resource, expires: 1_700_000_600 }) })]] as const) {
      if (mode === 'URL' && !ok) continue
      const req = sign()
      t.match(verifier.verify(req), ok ? { ok: true } : { ok: false, code: 'AccessDenied' }, `${resource} ${ok ? 'covers' : 'does not cover'} ${req.url.split('?')[0] as string} (${mode})`)
    }
  }
  t.equal(signer.preparePolicy('https://*', { expires: 1_700_000_600 }).json, signer.preparePolicy('https://*/*', { expires: 1_700_000_600 }).json.replace('https://*/*', 'https://*'), 'https://* is signed as given, like https://*/*')
  t.throws(() => signer.signUrlSync('https://*', { expires: 1_700_000_600 }), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, 'but it is no URL to sign')
  t.throws(() => signer.signUrlSync('*', { expires: 1_700_000_600 }), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, 'nor is *')
})

t.test('scheme wildcards other than *:// are refused by the signer and never match', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signer = createSigner({ keyPairId: 'K', privateKey, now: () => 1_700_000_000_000 })
  const verifier = createVerifier({ keys: { K: publicKey }, now: () => 1_700_000_000_000, cacheSize: 0 })
  for (const resource of ['http*://media.example.com/*', 'http?://media.example.com/*', 'h*://media.example.com/*', '*s://media.example.com/*']) {
    t.throws(() => signer.signCookiesSync(resource, { expires: 1_700_000_600 }), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, `${resource}: refused`)
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': 1_700_000_600 } } }] })
    t.throws(() => signer.signCookiesSync({ policy }), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, `${resource}: refused in a raw policy`)
    const cookie = cookieHeader({ 'CloudFront-Policy': toCfB64(policy), 'CloudFront-Signature': peerSign(privateKey, 'SHA1', policy), 'CloudFront-Key-Pair-Id': 'K' })
    for (const url of ['https://media.example.com/a.mp4', 'http://media.example.com/a.mp4']) {
      t.match(verifier.verify({ url, cookieHeader: cookie }), { ok: false, code: 'AccessDenied' }, `${resource} does not match ${url}`)
    }
  }
})
