// A cookie set's values as a signed query and a Cookie header: one custom policy for a prefix
// opens every URL under it, either way, as the verifier (CloudFront's rules) judges it.
import t from 'tap'
import { createSigner } from '../../../src/core/signer.js'
import { createVerifier } from '../../../src/core/verifier.js'
import { serializeCookieSet } from '../../../src/core/cookies.js'
import { credentialsOf, credentialsOfHeader } from '../../../src/core/playlists/credentials.js'
import { rsaKeys } from '../../edge/helpers.js'

const keys = rsaKeys()
const verifier = createVerifier({ keys: { K1: keys.publicKey }, cacheSize: 0 })
const attrs = { path: '/courses/42/', secure: true, httpOnly: true, sameSite: 'Lax' as const }

for (const hashAlgorithm of ['SHA1', 'SHA256'] as const) {
  t.test(`a set's query and Cookie header open every URL of the prefix (${hashAlgorithm})`, async (t) => {
    const signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey, hashAlgorithm })
    const cookies = signer.signCookiesSync('https://media.example.com/courses/42/*', { expiresIn: 600 })
    const setCookie = serializeCookieSet(cookies, attrs)
    const c = credentialsOf(setCookie)
    if (c === null) throw new Error('no credentials')
    const suffix = hashAlgorithm === 'SHA256' ? '&Hash-Algorithm=SHA256' : ''
    t.equal(c.query, `Policy=${cookies['CloudFront-Policy'] as string}&Signature=${cookies['CloudFront-Signature']}&Key-Pair-Id=K1${suffix}`)
    t.equal(credentialsOf(setCookie), c, 'made once per set')
    for (const url of ['https://media.example.com/courses/42/a/seg.ts', 'https://media.example.com/courses/42/key.bin']) {
      t.ok(verifier.verify({ url: `${url}?${c.query}`, cookieHeader: undefined, clientIp: undefined }).ok, `query: ${url}`)
      t.ok(verifier.verify({ url: `${url}?x=1&${c.query}`, cookieHeader: undefined, clientIp: undefined }).ok, 'after a query of its own')
      t.ok(verifier.verify({ url, cookieHeader: c.cookie, clientIp: undefined }).ok, `cookie: ${url}`)
    }
    t.notOk(verifier.verify({ url: `https://media.example.com/courses/43/seg.ts?${c.query}`, cookieHeader: undefined, clientIp: undefined }).ok, 'not another prefix')
    t.same(credentialsOfHeader(`session=abc; ${c.cookie}; theme=dark`), c, 'read back from a Cookie header')
  })
}

t.test('no set, or several that differ: nothing', async (t) => {
  t.equal(credentialsOf([]), null)
  t.equal(credentialsOf(['app=1; Path=/', 'CloudFront-Policy=x; Path=/']), null, 'no signature')
  t.equal(credentialsOfHeader(undefined), null)
  t.equal(credentialsOfHeader('a=1'), null)
  t.equal(credentialsOfHeader('CloudFront-Signature=a; CloudFront-Signature=b; CloudFront-Key-Pair-Id=K1'), null, 'two signatures')
  t.same(credentialsOfHeader('CloudFront-Key-Pair-Id=K1; CloudFront-Signature=s; CloudFront-Signature=s; CloudFront-Expires=9'),
    { query: 'Expires=9&Signature=s&Key-Pair-Id=K1', cookie: 'CloudFront-Expires=9; CloudFront-Signature=s; CloudFront-Key-Pair-Id=K1' },
    'identical duplicates count once; the query in the SDKs\' order')
})
