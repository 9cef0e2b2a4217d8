// Every URL and cookie set a peer SDK signed with a published key, exactly as that peer sends it
// (its parameter order, its markers: .NET's Hash-Algorithm=SHA1, js-v3's Signature last), must pass
// this verifier for its own URL and fail for any other.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { createVerifier, createSigner, type VerifyResult } from '../../../src/index.js'
import { sdkCases, sdkFiles, privateKeyOf, publicKeyOf, peerSign, toCfB64, cookieHeader, addressIn, elsewhere, fromCfB64, type PeerCase, type PeerFile } from './helpers.js'
import { peerOutput, type PeerOutput } from './outputs.js'

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
    for (const [mode, sign] of [['cookies', () => ({ url, cookieHeader: cookieHeader({ ...signer.signCookiesSync(resource, { expires: 1_700_000_600 }) }) })],
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
