// Registration guards: each mistake that CloudFront would answer with a bare 403 (or that would
// silently grant too much) is refused, or warned where it can be meant, with what to change. Every
// case has the exact input that triggers it and a valid twin that does not.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { createSigner } from '../../src/index.js'
import { GrantEngine } from '../../src/core/grants/engine.js'
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
  getUser: () => 'alice'
}

/** Builds an engine, returning its warnings. */
function build (overrides: Record<string, unknown>): string[] {
  const warnings: string[] = []
  // eslint-disable-next-line no-new
  new GrantEngine({ ...base, onWarning: (m: string) => { warnings.push(m) }, ...overrides } as GrantOptions)
  return warnings
}

const refused: Array<[string, Record<string, unknown>, Record<string, unknown>, string, RegExp]> = [
  ['ttl in milliseconds', { ttl: 86400000 }, { ttl: 86400 }, 'FST_ERR_CF_INVALID_TIME', /reads as milliseconds.*divide by 1000 \(86400\)/],
  ['refreshBefore in milliseconds', { refreshBefore: 300000 }, { refreshBefore: 300 }, 'FST_ERR_CF_INVALID_TIME', /divide by 1000/],
  ['a rule ttl in milliseconds', { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: 900000 }] }, { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: 900 }] }, 'FST_ERR_CF_INVALID_TIME', /divide by 1000/],
  ['ttl above the 7-day cap', { ttl: '8d' }, { ttl: '7d' }, 'FST_ERR_CF_INVALID_OPTION', /ttl.*longer than the 604800 s.*raise maxTtl/],
  ['a rule ttl above the cap', { rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: '30d' }] }, { maxTtl: '30d', rules: [{ match: '/a/:id/*', resource: '/a/:id/*', ttl: '30d' }] }, 'FST_ERR_CF_INVALID_OPTION', /rules\[0\]\.ttl/],
  ['cookie.domain that does not cover the distribution', { cookie: { domain: 'other.com' } }, { cookie: { domain: 'example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /cookie\.domain.*"other\.com" does not cover the distribution's host media\.example\.com/],
  ['cookie.domain that only ends like the host', { cookie: { domain: 'ample.com' } }, { cookie: { domain: 'media.example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /does not cover/],
  ['a misspelt option', { distrbution: 'https://media.example.com' }, { distribution: 'https://media.example.com' }, 'FST_ERR_CF_INVALID_OPTION', /distrbution.*did you mean "distribution"/],
  ['a misspelt cookie key', { cookie: { domian: 'example.com' } }, { cookie: { domain: 'example.com' } }, 'FST_ERR_CF_INVALID_OPTION', /cookie\.domian.*did you mean "domain"/],
  ['a misspelt cache key', { cache: { maxbytes: 1000 } }, { cache: { maxBytes: 1000 } }, 'FST_ERR_CF_INVALID_OPTION', /cache\.maxbytes.*did you mean "maxBytes"/],
  ['a misspelt rule key', { rules: [{ match: '/a/:id/*', resourse: '/a/:id/*' }] }, { rules: [{ match: '/a/:id/*', resource: '/a/:id/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /rules\[0\]\.resourse.*did you mean "resource"/],
  ['a misspelt key of keys[]', { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairID: 'K1', privateKey: rsaKey.privatePem }] }, { keyPairId: undefined, privateKey: undefined, keys: [{ keyPairId: 'K1', privateKey: rsaKey.privatePem }] }, 'FST_ERR_CF_INVALID_OPTION', /keys\[0\]\.keyPairID.*did you mean "keyPairId"/],
  ['a misspelt playlists key', { playlists: { prefix: '/hls', origin: { load: async () => null }, compres: false } }, { playlists: { prefix: '/hls', origin: { load: async () => null }, compress: false } }, 'FST_ERR_CF_INVALID_OPTION', /playlists\.compres.*did you mean "compress"/],
  ['an unknown option far from any name', { colour: 'blue' }, {}, 'FST_ERR_CF_INVALID_OPTION', /^(?!.*did you mean).*colour: is not an option/],
  ['a key ID with whitespace', { keyPairId: ' K2JCJMDEHXQW5F\n' }, { keyPairId: 'K2JCJMDEHXQW5F' }, 'FST_ERR_CF_INVALID_OPTION', /" K2JCJMDEHXQW5F\\n" has whitespace around it.*trim it to "K2JCJMDEHXQW5F"/],
  ['a malformed key ID, shown as received', { keyPairId: 'K2/JCJ' }, { keyPairId: 'K2_JCJ' }, 'FST_ERR_CF_INVALID_OPTION', /"K2\/JCJ" is not a CloudFront key ID/],
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
  t.throws(() => expressCloudfrontCookies({ ...base, ttl: 86400000 }), { code: 'FST_ERR_CF_INVALID_TIME', message: /divide by 1000/ })
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
  await t.rejects(signer.signUrl('https://media.example.com/a.mp4', { expiresIn: 600000 }), { code: 'FST_ERR_CF_INVALID_TIME', message: /reads as milliseconds.*\(600\)/ })
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
  t.throws(() => resolveEdgeOptions({ ...ok, cors: { origins: ['https://app.example.com'], maxAge: 600000 } }), { message: /cors\.maxAge.*divide by 1000/ })
  t.ok(resolveEdgeOptions({ ...ok, cors: { origins: ['https://app.example.com'], maxAge: 600 } }))
})
