import t from 'tap'
import Fastify from 'fastify'
import { generateKeyPairSync } from 'node:crypto'
import fastifyCloudfrontCookies, { type FastifyCloudfrontCookiesOptions } from '../../src/index.js'
import { rsaKey } from '../helpers/keys.js'
import { options } from '../behaviour/options.js'

async function registerError (opts: Partial<FastifyCloudfrontCookiesOptions> | Record<string, unknown>): Promise<Error & { code?: string }> {
  const app = Fastify()
  try {
    await app.register(fastifyCloudfrontCookies, opts as FastifyCloudfrontCookiesOptions)
    await app.ready()
  } catch (err) {
    // close() reports the same boot error again: only the first one matters here.
    await app.close().catch(() => {})
    return err as Error & { code?: string }
  }
  await app.close()
  throw new Error('register did not fail')
}

const pemBody = rsaKey.privatePem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))

// Each bad option fails register() with a coded error that names what to change and leaks no key.
const CASES: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['no key', { keyPairId: undefined, privateKey: undefined }, 'FST_ERR_CF_INVALID_OPTION', /keys/],
  ['a public key as private', { privateKey: rsaKey.publicPem }, 'FST_ERR_CF_INVALID_KEY', /public key/],
  ['garbage key', { privateKey: 'not a key' }, 'FST_ERR_CF_INVALID_KEY', /PEM/],
  ['bad keyPairId', { keyPairId: 'has space' }, 'FST_ERR_CF_INVALID_OPTION', /keyPairId/],
  ['no distribution', { distribution: undefined }, 'FST_ERR_CF_INVALID_OPTION', /distribution/],
  ['distribution with a path', { distribution: 'https://media.example.com/videos' }, 'FST_ERR_CF_INVALID_OPTION', /distribution/],
  ['distribution not http(s)', { distribution: 'ftp://media.example.com' }, 'FST_ERR_CF_INVALID_OPTION', /distribution/],
  ['no getUser', { getUser: undefined }, 'FST_ERR_CF_INVALID_OPTION', /getUser/],
  ['authorize not a function', { authorize: true }, 'FST_ERR_CF_INVALID_OPTION', /authorize/],
  ['ttl in milliseconds', { ttl: 900000000000 }, 'FST_ERR_CF_INVALID_TIME', /milliseconds/],
  ['ttl not a duration', { ttl: 'soon' }, 'FST_ERR_CF_INVALID_TIME', /duration/],
  ['refreshBefore not below ttl', { ttl: '5m', refreshBefore: '5m' }, 'FST_ERR_CF_INVALID_OPTION', /refreshBefore/],
  ['bad hashAlgorithm', { hashAlgorithm: 'MD5' }, 'FST_ERR_CF_INVALID_OPTION', /hashAlgorithm/],
  ['bad ipv6 policy', { ipv6: 'maybe' }, 'FST_ERR_CF_INVALID_OPTION', /ipv6/],
  ['cookie domain on cloudfront.net', { cookie: { domain: 'd111.cloudfront.net' } }, 'FST_ERR_CF_INVALID_OPTION', /cloudfront\.net/],
  ['bad sameSite', { cookie: { sameSite: 'lax' } }, 'FST_ERR_CF_INVALID_OPTION', /sameSite/],
  ['SameSite=None without Secure', { cookie: { sameSite: 'None', secure: false } }, 'FST_ERR_CF_INVALID_OPTION', /secure/],
  ['error statuses', { statuses: [200, 500] }, 'FST_ERR_CF_INVALID_OPTION', /statuses/],
  ['cache.max not positive', { cache: { max: 0 } }, 'FST_ERR_CF_INVALID_OPTION', /cache\.max/],
  ['rules not an array', { rules: {} }, 'FST_ERR_CF_INVALID_OPTION', /rules/],
  ['rule match not a path', { rules: [{ match: 'courses', resource: '/courses/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /match/],
  ['rule resource without /*', { rules: [{ match: '/c/:id/*', resource: '/courses/:id' }] }, 'FST_ERR_CF_INVALID_OPTION', /\/\*/],
  ['rule resource ending in a bare star', { rules: [{ match: '/c/:id/*', resource: '/courses/:id*' }] }, 'FST_ERR_CF_INVALID_OPTION', /\/\*/],
  ['rule resource with an unknown param', { rules: [{ match: '/c/:id/*', resource: '/courses/:other/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /:other/],
  ['rule star in the middle', { rules: [{ match: '/c/*/x', resource: '/courses/*' }] }, 'FST_ERR_CF_INVALID_OPTION', /\*/],
  ['overlapping rules', {
    rules: [{ match: '/a/:id/*', resource: '/courses/:id/*' }, { match: '/b/:id/*', resource: '/courses/:id/extras/*' }]
  }, 'FST_ERR_CF_OVERLAPPING_RULES', /nest/],
  ['overlapping rules, literal inside a parameter', {
    rules: [{ match: '/a/*', resource: '/courses/*' }, { match: '/b/:id/*', resource: '/courses/:id/*' }]
  }, 'FST_ERR_CF_OVERLAPPING_RULES', /nest/],
  ['unknown active key', { activeKeyPairId: 'KNOPE' }, 'FST_ERR_CF_INVALID_OPTION', /activeKeyPairId/]
]

for (const [name, bad, code, message] of CASES) {
  t.test(`bad option: ${name}`, async (t) => {
    const err = await registerError({ ...options(), ...bad })
    t.equal(err.code, code)
    t.match(err.message, message)
    for (const line of pemBody) t.notOk(err.message.includes(line) || String(err.stack).includes(line), 'no key material')
  })
}

t.test('a wrong passphrase fails register without echoing the passphrase', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right horse battery' }).toString()
  const err = await registerError({ ...options(), privateKey: encrypted, passphrase: 'wrong staple' })
  t.equal(err.code, 'FST_ERR_CF_INVALID_KEY')
  t.notMatch(err.message, /wrong staple|right horse/)
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...options(), privateKey: encrypted, passphrase: 'right horse battery' })
  await app.ready()
  await app.close()
})

t.test('disjoint rules and same-depth rules register fine', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, {
    ...options(),
    rules: [
      { match: '/courses/:id/*', resource: '/courses/:id/*' },
      { match: '/free/:id/*', resource: '/courses/:id/*' },
      { match: '/books/:id/*', resource: '/audiobooks/:id/*' }
    ]
  })
  await app.ready()
  t.pass('registered')
  await app.close()
})

t.test('the plugin is named for fastify-plugin and registers once per instance', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  await app.ready()
  t.ok(app.hasPlugin('fastify-cloudfront-cookies'))
  t.equal(typeof app.cloudfront.signUrl, 'function')
  await app.close()
})
