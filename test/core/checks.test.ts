// The helpers and validators every part shares (src/core/guards.ts, src/core/url.ts): one rule each,
// with the case that tells it apart from a near copy and its valid twin.
import t from 'tap'
import {
  closestName, domainCovers, editDistance, invalid, isObject, isPublicSuffix, isThenable, positive
} from '../../src/core/guards.js'
import { originOf, pathCharSource, RAW_PATH_RE } from '../../src/core/url.js'
import { parseSetCookie, storeCookie, whyNotSent } from '../../src/core/doctor/jar.js'
import { createSigner } from '../../src/core/signer.js'
import { rsaKey } from '../helpers/keys.js'

t.test('originOf compares hosts as browsers do: case-insensitively', async (t) => {
  t.equal(originOf('https://Media.Example.COM/courses/42/index.m3u8'), 'https://media.example.com')
  t.equal(originOf('HTTPS://media.example.com:8443/a'), 'https://media.example.com:8443', 'the scheme too; the port is kept')
  t.equal(originOf('https://media.example.com/a'), 'https://media.example.com')
  t.equal(originOf('not a url'), 'not a url', 'text without scheme:// is returned as it is')
})

t.test('the doctor names a cookie\'s origin lower-cased, as the browser saw it', async (t) => {
  const now = Date.UTC(2030, 0, 1)
  const stored = storeCookie(parseSetCookie('CloudFront-Policy=x; Path=/courses/42/; Secure') as NonNullable<ReturnType<typeof parseSetCookie>>,
    'https://App.Example.com/login', now)
  if (!('stored' in stored)) throw new Error('expected the cookie to be stored')
  const why = whyNotSent(stored.stored, 'https://media.example.com/courses/42/a.ts', undefined, now)
  t.match(why?.message, /set by https:\/\/app\.example\.com,/)
})

t.test('domainCovers: a parent domain covers its subdomains, never an IP address', async (t) => {
  t.ok(domainCovers('example.com', 'media.example.com:443'))
  t.ok(domainCovers('.Example.com', 'MEDIA.example.com'))
  t.notOk(domainCovers('example.com', 'media.example.org'))
  t.notOk(domainCovers('0.0.1', '127.0.0.1'), 'an address is not a subdomain of its last octets')
  t.ok(domainCovers('127.0.0.1', '127.0.0.1:3000'), 'an address covers itself')
})

t.test('isPublicSuffix: one list for the doctor and for setup', async (t) => {
  for (const s of ['com', 'co.uk', 'go.jp', 'gob.mx', 'cloudfront.net', 'github.io']) t.ok(isPublicSuffix(s), s)
  for (const s of ['example.com', 'example.co.uk', 'google.com']) t.notOk(isPublicSuffix(s), s)
})

t.test('editDistance counts an adjacent swap as one edit; closestName ignores case', async (t) => {
  t.equal(editDistance('expries', 'expires'), 1)
  t.equal(editDistance('abc', 'abd'), 1)
  t.equal(editDistance('', 'abc'), 3)
  t.equal(closestName('KeyPairID', ['keyPairId', 'privateKey']), 'keyPairId')
  t.equal(closestName('zzz', ['keyPairId', 'privateKey']), undefined)
})

t.test('positive and invalid throw a coded error that names the option', async (t) => {
  t.equal(positive(undefined, 'cache.max', 7), 7)
  t.equal(positive(3, 'cache.max', 7), 3)
  for (const bad of [0, -1, 1.5, '3', null]) {
    t.throws(() => positive(bad, 'cache.max', 7), { code: 'FST_ERR_CF_INVALID_OPTION', option: 'cache.max' }, String(bad))
  }
  t.throws(() => invalid('playlists.prefix', 'expected a path'), { code: 'FST_ERR_CF_INVALID_OPTION', option: 'playlists.prefix' })
})

t.test('isObject and isThenable', async (t) => {
  t.ok(isObject({}))
  for (const v of [null, [], 'x', 1, undefined]) t.notOk(isObject(v), String(v))
  t.ok(isThenable(Promise.resolve(1)))
  t.ok(isThenable({ then () {} }))
  for (const v of [null, {}, { then: 1 }, () => {}]) t.notOk(isThenable(v), String(v))
})

t.test('one path-character rule: * and ; only where allowed', async (t) => {
  t.ok(RAW_PATH_RE.test('/courses/42/a*b;c.ts'))
  t.ok(RAW_PATH_RE.test('/caf%C3%A9/'))
  for (const p of ['courses/42', '/a b', '/a%2', '/a?b', '/a#b', '/a\\b', '/café']) t.notOk(RAW_PATH_RE.test(p), p)
  const prefixSegment = new RegExp(`^${pathCharSource({ star: false, semicolon: false })}+$`)
  t.ok(prefixSegment.test('courses'))
  t.notOk(prefixSegment.test('a*'), 'a wildcard')
  t.notOk(prefixSegment.test('a;b'), 'a ";" would end the cookie Path')
  t.notOk(prefixSegment.test('a/b'), 'one segment')
})

t.test('coded errors carry the option they are about', async (t) => {
  const signer = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem })
  const url = 'https://media.example.com/a.ts'
  t.throws(() => signer.signUrlSync(url, { expiresIn: '5x' }), { code: 'FST_ERR_CF_INVALID_TIME', option: 'expiresIn' })
  t.throws(() => signer.signUrlSync(url, { expiresIn: '1m', ipAddress: '::1' }),
    { code: 'FST_ERR_CF_INVALID_IP', option: 'ipAddress', reason: /IPv6/ })
  t.throws(() => createSigner({ keyPairId: rsaKey.keyPairId, privateKey: 'not a key' }), { code: 'FST_ERR_CF_INVALID_KEY', option: 'privateKey' })
  t.throws(() => createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem, hashAlgorithm: 'MD5' as 'SHA1' }),
    { code: 'FST_ERR_CF_INVALID_OPTION', option: 'hashAlgorithm', reason: 'expected "SHA1" or "SHA256"' })
  t.ok(signer.signUrlSync(url, { expiresIn: '1m', ipAddress: '10.0.0.1' }).includes('Signature='), 'the valid twin signs')
})
