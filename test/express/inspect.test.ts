import t from 'tap'
import { inspect } from 'node:util'
import express from 'express'
import Fastify from 'fastify'
import fastifyCloudfrontCookies from '../../src/index.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { options } from '../behaviour/options.js'
import { cloudfrontSetCookies, cookieHeader } from '../helpers/cookies.js'
import { serve } from './serve.js'
import { rsaKey } from '../helpers/keys.js'

// A response's grant state hangs off objects apps print while debugging (`console.log(res.locals)`, a Fastify
// reply) and hand to templates (res.locals): whatever path decided it, no signed value shows there.

/** The signed values a response carried: each cookie's value, long enough to be found in any text. */
const signedValues = (header: unknown): string[] =>
  cloudfrontSetCookies(header).map((c) => c.slice(c.indexOf('=') + 1, c.indexOf(';')))
    .filter((v) => v.length > 20)

/** A line of the private key's PEM, given to the engine as text. */
const KEY_LINE = rsaKey.privatePem.split('\n')[3] as string

const printed = (value: unknown): string => inspect(value, { depth: Infinity, showHidden: true, getters: false })

t.test('Express: res.locals printed by a handler holds no signed value, cached, signing or after grant()', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  let seen = ''
  let logged = ''
  app.get('/courses/:id/route', (req, res) => {
    seen = printed(res.locals)
    logged = inspect(res.locals)
    res.send('ok')
  })
  app.get('/courses/:id/more', async (req, res) => {
    await req.cloudfront.grant('/books/1/', { authorized: true })
    seen = printed(res.locals)
    logged = inspect(res.locals)
    res.send('ok')
  })
  const server = await serve(app)
  t.teardown(() => server.close())
  // The first request signs; the second is a cached (prepared) grant; the third takes it over with a grant().
  let first: unknown
  for (const path of ['/courses/1/route', '/courses/1/route', '/courses/1/more']) {
    const answer = await server.request(path, { headers: { 'x-user': 'alice' } })
    first ??= answer.headers['set-cookie']
    const values = signedValues(answer.headers['set-cookie'])
    t.ok(values.length >= 2, `${path}: the response carried a set`)
    t.ok(seen.length > 1000, 'the state was printed, deep')
    for (const v of values) t.notOk(seen.includes(v), `${path}: a signed value is not printed`)
    t.notOk(seen.includes(KEY_LINE), 'nor the private key')
  }
  // A set the client presents (its Cookie header) is a credential too: not printed by console.log(res.locals)
  // (a deep print reaches the request and its headers, as for any Express app).
  for (const path of ['/courses/1/route', '/courses/1/more']) {
    await server.request(path, { headers: { 'x-user': 'alice', cookie: cookieHeader(first) } })
    t.ok(logged.length > 100, 'the state was printed')
    for (const v of signedValues(first)) t.notOk(logged.includes(v), `${path}: a presented value is not printed`)
  }
})

t.test('Fastify: a reply printed by a handler holds no signed value, for the route\'s grant or grant()', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  let seen = ''
  app.get('/courses/:id/more', async (request, reply) => {
    await reply.cloudfront.grant('/books/1/', { authorized: true })
    await reply.cloudfront.grant('/courses/1/')
    seen = printed(reply)
    return 'ok'
  })
  t.teardown(() => app.close())
  for (let i = 0; i < 2; i++) {
    const answer = await app.inject({ url: '/courses/1/more', headers: { 'x-user': 'alice' } })
    const values = signedValues(answer.headers['set-cookie'])
    t.ok(values.length >= 4, 'the response carried both sets')
    t.ok(seen.length > 1000, 'the reply was printed, deep')
    for (const v of values) t.notOk(seen.includes(v), 'a signed value is not printed')
    t.notOk(seen.includes(KEY_LINE), 'nor the private key')
  }
})
