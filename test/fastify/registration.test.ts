import t from 'tap'
import Fastify from 'fastify'
import { generateKeyPairSync } from 'node:crypto'
import fastifyCloudfrontCookies, { type FastifyCloudfrontCookiesOptions } from '../../src/index.js'
import { rsaKey } from '../helpers/keys.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
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

// Without authorize, every user getUser returns would get every prefix a rule or a route grants:
// every course to anyone who can sign in. Refused unless the app says so in so many words.
t.test('authorize: refused when left out of a rule or a route config, unless \'any-signed-in-user\' says so', async (t) => {
  const MISSING = /^Invalid option (rules\[0\]|config\.cloudfront of GET \/lessons\/:id)\.authorize: missing: without authorize \(global, or on this (rule|route)\), every signed-in user would be granted "\/(courses\/:courseId|lessons\/:id)\/\*" whatever its :(courseId|id) \(every course to anyone who can sign in\)\. Give authorize: \(request, params, prefix\) => true when the user may have it.*or, if every signed-in user may, say so: authorize: 'any-signed-in-user' \(globally or on this (rule|route)\)$/
  const ownsCourse = (request: unknown, params: Record<string, string>): boolean => params.courseId === '42'

  const err = await registerError({ ...options(), authorize: undefined })
  t.equal(err.code, 'FST_ERR_CF_INVALID_OPTION', 'a rule and no authorize anywhere')
  t.match(err.message, MISSING)
  t.match(err.message, /^Invalid option rules\[0\]\.authorize/, 'naming the rule')

  const accepted: Array<[string, Partial<FastifyCloudfrontCookiesOptions>]> = [
    ['a global authorize function', { authorize: ownsCourse }],
    ['the global opt-in', { authorize: 'any-signed-in-user' }],
    ['the rule\'s own function', { authorize: undefined, rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: ownsCourse }] }],
    ['the rule\'s own opt-in', { authorize: undefined, rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: 'any-signed-in-user' }] }],
    ['no rules at all (grant() in handlers decides)', { authorize: undefined, rules: [] }]
  ]
  for (const [name, opts] of accepted) {
    const app = Fastify()
    await app.register(fastifyCloudfrontCookies, { ...options(), ...opts })
    await app.ready()
    t.pass(`registers with ${name}`)
    await app.close()
  }

  const twoRules = await registerError({
    ...options(),
    authorize: undefined,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: ownsCourse }, { match: '/free/:courseId/*', resource: '/free/:courseId/*' }]
  })
  t.match(twoRules.message, /^Invalid option rules\[1\]\.authorize: missing/, 'each rule needs one: the second rule is named')

  for (const bad of ['any-signed-in-users', 'anyone', 'true']) {
    const wrong = await registerError({ ...options(), authorize: bad as never })
    t.match(wrong.message, /^Invalid option authorize: expected a function \(request, params, prefix\) => true to grant, or 'any-signed-in-user'/, `authorize: ${bad}`)
    t.equal(/did you mean 'any-signed-in-user'/.test(wrong.message), bad === 'any-signed-in-users', `${bad}: suggested only when it is a near miss`)
  }
  const wrongRule = await registerError({ ...options(), rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: 'everyone' as never }] })
  t.match(wrongRule.message, /^Invalid option rules\[0\]\.authorize: expected a function/)

  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...options(), rules: [], authorize: undefined })
  t.teardown(() => app.close())
  t.throws(() => app.get('/lessons/:id', { config: { cloudfront: { resource: '/lessons/:id/*' } } }, async () => 'ok'), { code: 'FST_ERR_CF_INVALID_OPTION', message: MISSING }, 'a route config and no authorize anywhere')
  app.get('/lessons/:id/a', { config: { cloudfront: { resource: '/lessons/:id/a/*', authorize: 'any-signed-in-user' } } }, async () => 'ok')
  app.get('/lessons/:id/b', { config: { cloudfront: { resource: '/lessons/:id/b/*', authorize: (request, params) => params.id === '1' } } }, async () => 'ok')
  const withGlobal = Fastify()
  await withGlobal.register(fastifyCloudfrontCookies, { ...options(), rules: [], authorize: 'any-signed-in-user' })
  t.teardown(() => withGlobal.close())
  withGlobal.get('/lessons/:id', { config: { cloudfront: { resource: '/lessons/:id/*' } } }, async () => 'ok')
  await withGlobal.ready()
  t.equal((await withGlobal.inject({ url: '/lessons/7', headers: { 'x-user': 'bob' } })).headers['set-cookie']?.length, 3, 'the global opt-in grants a route config to any signed-in user')
  t.equal((await withGlobal.inject({ url: '/lessons/7' })).headers['set-cookie'], undefined, 'and still nothing to an anonymous request')
})

t.test('authorize: the middleware refuses the same way', async (t) => {
  t.throws(() => expressCloudfrontCookies({ ...options(), authorize: undefined }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /^Invalid option rules\[0\]\.authorize: missing: .*authorize: 'any-signed-in-user'/ })
  t.type(expressCloudfrontCookies({ ...options(), authorize: 'any-signed-in-user' }), 'function')
  t.type(expressCloudfrontCookies({ ...options(), authorize: undefined, rules: [] }), 'function')
})

t.test('a *.cloudfront.net distribution warns through onWarning on both adapters; the playlist mirror silences it', async (t) => {
  const warnings: string[] = []
  const onWarning = (m: string): void => { warnings.push(m) }
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, { ...options(), distribution: 'https://d111111abcdef8.cloudfront.net', onWarning })
  await app.close()
  expressCloudfrontCookies({ ...options(), distribution: 'https://d111111abcdef8.cloudfront.net', onWarning })
  t.equal(warnings.length, 2)
  for (const w of warnings) t.match(w, /^The distribution https:\/\/d111111abcdef8\.cloudfront\.net is a \*\.cloudfront\.net name: browsers send it no cookie set by your app/)
  const twin = Fastify()
  await twin.register(fastifyCloudfrontCookies, { ...options(), distribution: 'https://d111111abcdef8.cloudfront.net', playlists: { prefix: '/hls', origin: { load: async () => null } }, onWarning })
  await twin.close()
  expressCloudfrontCookies({ ...options(), onWarning })
  t.equal(warnings.length, 2, 'none with the playlist mirror, none for an alternate domain')
})
