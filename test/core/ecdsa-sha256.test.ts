// ECDSA P-256 keys and SHA-256 signatures: checked with the public key through node:crypto and through the verifier.
// ECDSA signatures are randomised, so they are verified, never compared.
import t from 'tap'
import fc from 'fast-check'
import { verify as cryptoVerify } from 'node:crypto'
import { createSigner, createVerifier } from '../../src/index.js'
import { rsaKey, ecKey, fixedNow, NOW_MS, NOW_S, splitSigned, fromCloudFrontBase64, asRecord, type TestKey, type TapTest } from './helpers.js'
import { urlPartsArb, urlOf } from './arbitraries.js'

const EC_ID = 'KECDSAP256TEST'
const RSA_ID = 'K2JCJMDEHXQW5F'
const ec = ecKey('P-256')
const rsa = rsaKey(2048)
const EXPIRES = NOW_S + 600
const verifier = createVerifier({ keys: { [EC_ID]: ec.publicPem, [RSA_ID]: rsa.publicPem }, now: () => NOW_MS })
const header = (c: object): string => Object.entries(c).map(([k, v]) => `${k}=${v}`).join('; ')

type Hash = 'SHA1' | 'SHA256'
const nodeHash = (h: Hash) => (h === 'SHA256' ? 'sha256' : 'sha1')
const signerFor = (kind: 'ec' | 'rsa', hash: Hash) =>
  createSigner({ keyPairId: kind === 'ec' ? EC_ID : RSA_ID, privateKey: (kind === 'ec' ? ec : rsa).privatePem, hashAlgorithm: hash, now: fixedNow })

/** The policy a canned grant signs, written out by hand. */
const canned = (resource: string, expires: number) => `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`

/** A DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each at most 33 bytes for P-256. */
function isDerEcdsa (sig: Buffer): boolean {
  if (sig.length < 8 || sig.length > 72 || sig[0] !== 0x30 || sig[1] !== sig.length - 2 || sig[2] !== 0x02) return false
  const rLen = sig[3] as number
  return rLen >= 1 && rLen <= 33 && sig[4 + rLen] === 0x02 && 4 + rLen + 2 + (sig[5 + rLen] as number) === sig.length
}

function checkSignature (t: TapTest, key: TestKey, kind: 'ec' | 'rsa', hash: Hash, policy: string, signature: string, what: string): void {
  const sig = fromCloudFrontBase64(signature)
  t.ok(cryptoVerify(nodeHash(hash), Buffer.from(policy), key.publicKey, sig), `${what}: node:crypto verifies it with the public key`)
  t.notOk(cryptoVerify(nodeHash(hash === 'SHA1' ? 'SHA256' : 'SHA1'), Buffer.from(policy), key.publicKey, sig), `${what}: and not under the other hash`)
  if (kind === 'ec') {
    t.ok(isDerEcdsa(sig), `${what}: a DER-encoded ECDSA signature`)
    t.notOk(cryptoVerify(nodeHash(hash), Buffer.from(policy), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig), `${what}: not raw r||s`)
  } else {
    t.equal(sig.length, 256, `${what}: a 2048-bit RSA signature`)
  }
}

for (const kind of ['ec', 'rsa'] as const) {
  for (const hash of ['SHA1', 'SHA256'] as const) {
    if (kind === 'rsa' && hash === 'SHA1') continue
    const name = `${kind === 'ec' ? 'ECDSA P-256' : 'RSA-2048'}, ${hash}`
    const key = kind === 'ec' ? ec : rsa
    const id = kind === 'ec' ? EC_ID : RSA_ID
    const s = signerFor(kind, hash)

    t.test(`${name}: signed URLs`, async (t) => {
      const url = 'https://media.example.com/courses/42/index.m3u8?quality=720'
      const cannedUrl = await s.signUrl(url, { expires: EXPIRES })
      const parts = splitSigned(cannedUrl, url)
      const params = Object.fromEntries(parts?.params ?? [])
      t.strictSame(parts?.params.map(([k]) => k), ['Expires', 'Signature', 'Key-Pair-Id', ...(hash === 'SHA256' ? ['Hash-Algorithm'] : [])], 'parameters in order')
      t.ok(hash === 'SHA1' || cannedUrl.endsWith(`&Key-Pair-Id=${id}&Hash-Algorithm=SHA256`), 'Hash-Algorithm=SHA256 comes last')
      checkSignature(t, key, kind, hash, canned(url, EXPIRES), params.Signature as string, 'canned URL')
      t.match(verifier.verify({ url: cannedUrl }), { ok: true, mode: 'url', keyPairId: id }, 'the verifier accepts the canned URL')

      const customUrl = s.signUrlSync(url, { expires: EXPIRES, notBefore: NOW_S - 60, ipAddress: '192.0.2.0/24', resource: 'https://media.example.com/courses/42/*' })
      const custom = Object.fromEntries(splitSigned(customUrl, url)?.params ?? [])
      const policy = fromCloudFrontBase64(custom.Policy as string).toString()
      t.equal(policy, '{"Statement":[{"Resource":"https://media.example.com/courses/42/*","Condition":{"DateLessThan":{"AWS:EpochTime":' +
        `${EXPIRES}},"DateGreaterThan":{"AWS:EpochTime":${NOW_S - 60}},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}`, 'the custom policy')
      checkSignature(t, key, kind, hash, policy, custom.Signature as string, 'custom URL')
      t.match(verifier.verify({ url: customUrl, clientIp: '192.0.2.10' }), { ok: true, mode: 'url' }, 'the verifier accepts the custom URL')

      if (hash === 'SHA256') {
        t.match(verifier.verify({ url: cannedUrl.replace('&Hash-Algorithm=SHA256', '') }), { ok: false, code: 'AccessDenied' }, 'without the marker the signature fails')
      }
      if (kind === 'ec') {
        const again = Object.fromEntries(splitSigned(s.signUrlSync(url, { expires: EXPIRES }), url)?.params ?? [])
        t.not(again.Signature, params.Signature, 'ECDSA signatures differ on every call (so they are verified, not compared)')
      }
    })

    t.test(`${name}: signed cookies`, async (t) => {
      const exact = 'https://media.example.com/courses/42/index.m3u8'
      const cannedSet = asRecord(s.signCookiesSync(exact, { expires: EXPIRES }))
      t.strictSame(Object.keys(cannedSet).sort(), ['CloudFront-Expires', 'CloudFront-Key-Pair-Id', 'CloudFront-Signature', ...(hash === 'SHA256' ? ['CloudFront-Hash-Algorithm'] : [])].sort(), 'the canned set')
      t.equal(cannedSet['CloudFront-Hash-Algorithm'], hash === 'SHA256' ? 'SHA256' : undefined, 'CloudFront-Hash-Algorithm')
      checkSignature(t, key, kind, hash, canned(exact, EXPIRES), cannedSet['CloudFront-Signature'] as string, 'canned cookies')
      t.match(verifier.verify({ url: exact, cookieHeader: header(cannedSet) }), { ok: true, mode: 'cookie', keyPairId: id }, 'the verifier accepts the canned set')

      const customSet = asRecord(await s.signCookies('https://media.example.com/courses/42/*', { expires: EXPIRES }))
      t.strictSame(Object.keys(customSet).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature', ...(hash === 'SHA256' ? ['CloudFront-Hash-Algorithm'] : [])].sort(), 'the custom set')
      const policy = fromCloudFrontBase64(customSet['CloudFront-Policy'] as string).toString()
      checkSignature(t, key, kind, hash, policy, customSet['CloudFront-Signature'] as string, 'custom cookies')
      t.match(verifier.verify({ url: 'https://media.example.com/courses/42/seg-9.ts', cookieHeader: header(customSet) }), { ok: true, mode: 'cookie' }, 'the verifier accepts the custom set')

      const flipped = { ...customSet }
      if (hash === 'SHA256') delete flipped['CloudFront-Hash-Algorithm']
      else flipped['CloudFront-Hash-Algorithm'] = 'SHA256'
      t.match(verifier.verify({ url: 'https://media.example.com/courses/42/seg-9.ts', cookieHeader: header(flipped) }), { ok: false, code: 'AccessDenied' }, 'the wrong hash marker fails')
    })
  }
}

t.test('SHA-1 signers add no hash marker', async (t) => {
  const s = signerFor('ec', 'SHA1')
  const url = await s.signUrl('https://media.example.com/a.ts', { expires: EXPIRES })
  t.notMatch(url, 'Hash-Algorithm', 'no Hash-Algorithm parameter')
  t.notOk('CloudFront-Hash-Algorithm' in s.signCookiesSync('https://media.example.com/*', { expires: EXPIRES }), 'no CloudFront-Hash-Algorithm cookie')
  t.equal(s.hashAlgorithm, 'SHA1', 'SHA-1 is the default')
})

t.test('ECDSA and SHA-256 grants for generated resources verify with the public key and the verifier', async (t) => {
  const signers = { SHA1: signerFor('ec', 'SHA1'), SHA256: signerFor('ec', 'SHA256') }
  fc.assert(fc.property(urlPartsArb, fc.constantFrom<Hash>('SHA1', 'SHA256'), fc.boolean(), (u, hash, asPrefix) => {
    const url = urlOf(u)
    const resource = asPrefix ? `${u.scheme}://${u.host}/*` : url
    const set = asRecord(signers[hash].signCookiesSync(resource, { expires: EXPIRES }))
    const policy = set['CloudFront-Policy'] === undefined ? canned(resource, EXPIRES) : fromCloudFrontBase64(set['CloudFront-Policy']).toString()
    const sig = fromCloudFrontBase64(set['CloudFront-Signature'] as string)
    if (!isDerEcdsa(sig) || !cryptoVerify(nodeHash(hash), Buffer.from(policy), ec.publicKey, sig)) throw new Error(`cookie signature for ${resource}`)
    if (!verifier.verify({ url, cookieHeader: header(set) }).ok) throw new Error(`cookies refused for ${url}`)
    const signed = signers[hash].signUrlSync(url, { expires: EXPIRES, ...(asPrefix ? { resource } : {}) })
    if (!verifier.verify({ url: signed }).ok) throw new Error(`URL refused: ${signed}`)
  }), { numRuns: 150 })
  t.pass('all verified')
})
