import t from 'tap'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCloudfrontCookies from '../../src/index.js'
import { options } from '../behaviour/options.js'
import { setCookies, cloudfrontSetCookies } from '../helpers/cookies.js'

for (const order of ['@fastify/cookie first', '@fastify/cookie second']) {
  t.test(`cookies set with @fastify/cookie survive (${order})`, async (t) => {
    const app = Fastify()
    if (order.endsWith('first')) {
      await app.register(fastifyCookie)
      await app.register(fastifyCloudfrontCookies, options())
    } else {
      await app.register(fastifyCloudfrontCookies, options())
      await app.register(fastifyCookie)
    }
    app.get('/courses/:courseId/player', async (request, reply) => {
      reply.setCookie('session', 'abc', { path: '/', httpOnly: true })
      reply.header('set-cookie', 'theme=dark; Path=/')
      return 'ok'
    })
    t.teardown(() => app.close())
    const res = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
    const all = setCookies(res.headers['set-cookie'])
    t.equal(all.filter((c) => c.startsWith('session=abc')).length, 1, 'the @fastify/cookie cookie, once')
    t.equal(all.filter((c) => c.startsWith('theme=dark')).length, 1, 'the raw header cookie, once')
    t.equal(cloudfrontSetCookies(all).length, 3)
  })
}

t.test('a CloudFront cookie the app set for the same Path is replaced, not duplicated', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  app.get('/courses/:courseId/player', async (request, reply) => {
    reply.header('set-cookie', ['CloudFront-Signature=stale; Path=/courses/42/', 'CloudFront-Signature=other; Path=/courses/43/'])
    return 'ok'
  })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
  const sigs = setCookies(res.headers['set-cookie']).filter((c) => c.startsWith('CloudFront-Signature='))
  t.equal(sigs.length, 2)
  t.notOk(sigs.some((c) => c.startsWith('CloudFront-Signature=stale')))
  t.ok(sigs.some((c) => c.startsWith('CloudFront-Signature=other')), 'another Path is kept')
})
