import t from 'tap'
import Fastify from 'fastify'
import fastifyCloudfrontCookies from '../../src/index.js'
import { options } from '../behaviour/options.js'
import { cloudfrontSetCookies } from '../helpers/cookies.js'

t.test('a Path over 1,024 bytes: 500 FST_ERR_CF_COOKIE_TOO_LARGE, nothing issued; 1,000 bytes still fit', async (t) => {
  const app = Fastify({ routerOptions: { maxParamLength: 2000 } })
  await app.register(fastifyCloudfrontCookies, options())
  app.get('/courses/:courseId/player', async () => 'ok')
  t.teardown(() => app.close())
  const res = await app.inject({ url: `/courses/${'a'.repeat(1100)}/player`, headers: { 'x-user': 'alice' } })
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'FST_ERR_CF_COOKIE_TOO_LARGE')
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
  t.equal(res.headers['cloudfront-grant-expires'], undefined)
  const ok = await app.inject({ url: `/courses/${'a'.repeat(1000)}/player`, headers: { 'x-user': 'alice' } })
  t.equal(ok.statusCode, 200)
  t.equal(cloudfrontSetCookies(ok.headers['set-cookie']).length, 3)
})
