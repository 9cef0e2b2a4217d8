import t from 'tap'
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { createVerifier } from '../../src/index.js'
import { getSignedUrl } from '@aws-sdk/cloudfront-signer'
import { options, manualClock } from '../behaviour/options.js'
import { rsaKey } from '../helpers/keys.js'
import { cookieHeader, judge } from '../helpers/cookies.js'

t.test('fastify.cloudfront.signUrl signs with the active key, as the AWS SDK does', async (t) => {
  const clock = manualClock()
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ now: clock.now }))
  t.teardown(() => app.close())
  const expires = Math.floor(clock.now() / 1000) + 60
  const url = await app.cloudfront.signUrl('https://media.example.com/courses/42/poster.jpg', { expires })
  const sdk = getSignedUrl({
    url: 'https://media.example.com/courses/42/poster.jpg',
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    dateLessThan: new Date(expires * 1000).toISOString()
  })
  const params = (u: string): Record<string, string> => Object.fromEntries(new URL(u).searchParams)
  t.same(params(url), params(sdk))
  const verdict = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey }, now: clock.now }).verify({ url })
  t.equal(verdict.ok, true)
  t.equal(app.cloudfront.activeKeyPairId, rsaKey.keyPairId)
})

t.test('fastify.cloudfront.signCookies signs a prefix with the custom set', async (t) => {
  const clock = manualClock()
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ now: clock.now }))
  t.teardown(() => app.close())
  const cookies = await app.cloudfront.signCookies('https://media.example.com/courses/42/*', { expiresIn: '10m' })
  t.ok(cookies['CloudFront-Policy'])
  t.equal(cookies['CloudFront-Expires'], undefined)
  const header = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ')
  t.equal(judge('/courses/42/x.ts', header, { now: clock.now }).ok, true)
  await t.rejects(app.cloudfront.signCookies('https://media.example.com/courses/42/*', { expires: clock.now() }), { code: 'FST_ERR_CF_INVALID_TIME', message: /milliseconds/ })
})

t.test('stats count hits, misses, signatures and size', async (t) => {
  const clock = manualClock()
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ now: clock.now }))
  app.get('/courses/:courseId/player', async () => 'ok')
  t.teardown(() => app.close())
  await app.inject({ url: '/courses/1/player', headers: { 'x-user': 'a' } })
  await app.inject({ url: '/courses/1/player', headers: { 'x-user': 'a' } })
  await app.inject({ url: '/courses/2/player', headers: { 'x-user': 'a' } })
  const s = app.cloudfront.stats()
  t.match(s, { hits: 1, misses: 2, signatures: 2, reissues: 0, coalesced: 0, size: 2 })
  t.ok(s.bytes > 0)
})

t.test('reply.cloudfront.grant with a hostile prefix rejects with a coded 400', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  app.post('/grant', async (request, reply) => reply.cloudfront.grant((request.body as { prefix: string }).prefix))
  t.teardown(() => app.close())
  for (const prefix of ['/courses/*', '/courses/42', 'courses/42/', '/courses/../42/', '/courses/4 2/', '/courses/?/']) {
    const res = await app.inject({ method: 'POST', url: '/grant', payload: { prefix }, headers: { 'x-user': 'a' } })
    t.equal(res.statusCode, 400, prefix)
    t.equal(res.json().code, 'FST_ERR_CF_INVALID_PARAM', prefix)
    t.equal(res.headers['set-cookie'], undefined, prefix)
  }
  const ok = await app.inject({ method: 'POST', url: '/grant', payload: { prefix: '/courses/42/' }, headers: { 'x-user': 'a' } })
  t.equal(ok.statusCode, 200)
  t.equal(cookieHeader(ok.headers['set-cookie']).split('; ').length, 3)
})

t.test('a grant with its own ttl', async (t) => {
  const clock = manualClock()
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options({ now: clock.now }))
  app.post('/grant', async (request, reply) => reply.cloudfront.grant('/live/1/', { ttl: 45, authorized: true }))
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/grant', headers: { 'x-user': 'a' } })
  t.equal(res.json().expires, Math.floor(clock.now() / 1000) + 45)
})
