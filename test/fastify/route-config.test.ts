import t from 'tap'
import Fastify from 'fastify'
import fastifyCloudfrontCookies from '../../src/index.js'
import { options, manualClock } from '../behaviour/options.js'
import { cloudfrontSetCookies, cookieHeader, judge, attr } from '../helpers/cookies.js'

t.test('config.cloudfront grants the route\'s own resource with its own settings', async (t) => {
  const clock = manualClock()
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ rules: [], now: clock.now }))
  app.get('/api/books/:bookId/listen', {
    config: { cloudfront: { resource: '/audiobooks/:bookId/*', ttl: '2m', authorize: async (req, params) => params.bookId === 'b7' } }
  }, async () => 'ok')
  t.teardown(() => app.close())

  const res = await app.inject({ url: '/api/books/b7/listen', headers: { 'x-user': 'alice' } })
  const set = cloudfrontSetCookies(res.headers['set-cookie'])
  t.equal(set.length, 3)
  t.equal(attr(set[0] as string, 'Path'), '/audiobooks/b7/')
  t.equal(Number(res.headers['cloudfront-grant-expires']), Math.floor(clock.now() / 1000) + 120)
  t.equal(judge('/audiobooks/b7/ch1.aac', cookieHeader(set), { now: clock.now }).ok, true)
  t.equal(judge('/audiobooks/b8/ch1.aac', cookieHeader(set), { now: clock.now }).ok, false)

  const denied = await app.inject({ url: '/api/books/b8/listen', headers: { 'x-user': 'alice' } })
  t.same(cloudfrontSetCookies(denied.headers['set-cookie']), [], 'the route authorize refuses')

  const hostile = await app.inject({ url: '/api/books/%2A/listen', headers: { 'x-user': 'alice' } })
  t.equal(hostile.statusCode, 400, 'decoded route params are checked too')
  t.equal(hostile.json().code, 'FST_ERR_CF_INVALID_PARAM')
})

t.test('config.cloudfront: false opts a route out of matching rules', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  app.get('/courses/:courseId/player', async () => 'ok')
  app.get('/courses/:courseId/health', { config: { cloudfront: false } }, async () => 'ok')
  t.teardown(() => app.close())
  const on = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
  t.equal(cloudfrontSetCookies(on.headers['set-cookie']).length, 3)
  const off = await app.inject({ url: '/courses/42/health', headers: { 'x-user': 'alice' } })
  t.same(cloudfrontSetCookies(off.headers['set-cookie']), [])
  const hostileOff = await app.inject({ url: '/courses/%2A/health', headers: { 'x-user': 'alice' } })
  t.equal(hostileOff.statusCode, 200, 'an opted-out route is not checked either')
})

t.test('a route config that uses a parameter the route does not have fails at registration', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ rules: [] }))
  t.throws(() => app.get('/api/x', { config: { cloudfront: { resource: '/courses/:courseId/*' } } }, async () => 'ok'),
    { code: 'FST_ERR_CF_INVALID_OPTION', message: /:courseId/ })
  await app.close()
})

t.test('a route config that overlaps a rule fails at registration', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  t.throws(() => app.get('/api/:courseId', { config: { cloudfront: { resource: '/courses/:courseId/hd/*' } } }, async () => 'ok'),
    { code: 'FST_ERR_CF_OVERLAPPING_RULES' })
  await app.close()
})

t.test("the app's route hooks run first; the check stands right in front of the handler", async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ rules: [] }))
  let ran = 0
  let handled = 0
  app.get('/api/:courseId', {
    onRequest: async () => { ran++ },
    // An auth hook that answers first: no check, no handler, no grant.
    preHandler: async (request, reply) => {
      if (request.headers['x-user'] === undefined) return reply.code(401).send('sign in')
    },
    config: { cloudfront: { resource: '/courses/:courseId/*' } }
  }, async () => { handled++; return 'ok' })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/api/42', headers: { 'x-user': 'alice' } })
  t.equal(ran, 1)
  t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
  const anonymous = await app.inject({ url: '/api/%2A' })
  t.equal(anonymous.statusCode, 401, 'the app answered before any parameter check')
  t.equal(anonymous.headers['set-cookie'], undefined)
  const hostile = await app.inject({ url: '/api/%2A', headers: { 'x-user': 'alice' } })
  t.equal(hostile.statusCode, 400)
  t.equal(hostile.json().code, 'FST_ERR_CF_INVALID_PARAM')
  t.equal(hostile.headers['set-cookie'], undefined)
  t.equal(handled, 1, 'the handler ran for the safe request only')
})

t.test('grant() counts route configs as rules: a prefix that contains one, or spells it otherwise, is refused', async (t) => {
  const asked: Array<{ params: Record<string, string>, prefix: string }> = []
  const app = Fastify()
  // No rules and no global authorize: the route config is the only resource.
  await app.register(fastifyCloudfrontCookies, options({ rules: [], authorize: undefined }))
  app.get('/api/books/:bookId/listen', {
    config: { cloudfront: { resource: '/audiobooks/:bookId/*', authorize: (req, params, prefix) => { asked.push({ params, prefix }); return params.bookId === 'b7' } } }
  }, async () => 'ok')
  app.post('/grant', async (request, reply) => {
    const authorized = request.headers['x-authorized'] !== undefined
    return await reply.cloudfront.grant(String(request.headers['x-prefix']), authorized ? { authorized } : undefined)
      .then((r) => ({ outcome: r === null ? 'null' : 'resolved' }), (err) => ({ outcome: err.code, message: err.message }))
  })
  t.teardown(() => app.close())
  const grant = async (prefix: string, authorized = false): Promise<{ outcome: string, message?: string, paths: Array<string | undefined>, asked: typeof asked }> => {
    asked.length = 0
    const res = await app.inject({ method: 'POST', url: '/grant', headers: { 'x-user': 'alice', 'x-prefix': prefix, ...(authorized ? { 'x-authorized': '1' } : {}) } })
    return { ...res.json(), paths: cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path')), asked: asked.slice() }
  }

  for (const prefix of ['/', '/audiobooks/']) {
    t.match(await grant(prefix), { outcome: 'FST_ERR_CF_INVALID_PARAM', message: /contains the resource "\/audiobooks\/:bookId\/\*".*pass \{ authorized: true \}/, paths: [], asked: [] }, prefix)
    t.match(await grant(prefix, true), { outcome: 'resolved', paths: [prefix, prefix, prefix], asked: [] }, `${prefix}, authorized`)
  }
  for (const prefix of ['/Audiobooks/b8/', '/AUDIOBOOKS/', '/audiobook%73/b8/']) {
    t.match(await grant(prefix, true), { outcome: 'FST_ERR_CF_INVALID_PARAM', paths: [], asked: [] }, prefix)
  }
  t.strictSame(await grant('/audiobooks/b7/'), { outcome: 'resolved', paths: ['/audiobooks/b7/', '/audiobooks/b7/', '/audiobooks/b7/'], asked: [{ params: { bookId: 'b7' }, prefix: '/audiobooks/b7/' }] },
    "the route config's authorize decides a prefix it covers")
  t.strictSame(await grant('/audiobooks/b8/'), { outcome: 'null', paths: [], asked: [{ params: { bookId: 'b8' }, prefix: '/audiobooks/b8/' }] })
  t.match(await grant('/podcasts/1/'), { outcome: 'FST_ERR_CF_INVALID_PARAM', message: /no rule or route config covers it.*\{ authorized: true \}/, paths: [] },
    'no authorize applies to a prefix nothing covers')
  t.equal(app.cloudfront.stats().signatures, 3, 'only the granted prefixes were signed: "/", "/audiobooks/", "/audiobooks/b7/"')
})

t.test('config.cloudfront and grant() of the same prefix send one set', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ rules: [] }))
  app.get('/api/books/:bookId/listen', { config: { cloudfront: { resource: '/audiobooks/:bookId/*' } } }, async (request, reply) => {
    await reply.cloudfront.grant(`/audiobooks/${(request.params as { bookId: string }).bookId}/`, { authorized: true })
    return 'ok'
  })
  app.get('/api/books/:bookId/other', { config: { cloudfront: { resource: '/audiobooks/:bookId/*' } } }, async (request, reply) => {
    await reply.cloudfront.grant('/podcasts/1/', { authorized: true })
    return 'ok'
  })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/api/books/b7/listen', headers: { 'x-user': 'alice' } })
  t.strictSame(cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path')), ['/audiobooks/b7/', '/audiobooks/b7/', '/audiobooks/b7/'])
  const two = await app.inject({ url: '/api/books/b7/other', headers: { 'x-user': 'alice' } })
  t.equal(cloudfrontSetCookies(two.headers['set-cookie']).length, 6, 'two prefixes: two sets')
})
