import t from 'tap'
import express, { type ErrorRequestHandler } from 'express'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { options } from '../behaviour/options.js'
import { rsaKey } from '../helpers/keys.js'
import { cloudfrontSetCookies } from '../helpers/cookies.js'
import { serve } from './serve.js'

t.test('registration errors are coded and thrown when the middleware is made', async (t) => {
  t.throws(() => expressCloudfrontCookies(options({ getUser: undefined as never })), { code: 'FST_ERR_CF_INVALID_OPTION', message: /getUser/ })
  t.throws(() => expressCloudfrontCookies(options({ distribution: 'https://media.example.com/videos' })), { code: 'FST_ERR_CF_INVALID_OPTION', message: /distribution/ })
  t.throws(() => expressCloudfrontCookies(options({ privateKey: rsaKey.publicPem })), { code: 'FST_ERR_CF_INVALID_KEY' })
  t.throws(() => expressCloudfrontCookies(options({ ttl: '15x' })), { code: 'FST_ERR_CF_INVALID_TIME' })
  t.throws(() => expressCloudfrontCookies(options({
    rules: [
      { match: '/courses/:courseId/*', resource: '/courses/:courseId/*' },
      { match: '/library/*', resource: '/courses/*' }
    ]
  })), { code: 'FST_ERR_CF_OVERLAPPING_RULES' })
})

const quietErrors: ErrorRequestHandler = (err, req, res, next) => {
  res.status(Number.isInteger(err.statusCode) ? err.statusCode : 500).send(String(err.code ?? err.message))
}

t.test('thrown errors in Express 5 handlers: 500, no grant', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  app.get('/courses/:courseId/async', async () => { throw new Error('async boom') })
  app.get('/courses/:courseId/sync', () => { throw new Error('sync boom') })
  app.get('/courses/:courseId/next', (req, res, next) => { next(new Error('passed on')) })
  app.post('/progress/:courseId', async (req) => {
    await req.cloudfront.grant(`/courses/${req.params.courseId}/`)
    throw new Error('boom after grant')
  })
  app.get('/courses/:courseId/ok', (req, res) => { res.send('ok') })
  app.use(quietErrors)
  const server = await serve(app)
  t.teardown(() => server.close())

  for (const [method, path] of [['GET', '/courses/42/async'], ['GET', '/courses/42/sync'], ['GET', '/courses/42/next'], ['POST', '/progress/42']]) {
    const res = await server.request(path as string, { method, headers: { 'x-user': 'alice' } })
    t.equal(res.status, 500, `${method} ${path}`)
    t.same(cloudfrontSetCookies(res.headers['set-cookie']), [], `${method} ${path}: no grant`)
    t.equal(res.headers['cloudfront-grant-expires'], undefined)
  }
  // The same user on a healthy route is granted: the refusals above were the status, not the user.
  const ok = await server.request('/courses/42/ok', { headers: { 'x-user': 'alice' } })
  t.equal(cloudfrontSetCookies(ok.headers['set-cookie']).length, 3)
})

t.test('hostile parameters: the middleware answers 400 itself, one line of JSON, no stack, in every environment', async (t) => {
  for (const env of ['development', 'production']) {
    await t.test(`Express env ${env}`, async (t) => {
      const app = express()
      app.set('env', env) // what NODE_ENV unset (development) and NODE_ENV=production give
      app.use(expressCloudfrontCookies(options()))
      let ran = false
      app.get('/courses/:courseId/player', (req, res) => {
        ran = true
        res.send('ok')
      })
      let handled = false
      app.use(((err, req, res, next) => {
        handled = true
        next(err)
      }) as ErrorRequestHandler)
      const logged: unknown[] = []
      const error = console.error
      console.error = (...args: unknown[]) => { logged.push(args) }
      t.teardown(() => { console.error = error })
      const server = await serve(app)
      t.teardown(() => server.close())
      for (const path of ['/courses/4%2A2/player', '/courses/%2E%2E/player', '/courses/a%2Fb/player']) {
        const res = await server.request(path, { headers: { 'x-user': 'alice' } })
        t.equal(res.status, 400, path)
        t.match(res.headers['content-type'], /^application\/json/)
        t.equal(res.body.split('\n').length, 1, 'one line')
        t.match(JSON.parse(res.body), { statusCode: 400, code: 'FST_ERR_CF_INVALID_PARAM', error: 'Bad Request', message: /Route parameter "courseId" is not allowed/ })
        t.notMatch(res.body, /\bat |\.[jt]s:\d+/, 'no stack')
        t.same(cloudfrontSetCookies(res.headers['set-cookie']), [], 'nothing issued')
      }
      t.equal(ran, false, 'the handler never ran')
      t.equal(handled, false, 'no error reached the error handlers')
      t.same(logged, [], 'nothing was logged')
    })
  }
})

t.test('getUser or authorize failing: the error goes to Express before the handler runs', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options({ authorize: async () => { throw Object.assign(new Error('store down'), { code: 'E_STORE' }) } })))
  let ran = false
  app.get('/courses/:courseId/player', (req, res) => {
    ran = true
    res.send('ok')
  })
  app.use(quietErrors)
  const server = await serve(app)
  t.teardown(() => server.close())
  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.equal(res.status, 500)
  t.equal(res.body, 'E_STORE')
  t.equal(ran, false)
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
})
