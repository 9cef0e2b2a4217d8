// Keys in every form users hold them; every other key refused with a coded error that quotes no key material.
import t from 'tap'
import { createSecretKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, randomBytes, type KeyObject } from 'node:crypto'
import { getSignedCookies } from '@aws-sdk/cloudfront-signer'
import { createSigner, createVerifier, type SignerOptions } from '../../src/index.js'
import { loadPublicKey } from '../../src/core/keys.js'
import { rsaKey, ecKey, fixedNow, NOW_S, NOW_MS, caught, rejected, leakedSecrets, pemBodyLines, fromCloudFrontBase64, rubyKeyPem, type TapTest } from './helpers.js'

const KEY_ID = 'K2JCJMDEHXQW5F'
const URL_ = 'https://media.example.com/courses/42/index.m3u8'
const EXPIRES = NOW_S + 3600
const POLICY = `{"Statement":[{"Resource":"${URL_}","Condition":{"DateLessThan":{"AWS:EpochTime":${EXPIRES}}}}]}`
const PASSPHRASE = 'correct horse battery staple 7f3a'
const WRONG_PASSPHRASE = 'incorrect mule 91c2'

const rsa = rsaKey(2048)
const ec = ecKey('P-256')
const rsaPkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
const rsaPkcs8Encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string
const rsaPkcs1Encrypted = rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: PASSPHRASE }) as string
const ecSec1 = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string
const ecPkcs8Encrypted = ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string
const secrets = { pems: [rsa.privatePem, rsaPkcs1, rsaPkcs8Encrypted, rsaPkcs1Encrypted, ec.privatePem, ecSec1, ecPkcs8Encrypted], passphrases: [PASSPHRASE, WRONG_PASSPHRASE] }

/** The RSA signature node:crypto makes for our canned policy: the oracle for every RSA key form. */
const expectedRsaSignature = (hash: 'sha1' | 'sha256' = 'sha1') =>
  cryptoSign(hash, Buffer.from(POLICY), rsa.privateKey).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')

function signer (opts: Partial<SignerOptions>) {
  return createSigner({ keyPairId: KEY_ID, now: fixedNow, onWarning: () => {}, ...opts } as SignerOptions)
}

function expectKeyError (t: TapTest, fn: () => unknown, pattern: RegExp, what: string): void {
  const err = caught(fn) as { code?: string, message?: string } | undefined
  t.equal(err?.code, 'FST_ERR_CF_INVALID_KEY', `${what}: FST_ERR_CF_INVALID_KEY`)
  t.match(err?.message, pattern, `${what}: says why`)
  t.strictSame(leakedSecrets(err, secrets), [], `${what}: no key material in the message or stack`)
}

t.test('the secret fragments checked for are real', async (t) => {
  for (const pem of secrets.pems) t.ok(pemBodyLines(pem).length >= 3, 'each PEM has body lines to look for')
  t.strictSame(leakedSecrets(new Error(pemBodyLines(rsa.privatePem)[2]), secrets).length, 1, 'a leaked body line is found')
  t.strictSame(leakedSecrets(new Error(`bad ${PASSPHRASE}`), secrets), [PASSPHRASE], 'a leaked passphrase is found')
})

t.test('RSA keys in every accepted form sign the same bytes as node:crypto', async (t) => {
  const forms: Array<[string, Partial<SignerOptions>]> = [
    ['PKCS#8 PEM', { privateKey: rsa.privatePem }],
    ['PKCS#1 PEM', { privateKey: rsaPkcs1 }],
    ['PKCS#8 PEM Buffer', { privateKey: Buffer.from(rsa.privatePem) }],
    ['PKCS#1 PEM with CRLF line ends', { privateKey: rsaPkcs1.replace(/\n/g, '\r\n') }],
    ['KeyObject', { privateKey: rsa.privateKey }],
    ['encrypted PKCS#8 + passphrase', { privateKey: rsaPkcs8Encrypted, passphrase: PASSPHRASE }],
    ['encrypted PKCS#1 + passphrase', { privateKey: rsaPkcs1Encrypted, passphrase: PASSPHRASE }],
    ['encrypted PKCS#8 + passphrase Buffer', { privateKey: Buffer.from(rsaPkcs8Encrypted), passphrase: Buffer.from(PASSPHRASE) }]
  ]
  for (const [what, opts] of forms) {
    for (const hash of ['SHA1', 'SHA256'] as const) {
      const s = signer({ ...opts, hashAlgorithm: hash })
      t.equal(s.keyType, 'rsa', `${what}: keyType`)
      const cookies = await s.signCookies(URL_, { expires: EXPIRES })
      t.equal(cookies['CloudFront-Signature'], expectedRsaSignature(hash === 'SHA1' ? 'sha1' : 'sha256'), `${what}, ${hash}: async signature`)
      t.equal(s.signCookiesSync(URL_, { expires: EXPIRES })['CloudFront-Signature'], expectedRsaSignature(hash === 'SHA1' ? 'sha1' : 'sha256'), `${what}, ${hash}: sync signature`)
    }
  }
})

t.test('an encrypted key signs what the SDK signs with the same passphrase', async (t) => {
  for (const pem of [rsaPkcs8Encrypted, rsaPkcs1Encrypted]) {
    const ours = signer({ privateKey: pem, passphrase: PASSPHRASE }).signCookiesSync(URL_, { expires: EXPIRES })
    const sdk = getSignedCookies({ url: URL_, keyPairId: KEY_ID, privateKey: pem, passphrase: PASSPHRASE, dateLessThan: new Date(EXPIRES * 1000) })
    t.strictSame({ ...ours }, { ...sdk, 'CloudFront-Expires': String(sdk['CloudFront-Expires']) }, pem.split('\n')[0] as string)
  }
})

t.test('ECDSA P-256 keys in every accepted form sign what the public key verifies', async (t) => {
  const forms: Array<[string, Partial<SignerOptions>]> = [
    ['PKCS#8 PEM', { privateKey: ec.privatePem }],
    ['SEC1 PEM', { privateKey: ecSec1 }],
    ['PEM Buffer', { privateKey: Buffer.from(ec.privatePem) }],
    ['KeyObject', { privateKey: ec.privateKey }],
    ['encrypted PKCS#8 + passphrase', { privateKey: ecPkcs8Encrypted, passphrase: PASSPHRASE }]
  ]
  for (const [what, opts] of forms) {
    const s = signer(opts)
    t.equal(s.keyType, 'ec', `${what}: keyType`)
    const sig = fromCloudFrontBase64((await s.signCookies(URL_, { expires: EXPIRES }))['CloudFront-Signature'])
    t.ok(cryptoVerify('sha1', Buffer.from(POLICY), ec.publicKey, sig), `${what}: verifies`)
  }
})

t.test('a missing or wrong passphrase is refused without quoting key or passphrase', async (t) => {
  for (const pem of [rsaPkcs8Encrypted, rsaPkcs1Encrypted, ecPkcs8Encrypted]) {
    const kind = pem.split('\n')[0] as string
    expectKeyError(t, () => signer({ privateKey: pem }), /encrypted.*passphrase/, `${kind} without passphrase`)
    expectKeyError(t, () => signer({ privateKey: pem, passphrase: WRONG_PASSPHRASE }), /passphrase does not decrypt/, `${kind} with a wrong passphrase`)
    expectKeyError(t, () => signer({ privateKey: pem, passphrase: '' }), /passphrase/, `${kind} with an empty passphrase`)
  }
})

t.test('a public key given as the private key is refused', async (t) => {
  const spkiRsa = rsa.publicPem
  const pkcs1Public = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string
  const cases: Array<[string, unknown]> = [
    ['SPKI PEM', spkiRsa],
    ['PKCS#1 public PEM', pkcs1Public],
    ['SPKI PEM Buffer', Buffer.from(spkiRsa)],
    ['EC SPKI PEM', ec.publicPem],
    ['public KeyObject', rsa.publicKey],
    ['EC public KeyObject', ec.publicKey]
  ]
  for (const [what, key] of cases) {
    expectKeyError(t, () => signer({ privateKey: key as string }), /public/, what)
  }
  expectKeyError(t, () => signer({ privateKey: createSecretKey(randomBytes(32)) }), /secret KeyObject/, 'a secret KeyObject')
})

t.test('key types and curves CloudFront does not sign with are refused', async (t) => {
  const others: Array<[string, KeyObject, RegExp]> = [
    ['DSA', generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).privateKey, /RSA .* or ECDSA P-256.*dsa/],
    ['Ed25519', generateKeyPairSync('ed25519').privateKey, /ed25519/],
    ['Ed448', generateKeyPairSync('ed448').privateKey, /ed448/],
    ['X25519', generateKeyPairSync('x25519').privateKey, /x25519/],
    ['RSA-PSS', generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey, /rsa-pss/],
    ['ECDSA P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, /P-256.*secp384r1/],
    ['ECDSA secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, /P-256.*secp256k1/],
    ['RSA-512', generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey, /1024 to 4096 bits.*512/]
  ]
  for (const [what, key, pattern] of others) {
    const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string
    const pemSecrets = { pems: [pem] }
    for (const [form, input] of [['PEM', pem], ['KeyObject', key]] as const) {
      const err = caught(() => signer({ privateKey: input })) as { code?: string, message?: string }
      t.equal(err?.code, 'FST_ERR_CF_INVALID_KEY', `${what} ${form}: refused`)
      t.match(err?.message, pattern, `${what} ${form}: names the type or curve`)
      t.strictSame(leakedSecrets(err, pemSecrets), [], `${what} ${form}: no key material`)
    }
  }
  // The verifier refuses the same public keys.
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  t.throws(() => createVerifier({ keys: { K: p384 } }), { code: 'FST_ERR_CF_INVALID_KEY' }, 'the verifier refuses a P-384 public key')
  t.throws(() => createVerifier({ keys: { K: generateKeyPairSync('ed25519').publicKey } }), { code: 'FST_ERR_CF_INVALID_KEY' }, 'the verifier refuses an Ed25519 public key')
})

t.test('RSA keys under 2048 bits sign but warn through onWarning', async (t) => {
  const warnings: string[] = []
  const s = createSigner({ keyPairId: KEY_ID, privateKey: rubyKeyPem, now: fixedNow, onWarning: (m) => warnings.push(m) })
  t.equal(warnings.length, 1, 'one warning for a 1024-bit key')
  t.match(warnings[0], /1024 bits.*2048/, 'names the size and what CloudFront requires')
  t.match(warnings[0], KEY_ID, 'names the key id')
  t.strictSame(leakedSecrets(new Error(warnings[0]), { pems: [rubyKeyPem] }), [], 'no key material in the warning')
  t.ok(s.signCookiesSync(URL_, { expires: EXPIRES })['CloudFront-Signature'], 'still signs')

  const none: string[] = []
  createSigner({ keyPairId: KEY_ID, privateKey: rsa.privatePem, onWarning: (m) => none.push(m) })
  createSigner({ keyPairId: KEY_ID, privateKey: ec.privatePem, onWarning: (m) => none.push(m) })
  t.strictSame(none, [], 'no warning for RSA-2048 or P-256')

  // Without onWarning the warning goes to process.emitWarning, with a code to filter on.
  const emitted: Array<{ message: string, code?: string }> = []
  const original = process.emitWarning
  process.emitWarning = ((message: string, options?: { code?: string }) => { emitted.push({ message, code: options?.code }) }) as typeof process.emitWarning
  try {
    createSigner({ keyPairId: KEY_ID, privateKey: rubyKeyPem })
  } finally {
    process.emitWarning = original
  }
  t.equal(emitted.length, 1, 'one process warning')
  t.equal(emitted[0]?.code, 'FST_CF_WEAK_KEY', 'with its code')
})

t.test('inputs that are not keys are refused with a hint', async (t) => {
  expectKeyError(t, () => signer({ privateKey: './keys/private.pem' }), /file path/, 'a file path')
  expectKeyError(t, () => signer({ privateKey: 42 as unknown as string }), /PEM string, a Buffer or a KeyObject/, 'a number')
  expectKeyError(t, () => signer({ privateKey: {} as unknown as string }), /PEM string, a Buffer or a KeyObject/, 'an object')
  // A PEM whose body is damaged: OpenSSL's own message is not passed on (it may quote the input).
  const lines = rsa.privatePem.split('\n')
  const damaged = [...lines.slice(0, 3), ...lines.slice(8)].join('\n')
  const err = caught(() => signer({ privateKey: damaged })) as { code?: string, message?: string }
  t.equal(err?.code, 'FST_ERR_CF_INVALID_KEY', 'a damaged PEM')
  t.match(err?.message, /could not be parsed/, 'says it could not be parsed')
  t.strictSame(leakedSecrets(err, { pems: [damaged, rsa.privatePem] }), [], 'no key material')
  t.throws(() => signer({}), { code: 'FST_ERR_CF_INVALID_OPTION' }, 'no key and no sign function')
})

t.test('public keys for the verifier: SPKI, PKCS#1, Buffer, KeyObject, and a private key reduced to its public half', async (t) => {
  const signed = createSigner({ keyPairId: KEY_ID, privateKey: rsa.privateKey, now: fixedNow }).signUrlSync(URL_, { expires: EXPIRES })
  const inputs: Array<[string, unknown]> = [
    ['SPKI PEM', rsa.publicPem],
    ['PKCS#1 public PEM', rsa.publicKey.export({ type: 'pkcs1', format: 'pem' })],
    ['SPKI PEM Buffer', Buffer.from(rsa.publicPem)],
    ['public KeyObject', rsa.publicKey],
    ['private KeyObject', rsa.privateKey]
  ]
  for (const [what, key] of inputs) {
    const v = createVerifier({ keys: { [KEY_ID]: key as string }, now: () => NOW_MS })
    t.equal(v.verify({ url: signed }).ok, true, what)
  }
  const other = rsaKey(2048)
  const v = createVerifier({ keys: { [KEY_ID]: other.publicPem }, now: () => NOW_MS })
  t.match(v.verify({ url: signed }), { ok: false, code: 'AccessDenied' }, 'another public key under the same id refuses')
  t.throws(() => loadPublicKey(createSecretKey(randomBytes(16))), { code: 'FST_ERR_CF_INVALID_KEY' }, 'a secret KeyObject')
  t.throws(() => loadPublicKey('K2JCJMDEHXQW5F'), { code: 'FST_ERR_CF_INVALID_KEY' }, 'not PEM')
  t.throws(() => loadPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), { code: 'FST_ERR_CF_INVALID_KEY' }, 'a damaged PEM')
  t.throws(() => loadPublicKey(undefined), { code: 'FST_ERR_CF_INVALID_KEY' }, 'nothing')
})

t.test('a custom sign function replaces the key (KMS, HSM)', async (t) => {
  for (const hash of ['SHA1', 'SHA256'] as const) {
    const calls: Array<[string, string]> = []
    const sync = signer({
      hashAlgorithm: hash,
      sign: (data, algorithm) => {
        calls.push([data.toString(), algorithm])
        return cryptoSign(algorithm === 'SHA256' ? 'sha256' : 'sha1', data, rsa.privateKey)
      }
    })
    const expected = expectedRsaSignature(hash === 'SHA1' ? 'sha1' : 'sha256')
    t.equal(sync.signCookiesSync(URL_, { expires: EXPIRES })['CloudFront-Signature'], expected, `${hash}: sync function, sync path`)
    t.equal((await sync.signCookies(URL_, { expires: EXPIRES }))['CloudFront-Signature'], expected, `${hash}: sync function, async path`)
    t.strictSame(calls, [[POLICY, hash], [POLICY, hash]], `${hash}: called with the policy bytes and the algorithm`)

    const asyncSigner = signer({
      hashAlgorithm: hash,
      sign: async (data, algorithm) => new Uint8Array(cryptoSign(algorithm === 'SHA256' ? 'sha256' : 'sha1', data, rsa.privateKey))
    })
    t.equal((await asyncSigner.signCookies(URL_, { expires: EXPIRES }))['CloudFront-Signature'], expected, `${hash}: async function returning a Uint8Array`)
    const err = caught(() => asyncSigner.signCookiesSync(URL_, { expires: EXPIRES })) as { code?: string, message?: string }
    t.equal(err?.code, 'FST_ERR_CF_SIGN_FAILED', `${hash}: an async function on the sync path is refused`)
    t.match(err?.message, /async signUrl\/signCookies/, 'and says which path to use')
  }

  const ecSigner = signer({ keyType: 'ec', sign: (data) => cryptoSign('sha1', data, ec.privateKey) })
  t.equal(ecSigner.keyType, 'ec', 'keyType is reported for a custom signer')
  const url = await ecSigner.signUrl(URL_, { expires: EXPIRES })
  t.equal(createVerifier({ keys: { [KEY_ID]: ec.publicPem }, now: () => NOW_MS }).verify({ url }).ok, true, 'an ECDSA custom signer makes valid URLs')
  t.equal(signer({ sign: () => Buffer.alloc(1) }).keyType, 'rsa', 'keyType defaults to rsa')

  // The function's own error message may carry secrets from the KMS: only its name and code are passed on.
  const secret = 'arn:aws:kms:eu-west-1:123456789012:key/SECRET-0f9e'
  const failures: Array<[string, SignerOptions['sign']]> = [
    ['throws', () => { throw Object.assign(new Error(`denied for ${secret}`), { code: 'AccessDeniedException' }) }],
    ['rejects', async () => { throw new Error(`denied for ${secret}`) }],
    ['returns nothing', (() => undefined) as unknown as SignerOptions['sign']],
    ['returns a string', (() => 'c2ln') as unknown as SignerOptions['sign']],
    ['returns empty bytes', () => Buffer.alloc(0)],
    ['resolves to a string', (async () => 'c2ln') as unknown as SignerOptions['sign']]
  ]
  for (const [what, fn] of failures) {
    const s = signer({ sign: fn })
    const asyncErr = await rejected(() => s.signUrl(URL_, { expires: EXPIRES })) as { code?: string, message?: string, stack?: string }
    t.equal(asyncErr?.code, 'FST_ERR_CF_SIGN_FAILED', `${what}: async path`)
    t.notMatch(`${asyncErr?.message}${asyncErr?.stack}`, 'SECRET-0f9e', `${what}: the function's message is not echoed (async)`)
    const syncErr = caught(() => s.signUrlSync(URL_, { expires: EXPIRES })) as { code?: string, message?: string }
    t.equal(syncErr?.code, 'FST_ERR_CF_SIGN_FAILED', `${what}: sync path`)
    t.notMatch(syncErr?.message, 'SECRET-0f9e', `${what}: the function's message is not echoed (sync)`)
  }
  const throwsErr = caught(() => signer({ sign: failures[0]?.[1] }).signUrlSync(URL_, { expires: EXPIRES })) as { message?: string }
  t.match(throwsErr?.message, /Error \(AccessDeniedException\)/, 'the error class and code are kept')

  t.throws(() => signer({ sign: 'kms' as unknown as SignerOptions['sign'] }), { code: 'FST_ERR_CF_INVALID_OPTION' }, 'sign must be a function')
  t.throws(() => signer({ sign: () => Buffer.alloc(1), privateKey: rsa.privatePem }), { code: 'FST_ERR_CF_INVALID_OPTION' }, 'sign and privateKey together')
})

t.test('a signer parses its key once', async (t) => {
  // A KeyObject made from the PEM per call (what the SDK does) would fail once the PEM is gone: the signer holds its own.
  const pem = Buffer.from(rsa.privatePem)
  const s = signer({ privateKey: pem })
  pem.fill(0)
  t.equal(s.signCookiesSync(URL_, { expires: EXPIRES })['CloudFront-Signature'], expectedRsaSignature(), 'signs after the caller wiped its Buffer')
})
