// Registration guards: each mistake that CloudFront would answer with a bare 403 (or that would
// silently grant too much) is refused, or warned where it can be meant, with what to change. Every
// case has the exact input that triggers it and a valid twin that does not.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { createSigner } from '../../src/index.js'
import { createGrantServices } from '../../src/core/grants/compose.js'
import type { GrantOptions } from '../../src/core/grants/types.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { resolveEdgeOptions } from '../../src/edge/options.js'
import { rsaKey } from '../helpers/keys.js'

const FIXTURES = join(__dirname, '..', 'fixtures')
const base: GrantOptions = {
  keyPairId: rsaKey.keyPairId,
  privateKey: rsaKey.privatePem,
  distribution: 'https://media.example.com',
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
  getUser: () => 'alice',
  authorize: 'any-signed-in-user'
}

/** Builds an engine, returning its warnings. */
function build (overrides: Record<string, unknown>): string[] {
  const warnings: string[] = []
  createGrantServices({ ...base, onWarning: (m: string) => { warnings.push(m) }, ...overrides } as GrantOptions)
  return warnings
}

const refused: Array<[string, Record<string, unknown>, Record<string, unknown>, string, RegExp]> = [
  ['ttl in milliseconds', { ttl: 86400000 }, { ttl: 86400 }, 'FST_ERR_CF_INVALID_TIME', /86400000 reads as milliseconds.*did you mean "86400s"\? If you mean 1000 days, write the unit \("86400000s"\)/],
  ['refreshBefore in milliseconds', { refreshBefore: 300000 }, { refreshBefore: 300 }, 'FST_ERR_CF_INVALID_TIME', /reads as milliseconds/],
  ['a rule ttl in milliseconds', { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: 900000 }] }, { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: 900 }] }, 'FST_ERR_CF_INVALID_TIME', /reads as milliseconds/],
  ['ttl above the 7-day cap', { ttl: '8d' }, { ttl: '7d' }, 'FST_ERR_CF_INVALID_OPTION', /ttl.*longer than the 604800 s.*raise maxTtl/],
  ['a rule ttl above the cap', { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: '30d' }] }, { maxTtl: '30d', rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: '30d' }] }, 'FST_ERR_CF_INVALID_OPTION', /rules\[0\]\.ttl/],
  ['cookie.domain that does not cover the distribution', { cookie: { domain: 'other.com' } }, { cookie: { domain: 'example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /cookie\.domain.*"other\.com" does not cover the distribution's host media\.example\.com/],
  ['cookie.domain that only ends like the host', { cookie: { domain: 'ample.com' } }, { cookie: { domain: 'media.example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /does not cover/],
  ['a resource literal with ";" (it would end the cookie\'s Path)', { rules: [{ match: '/a/:id/*', resource: '/a;v=1/:id/*' }] }, { rules: [{ match: '/a/:id/*', resource: '/a%3Bv=1/:id/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /rules\[0\]\.resource.*"a;v=1".*has a ";".*escape it as %3B/],
  ['a misspelt option', { distrbution: 'https://media.example.com' }, { distribution: 'https://media.example.com' }, 'FST_ERR_CF_INVALID_OPTION', /distrbution.*did you mean "distribution"/],
  ['a misspelt cookie key', { cookie: { domian: 'example.com' } }, { cookie: { domain: 'example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /cookie\.domian.*did you mean "domain"/],
  ['a misspelt cache key', { cache: { maxbytes: 1000 } }, { cache: { maxBytes: 1000 } }, 'FST_ERR_CF_INVALID_OPTION', /cache\.maxbytes.*did you mean "maxBytes"/],
  ['a misspelt rule key', { rules: [{ match: '/a/:id/*', resourse: '/a/:id/*' }] }, { rules: [{ match: '/a/:id/*', resource: '/a/:id/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /rules\[0\]\.resourse.*did you mean "resource"/],
  ['a misspelt key of keys[]', { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairID: 'K1', privateKey: rsaKey.privatePem }] }, { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairId: 'K2JCJMDEHXQW5F', privateKey: rsaKey.privatePem }] }, 'FST_ERR_CF_INVALID_OPTION', /keys\[0\]\.keyPairID.*did you mean "keyPairId"/],
  ['a misspelt playlists key', { playlists: { prefix: '/hls', origin: { load: async () => null }, compres: false } }, { playlists: { prefix: '/hls', origin: { load: async () => null }, compress: false } }, 'FST_ERR_CF_INVALID_OPTION', /playlists\.compres.*did you mean "compress"/],
  ['an unknown option far from any name', { colour: 'blue' }, {}, 'FST_ERR_CF_INVALID_OPTION', /^(?!.*did you mean).*colour: is not an option/],
  ['a key ID with whitespace', { keyPairId: ' K2JCJMDEHXQW5F\n' }, { keyPairId: 'K2JCJMDEHXQW5F' }, 'FST_ERR_CF_INVALID_OPTION', /" K2JCJMDEHXQW5F\\n" has whitespace around it.*trim it to "K2JCJMDEHXQW5F"/],
  ['a malformed key ID, shown as received', { keyPairId: 'K2/JCJ' }, { keyPairId: 'K2JCJMDEHXQW5F' }, 'FST_ERR_CF_INVALID_OPTION', /"K2\/JCJ" is not a CloudFront key ID/],
  ['a PEM with literal \\n escapes', { privateKey: rsaKey.privatePem.replace(/\n/g, '\\n') }, { privateKey: rsaKey.privatePem }, 'FST_ERR_CF_INVALID_KEY', /literal "\\n" escapes.*\.env.*awk .* private\.pem > private-clean\.pem.*private\.pem is kept/],
  ['DER bytes', { privateKey: rsaKey.privateKey.export({ type: 'pkcs8', format: 'der' }) }, { privateKey: Buffer.from(rsaKey.privatePem) }, 'FST_ERR_CF_INVALID_KEY', /DER bytes.*openssl pkey -inform DER -in private\.der -out private\.pem.*private\.der is kept/],
  ['an OpenSSH private key', { privateKey: readFileSync(join(FIXTURES, 'openssh-rsa.key'), 'utf8') }, { privateKey: rsaKey.privatePem }, 'FST_ERR_CF_INVALID_KEY', /OpenSSH private key.*cp id_rsa id_rsa\.pem .*ssh-keygen -p -m PEM -N '' -f id_rsa\.pem.*id_rsa is kept/]
]

for (const [name, bad, good, code, message] of refused) {
  t.test(`refused: ${name}`, async (t) => {
    t.throws(() => build(bad), { code, message }, 'the mistake is refused with what to change')
    t.strictSame(build(good), [], 'the valid twin registers without a warning')
  })
}

t.test('the key material is never in a key hint', async (t) => {
  const body = rsaKey.privatePem.split('\n')[1] as string
  for (const privateKey of [rsaKey.privatePem.replace(/\n/g, '\\n'), rsaKey.privateKey.export({ type: 'pkcs8', format: 'der' })]) {
    try {
      build({ privateKey })
      t.fail('refused')
    } catch (err) {
      t.notOk(String((err as Error).message).includes(body.slice(0, 16)))
    }
  }
})

const warned: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
  ['an http:// distribution with Secure cookies', { distribution: 'http://media.example.com' }, { distribution: 'https://media.example.com' }, /http:\/\/media\.example\.com is http:\/\/ but the cookies are Secure/],
  ['http:// with Secure cookies, twin on localhost', { distribution: 'http://media.example.com' }, { distribution: 'http://localhost:3001' }, /Secure/],
  ['http:// with Secure cookies, twin with secure: false', { distribution: 'http://media.example.com' }, { distribution: 'http://media.example.com', cookie: { secure: false } }, /Secure/],
  ['a key ID of one\'s own', { keyPairId: 'my-key' }, { keyPairId: 'K2JCJMDEHXQW5F' }, /^The key ID "my-key" cannot be a CloudFront key ID: CloudFront will refuse every grant signed with it \(403\)\. A CloudFront public key ID is "K" and 13 upper-case letters and digits, such as K2JCJMDEHXQW5F.*legacy key pair ID "APKA…".*local edge/],
  ['a key ID in lower case', { keyPairId: 'k2jcjmdehxqw5f' }, { keyPairId: 'K2JCJMDEHXQW5F' }, /"k2jcjmdehxqw5f" has lower-case letters: CloudFront's key IDs are upper case \("K2JCJMDEHXQW5F"\)/],
  ['a key group ID (a UUID) for a key ID', { keyPairId: '1d1ce7a2-93b8-4c5e-9f0a-3b2c4d5e6f70' }, { keyPairId: 'K3D5EWEUDCCXON' }, /"1d1ce7a2-93b8-4c5e-9f0a-3b2c4d5e6f70" is a UUID, the shape of a key group's ID, not of a public key's: sign with the ID of a public key in the group/],
  ['a key ID too short to be CloudFront\'s, twin a legacy key pair ID', { keyPairId: 'K1' }, { keyPairId: 'APKAEIBAERJR2EXAMPLE' }, /"K1" cannot be a CloudFront key ID/],
  ['one of several keys with a made-up ID', { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairId: 'K2JCJMDEHXQW5F', privateKey: rsaKey.privatePem }, { keyPairId: 'next-key', privateKey: rsaKey.privatePem }] }, { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairId: 'K2JCJMDEHXQW5F', privateKey: rsaKey.privatePem }, { keyPairId: 'K3D5EWEUDCCXON', privateKey: rsaKey.privatePem }] }, /"next-key" cannot be/],
  ['a key ID with a custom sign function', { keyPairId: 'kms-key', privateKey: undefined, sign: () => Buffer.alloc(256) }, { keyPairId: 'K2JCJMDEHXQW5F', privateKey: undefined, sign: () => Buffer.alloc(256) }, /"kms-key" cannot be/],
  ['a *.cloudfront.net distribution with cookie grants', { distribution: 'https://d111111abcdef8.cloudfront.net' }, { distribution: 'https://media.example.com', cookie: { domain: 'example.com' } }, /^The distribution https:\/\/d111111abcdef8\.cloudfront\.net is a \*\.cloudfront\.net name: browsers send it no cookie set by your app.*will get 403\. Give the distribution an alternate domain such as media\.example\.com, with cookie: \{ domain: 'example\.com' \}.*playlist mirror \(option playlists\) or signed URLs/],
  ['a *.cloudfront.net distribution without rules (grant() sets cookies too)', { distribution: 'https://d111111abcdef8.cloudfront.net', rules: [] }, { distribution: 'https://d111111abcdef8.cloudfront.net', playlists: { prefix: '/hls', origin: { load: async () => null } } }, /cloudfront\.net name/],
  ['a rule whose match captures a param its resource never uses', { rules: [{ match: '/courses/:id/*', resource: '/media/*' }] }, { rules: [{ match: '/courses/:id/*', resource: '/media/:id/*' }] }, /rules\[0\]: "\/courses\/:id\/\*" captures :id, which the resource "\/media\/\*" never uses/]
]

for (const [name, bad, good, message] of warned) {
  t.test(`warned: ${name}`, async (t) => {
    const warnings = build(bad)
    t.equal(warnings.length, 1)
    t.match(warnings[0], message)
    t.strictSame(build(good), [], 'the valid twin registers without a warning')
  })
}

t.test('the plugin and the middleware refuse the same way; Fastify register options are let through', async (t) => {
  const app = Fastify()
  app.register(fastifyCloudfrontCookies, { ...base, distrbution: 'x' } as never)
  await t.rejects(async () => await app.ready(), { code: 'FST_ERR_CF_INVALID_OPTION', message: /did you mean "distribution"/ })
  const twin = Fastify()
  await twin.register(fastifyCloudfrontCookies, { ...base, prefix: '/app', logLevel: 'warn' } as never)
  await twin.ready()
  t.teardown(() => twin.close())
  t.throws(() => expressCloudfrontCookies({ ...base, ttl: 86400000 }), { code: 'FST_ERR_CF_INVALID_TIME', message: /reads as milliseconds/ })
  t.type(expressCloudfrontCookies({ ...base, ttl: 86400 }), 'function')
})

t.test('a route config and grant() options are checked too', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...base, rules: [] })
  t.throws(() => app.get('/b/:id', { config: { cloudfront: { resource: '/b/:id/*', tll: 60 } as never } }, async () => 'ok'), { message: /tll.*did you mean "ttl"/ })
  app.get('/c/:id', { config: { cloudfront: { resource: '/c/:id/*', ttl: 60 } } }, async () => 'ok')
  app.post('/g', async (request, reply) => {
    const wrong = await reply.cloudfront.grant('/g/1/', { authorised: true } as never).then(() => 'granted', (err) => err.message)
    const long = await reply.cloudfront.grant('/g/1/', { ttl: '8d' }).then(() => 'granted', (err) => err.message)
    const ok = await reply.cloudfront.grant('/g/1/', { authorized: true, ttl: '1h' }).then((r) => (r === null ? 'null' : 'granted'))
    return { wrong, long, ok }
  })
  t.teardown(() => app.close())
  const res = (await app.inject({ method: 'POST', url: '/g' })).json()
  t.match(res.wrong, /authorised.*did you mean "authorized"/)
  t.match(res.long, /longer than the 604800 s/)
  t.equal(res.ok, 'granted')
})

t.test('the signer: options and expiresIn', async (t) => {
  t.throws(() => createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem, hashAlgoritm: 'SHA256' } as never), { message: /hashAlgoritm.*did you mean "hashAlgorithm"/ })
  t.throws(() => createSigner({ keyPairId: 'K2JCJMDEHXQW5F ', privateKey: rsaKey.privatePem }), { message: /whitespace around it/ })
  t.throws(() => createSigner({ keyPairId: 'K', privateKey: readFileSync(join(FIXTURES, 'openssh-rsa.key'), 'utf8') }), { code: 'FST_ERR_CF_INVALID_KEY', message: /ssh-keygen -p -m PEM/ })
  const signer = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem })
  await t.rejects(signer.signUrl('https://media.example.com/a.mp4', { expiresIn: 600000 }), { code: 'FST_ERR_CF_INVALID_TIME', message: /reads as milliseconds.*did you mean "600s"/ })
  t.match(await signer.signUrl('https://media.example.com/a.mp4', { expiresIn: 600 }), /Expires=\d+/)
  t.match(await signer.signUrl('https://media.example.com/a.mp4', { expiresIn: '600000s' }), /Expires=\d+/, 'a unit says the long duration is meant')
})

t.test('the edge: options, key IDs, public keys, cors.maxAge', async (t) => {
  const ok = { keys: { K1: rsaKey.publicPem }, origin: { root: FIXTURES } }
  t.ok(resolveEdgeOptions(ok), 'the valid twin')
  t.throws(() => resolveEdgeOptions({ ...ok, behaviours: [] }), { message: /behaviours.*did you mean "behaviors"/ })
  t.throws(() => resolveEdgeOptions({ ...ok, behaviors: [{ pathPatern: '/a/*' }] }), { message: /behaviors\[0\]\.pathPatern.*did you mean "pathPattern"/ })
  t.throws(() => resolveEdgeOptions({ ...ok, keys: { 'K1 ': rsaKey.publicPem } }), { message: /"K1 " has whitespace around it/ })
  t.throws(() => resolveEdgeOptions({ ...ok, keys: { K1: readFileSync(join(FIXTURES, 'openssh-rsa.pub'), 'utf8') } }), { code: 'FST_ERR_CF_INVALID_KEY', message: /OpenSSH public key.*ssh-keygen -e -m PKCS8 -f id_rsa\.pub > public\.pem/ })
  t.throws(() => resolveEdgeOptions({ ...ok, keys: { K1: rsaKey.publicKey.export({ type: 'spki', format: 'der' }) } }), { message: /DER bytes.*openssl pkey -inform DER -pubin -in public\.der -out public\.pem/ })
  t.throws(() => resolveEdgeOptions({ ...ok, cors: { origins: ['https://app.example.com'], maxAge: 600000 } }), { message: /cors\.maxAge.*reads as milliseconds.*did you mean 600\?/ })
  t.ok(resolveEdgeOptions({ ...ok, cors: { origins: ['https://app.example.com'], maxAge: 600 } }))
})

// setTimeout-style milliseconds where seconds are read: `ttl: 60 * 1000` would be a 16.7-hour grant.
// Refused: bare multiples of 1000 from 10,000 up. Accepted: the seconds people write (900, 3600,
// 86400 for a day, which as milliseconds would be an odd 86.4 s), and any value with a unit.
t.test('durations that read as milliseconds are refused wherever a duration is read', async (t) => {
  const refusedValues = [30000, 60000, 10000, 61000, '60000']
  const acceptedValues = [900, 3600, 86400, 9000, 60001, '60000s', '60s', '1m', '17h']
  const signer = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem })
  const places: Array<[string, (value: unknown) => unknown]> = [
    ['ttl', (v) => build({ ttl: v, maxTtl: '30d' })],
    ['refreshBefore', (v) => build({ refreshBefore: v, ttl: '20d', maxTtl: '30d' })],
    ['maxTtl', (v) => build({ maxTtl: v, ttl: 50 })],
    ['rules[0].ttl', (v) => build({ maxTtl: '30d', rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: v }] })],
    ['rules[0].refreshBefore', (v) => build({ maxTtl: '30d', rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: '20d', refreshBefore: v }] })],
    ['playlists.margin', (v) => build({ playlists: { prefix: '/hls', origin: { load: async () => null }, margin: v } })],
    ['playlists.maxTtl', (v) => build({ playlists: { prefix: '/hls', origin: { load: async () => null }, maxTtl: v } })],
    ['expiresIn', (v) => signer.signUrlSync('https://media.example.com/a.mp4', { expiresIn: v as number })]
  ]
  for (const [name, use] of places) {
    for (const value of refusedValues) {
      const seconds = Number(value)
      t.throws(() => use(value), { code: 'FST_ERR_CF_INVALID_TIME', message: new RegExp(`^Invalid time ${name.replace(/[.[\]]/g, '\\$&')}: ${seconds} reads as milliseconds: durations are seconds, so did you mean "${seconds / 1000}s"\\?`) }, `${name}: ${JSON.stringify(value)} is refused`)
    }
    for (const value of acceptedValues) t.doesNotThrow(() => use(value), `${name}: ${JSON.stringify(value)} is accepted`)
  }
  t.throws(() => build({ ttl: 60000, maxTtl: '30d' }), { message: /If you mean 16\.7 hours, write the unit \("60000s"\)/ }, 'the message says what the number means as seconds')

  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...base, rules: [], maxTtl: '30d' })
  t.teardown(() => app.close())
  t.throws(() => app.get('/b/:id', { config: { cloudfront: { resource: '/b/:id/*', ttl: 60000 } } }, async () => 'ok'), { message: /config\.cloudfront of GET \/b\/:id\.ttl: 60000 reads as milliseconds/ }, 'a route config')
  app.get('/c/:id', { config: { cloudfront: { resource: '/c/:id/*', ttl: 86400 } } }, async () => 'ok')
  app.post('/g', async (request, reply) => ({
    ms: await reply.cloudfront.grant('/g/1/', { ttl: 30000 }).then(() => 'granted', (err) => err.message),
    s: await reply.cloudfront.grant('/g/2/', { ttl: 3600 }).then((r) => (r === null ? 'null' : 'granted'))
  }))
  const res = (await app.inject({ method: 'POST', url: '/g' })).json()
  t.match(res.ms, /30000 reads as milliseconds.*"30s"/, 'grant() options')
  t.equal(res.s, 'granted')

  const cors = { keys: { K2JCJMDEHXQW5F: rsaKey.publicPem }, origin: { root: FIXTURES } }
  for (const maxAge of [30000, 60000]) t.throws(() => resolveEdgeOptions({ ...cors, cors: { origins: ['https://app.example.com'], maxAge } }), { message: new RegExp(`cors\\.maxAge: ${maxAge} reads as milliseconds.*did you mean ${maxAge / 1000}\\?`) })
  for (const maxAge of [900, 3600, 86400]) t.equal(resolveEdgeOptions({ ...cors, cors: { origins: ['https://app.example.com'], maxAge } }).cors?.maxAge, maxAge)
})

t.test('a key ID CloudFront cannot know: process.emitWarning once per ID without onWarning, on every adapter', async (t) => {
  const emitted: Array<{ message: string, code: string | undefined }> = []
  const original = process.emitWarning
  process.emitWarning = ((message: string, options?: { code?: string }) => { emitted.push({ message, code: options?.code }) }) as typeof process.emitWarning
  try {
    for (let i = 0; i < 3; i++) createSigner({ keyPairId: 'not-a-cloudfront-id', privateKey: rsaKey.privatePem })
    createSigner({ keyPairId: 'K2JCJMDEHXQW5F', privateKey: rsaKey.privatePem })
    expressCloudfrontCookies({ ...base, keyPairId: 'another-made-up-id' })
    const app = Fastify()
    await app.register(fastifyCloudfrontCookies, { ...base, keyPairId: 'KEYGROUP' })
    await app.close()
  } finally {
    process.emitWarning = original
  }
  t.strictSame(emitted.map((w) => [w.code, /"([^"]+)"/.exec(w.message)?.[1]]), [
    ['FST_CF_KEY_ID', 'not-a-cloudfront-id'], ['FST_CF_KEY_ID', 'another-made-up-id'], ['FST_CF_KEY_ID', 'KEYGROUP']
  ], 'one warning per made-up ID, none for a real one')
  const warnings: string[] = []
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...base, keyPairId: 'KEYGROUP', onWarning: (m) => { warnings.push(m) } })
  await app.close()
  t.match(warnings, [/"KEYGROUP" cannot be a CloudFront key ID/], 'with onWarning, the app\'s own handler has it every time')
})
