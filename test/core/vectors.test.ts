// The AWS SDK for Ruby's published CloudFront outputs, reproduced byte for byte.
// RSA PKCS#1 v1.5 is deterministic, so any drift in policy bytes, encoding or parameter order shows here.
import t from 'tap'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { createSigner, createVerifier } from '../../src/index.js'
import { vectors, rubyKeyPem, fromCloudFrontBase64 } from './helpers.js'

// The vectors expire at 1357034400 (2013-01-01T10:00:00Z); sign an hour before.
const SIGN_AT_MS = (1357034400 - 3600) * 1000

function signer (privateKey: string | Buffer | ReturnType<typeof createPrivateKey> = rubyKeyPem) {
  return createSigner({ keyPairId: vectors.keyPairId, privateKey, now: () => SIGN_AT_MS, onWarning: () => {} })
}

t.test('the fixture holds the four published cases', async (t) => {
  t.strictSame(vectors.cases.map((c) => c.id), [
    'canned-url-with-query',
    'canned-url-with-url-like-path',
    'canned-cookies-with-query',
    'custom-policy-cookies-ip-range'
  ])
})

// The same key in every form a user may hold it must give the same bytes.
const keyForms: Array<[string, string | Buffer | ReturnType<typeof createPrivateKey>]> = [
  ['PKCS#1 PEM string', rubyKeyPem],
  ['PKCS#1 PEM Buffer', Buffer.from(rubyKeyPem)],
  ['PKCS#8 PEM string', createPrivateKey(rubyKeyPem).export({ type: 'pkcs8', format: 'pem' }) as string],
  ['KeyObject', createPrivateKey(rubyKeyPem)]
]

for (const c of vectors.cases) {
  t.test(c.id, async (t) => {
    for (const [form, key] of keyForms) {
      const s = signer(key)
      if (c.kind === 'url') {
        const url = c.input.url as string
        const opts = { expires: c.input.dateLessThan as number }
        t.equal(s.signUrlSync(url, opts), c.expected.signedUrl, `signUrlSync, ${form}`)
        t.equal(await s.signUrl(url, opts), c.expected.signedUrl, `signUrl, ${form}`)
        if (c.expected.policyJson !== undefined) {
          t.equal(s.preparePolicy(url, opts, url).json, c.expected.policyJson, `policy bytes, ${form}`)
        }
      } else if (c.input.policy !== undefined && !c.input.policy.includes('"Resource":"http')) {
        // A relative Resource (the Ruby spec's "images/image.jpg") matches no request: the cookie
        // set is refused, while the same bytes still sign to the published values.
        const opts = { policy: c.input.policy }
        t.throws(() => s.signCookiesSync(opts), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, `signCookiesSync refuses, ${form}`)
        await t.rejects(s.signCookies(opts), { code: 'FST_ERR_CF_INVALID_RESOURCE' }, `signCookies refuses, ${form}`)
        const expected = c.expected.cookies as Record<string, string>
        t.equal(s.signPolicySync(c.input.policy), expected['CloudFront-Signature'], `signPolicySync, ${form}`)
        t.equal(await s.signPolicy(c.input.policy), expected['CloudFront-Signature'], `signPolicy, ${form}`)
        t.equal(fromCloudFrontBase64(expected['CloudFront-Policy'] as string).toString('utf8'), c.input.policy, `policy bytes, ${form}`)
      } else if (c.input.policy !== undefined) {
        const opts = { policy: c.input.policy }
        t.strictSame(s.signCookiesSync(opts), c.expected.cookies, `signCookiesSync, ${form}`)
        t.strictSame(await s.signCookies(opts), c.expected.cookies, `signCookies, ${form}`)
        // Signed exactly as given: the policy cookie carries the caller's bytes, key order and all.
        const got = s.signCookiesSync(opts)['CloudFront-Policy'] as string
        t.equal(fromCloudFrontBase64(got).toString('utf8'), c.input.policy, `policy bytes kept, ${form}`)
      } else {
        const opts = { expires: c.input.dateLessThan as number }
        t.strictSame(s.signCookiesSync(c.input.url as string, opts), c.expected.cookies, `signCookiesSync, ${form}`)
        t.strictSame(await s.signCookies(c.input.url as string, opts), c.expected.cookies, `signCookies, ${form}`)
      }
    }
  })
}

t.test('the published outputs pass the verifier before expiry and fail after', async (t) => {
  const publicKey = createPublicKey(rubyKeyPem).export({ type: 'spki', format: 'pem' })
  const before = createVerifier({ keys: { [vectors.keyPairId]: publicKey }, now: () => SIGN_AT_MS, cacheSize: 0 })
  const after = createVerifier({ keys: { [vectors.keyPairId]: publicKey }, now: () => 1357034400 * 1000, cacheSize: 0 })
  for (const c of vectors.cases) {
    if (c.kind === 'url') {
      const url = c.expected.signedUrl as string
      t.match(before.verify({ url }), { ok: true, mode: 'url', keyPairId: vectors.keyPairId }, c.id)
      t.match(after.verify({ url }), { ok: false, status: 403, code: 'AccessDenied' }, `${c.id} at DateLessThan`)
    } else if (c.input.url !== undefined) {
      const cookieHeader = Object.entries(c.expected.cookies as Record<string, string>).map(([k, v]) => `${k}=${v}`).join('; ')
      t.match(before.verify({ url: c.input.url, cookieHeader }), { ok: true, mode: 'cookie' }, c.id)
      t.match(after.verify({ url: c.input.url, cookieHeader }), { ok: false, code: 'AccessDenied' }, `${c.id} at DateLessThan`)
    }
  }
})
