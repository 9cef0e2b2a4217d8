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

t.test('cookies appended after ours never leak into the cached set of the next response', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  // Registered after the plugin: its onSend appends to the set-cookie list ours wrote.
  await app.register(fastifyCookie)
  app.get('/courses/:courseId/player', async (request, reply) => {
    reply.setCookie('session', String(request.headers['x-session']), { path: '/' })
    return 'ok'
  })
  t.teardown(() => app.close())
  const first = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-session': 'first' } })
  const second = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-session': 'second' } })
  t.same(setCookies(first.headers['set-cookie']).filter((c) => c.startsWith('session=')).map((c) => c.split(';')[0]), ['session=first'])
  t.same(setCookies(second.headers['set-cookie']).filter((c) => c.startsWith('session=')).map((c) => c.split(';')[0]), ['session=second'])
  t.equal(cloudfrontSetCookies(second.headers['set-cookie']).length, 3)
})
