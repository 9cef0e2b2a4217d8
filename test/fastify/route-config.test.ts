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
