// What the plugin writes to the Fastify logger: one debug line for each grant not given, with its
// reason and prefix, and never a cookie value, a signature, a policy or key material, at any level.
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fastifyCloudfrontCookies from '../../src/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION, cloudfrontSetCookies, cookieHeader } from '../helpers/cookies.js'

interface Line { level: number, msg: string, reason?: string, prefix?: string }

async function build (level: string): Promise<{ app: ReturnType<typeof Fastify>, lines: string[] }> {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, enc, done) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); done() } })
  const app = Fastify({ logger: { level, stream } })
  await app.register(fastifyCloudfrontCookies, {
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    distribution: DISTRIBUTION,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: (request) => request.headers['x-user'] as string | undefined,
    authorize: (request) => request.headers['x-user'] !== 'stranger'
  })
  app.get('/courses/:courseId/player', async () => 'ok')
  app.get('/courses/:courseId/crash', async () => { throw new Error('boom') })
  app.post('/grant', async (request, reply) => await reply.cloudfront.grant(String(request.headers['x-prefix'])).catch((err) => ({ error: err.code })))
  app.post('/logout', async (request, reply) => { await reply.cloudfront.revoke(); return 'bye' })
  await app.ready()
  return { app, lines }
}

t.test('the reasons appear at debug, one line each, with the prefix', async (t) => {
  const { app, lines } = await build('debug')
  t.teardown(() => app.close())
  const decisions = (): Array<Pick<Line, 'level' | 'reason' | 'prefix'>> => lines.map((l) => JSON.parse(l) as Line)
    .filter((l) => l.msg === 'no CloudFront grant').map(({ level, reason, prefix }) => ({ level, reason, prefix }))
  await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
  t.strictSame(decisions(), [], 'a granted request logs no decision')
  await app.inject({ url: '/courses/42/player' })
  await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'stranger' } })
  await app.inject({ url: '/courses/42/crash', headers: { 'x-user': 'alice' } })
  t.strictSame(decisions(), [
    { level: 20, reason: 'no-user', prefix: '/courses/42/' },
    { level: 20, reason: 'not-authorized', prefix: '/courses/42/' },
    { level: 20, reason: 'status', prefix: '/courses/42/' }
  ])
})

t.test('at info, no decision line is written', async (t) => {
  const { app, lines } = await build('info')
  t.teardown(() => app.close())
  await app.inject({ url: '/courses/42/player' })
  t.notOk(lines.some((l) => l.includes('no CloudFront grant')))
  t.ok(lines.length > 0, 'the logger is writing')
})

t.test('no cookie value, signature, policy or key material in any log line at any level', async (t) => {
  const { app, lines } = await build('trace')
  t.teardown(() => app.close())
  const granted = await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
  const sets = cloudfrontSetCookies(granted.headers['set-cookie'])
  t.equal(sets.length, 3)
  const cookie = cookieHeader(granted.headers['set-cookie'])
  await app.inject({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie } })
  await app.inject({ url: '/courses/43/crash', headers: { 'x-user': 'alice', cookie } })
  await app.inject({ method: 'POST', url: '/grant', headers: { 'x-user': 'alice', 'x-prefix': '/courses/*/', cookie } })
  for (const prefix of ['/', '/courses/', '/Courses/42/', '/c%6Furses/42/']) {
    const refused = await app.inject({ method: 'POST', url: '/grant', headers: { 'x-user': 'alice', 'x-prefix': prefix, cookie } })
    t.strictSame(refused.json(), { error: 'FST_ERR_CF_INVALID_PARAM' }, prefix)
  }
  await app.inject({ method: 'POST', url: '/logout', headers: { 'x-user': 'alice', cookie } })
  const secrets = [
    ...sets.map((c) => c.slice(c.indexOf('=') + 1, c.indexOf(';'))).filter((v) => v.length > 20),
    ...rsaKey.privatePem.split('\n').filter((l) => l.length > 40),
    'PRIVATE KEY', 'CloudFront-Signature=', 'CloudFront-Policy='
  ]
  t.ok(secrets.length >= 3, 'the policy and signature values are among the secrets')
  t.ok(lines.length > 5, `${lines.length} lines written`)
  for (const secret of secrets) {
    const leak = lines.find((l) => l.includes(secret) || l.includes(secret.slice(0, 32)))
    t.equal(leak, undefined, `not logged: ${secret.slice(0, 12)}…`)
  }
})
