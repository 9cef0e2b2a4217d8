import t from 'tap'
import express from 'express'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { options } from '../behaviour/options.js'
import { cloudfrontSetCookies, cookieHeader, attr, judge } from '../helpers/cookies.js'
import { serve } from './serve.js'

// A mount path strips its prefix from req.url; rules are written against the path the client sent.
t.test('inside a router mounted at /app, rules match on originalUrl', async (t) => {
  const app = express()
  const router = express.Router()
  router.use(expressCloudfrontCookies(options({
    rules: [{ match: '/app/courses/:courseId/*', resource: '/courses/:courseId/*' }]
  })))
  let seenUrl = ''
  router.get('/courses/:courseId/player', (req, res) => {
    seenUrl = req.url
    res.send('ok')
  })
  app.use('/app', router)
  const server = await serve(app)
  t.teardown(() => server.close())

  const res = await server.request('/app/courses/42/player?t=1', { headers: { 'x-user': 'alice' } })
  t.equal(res.status, 200)
  t.equal(seenUrl, '/courses/42/player?t=1', 'the router saw the stripped url')
  const set = cloudfrontSetCookies(res.headers['set-cookie'])
  t.equal(set.length, 3)
  t.equal(attr(set[0] as string, 'Path'), '/courses/42/')
  const cookie = cookieHeader(res.headers['set-cookie'])
  t.equal(judge('/courses/42/index.m3u8', cookie).ok, true)
  t.equal(judge('/courses/43/index.m3u8', cookie).ok, false)
})

t.test('a rule written for the stripped url does not match under the mount path', async (t) => {
  const app = express()
  const router = express.Router()
  router.use(expressCloudfrontCookies(options()))
  router.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  app.use('/app', router)
  const server = await serve(app)
  t.teardown(() => server.close())

  const res = await server.request('/app/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.equal(res.status, 200)
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
})

t.test('hostile parameters are checked on the raw originalUrl, under a mount path too', async (t) => {
  const app = express()
  const router = express.Router()
  router.use(expressCloudfrontCookies(options({
    rules: [{ match: '/app/courses/:courseId/*', resource: '/courses/:courseId/*' }]
  })))
  let ran = false
  router.get('/courses/:courseId/player', (req, res) => {
    ran = true
    res.send('ok')
  })
  app.use('/app', router)
  app.use(((err, req, res, next) => { res.status(err.statusCode ?? 500).send(String(err.code)) }) as express.ErrorRequestHandler)
  const server = await serve(app)
  t.teardown(() => server.close())

  const res = await server.request('/app/courses/%2A/player', { headers: { 'x-user': 'alice' } })
  t.equal(res.status, 400)
  t.match(JSON.parse(res.body), { code: 'FST_ERR_CF_INVALID_PARAM' }, "the middleware's own answer")
  t.equal(ran, false, 'the handler never ran')
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
})

t.test('two middlewares on one app, and a mounted sub-app: each grants what its rules say', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  app.use(expressCloudfrontCookies(options({ rules: [{ match: '/books/:bookId/*', resource: '/books/:bookId/*' }] })))
  app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  app.get('/books/:bookId/read', (req, res) => { res.send('ok') })
  app.get('/courses/:courseId/missing', (req, res) => { res.status(404).send('missing') })
  const server = await serve(app)
  t.teardown(() => server.close())
  const paths = async (url: string): Promise<Array<string | undefined>> => {
    const res = await server.request(url, { headers: { 'x-user': 'alice' } })
    return cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path'))
  }
  t.strictSame(await paths('/courses/42/player'), ['/courses/42/', '/courses/42/', '/courses/42/'])
  t.strictSame(await paths('/books/7/read'), ['/books/7/', '/books/7/', '/books/7/'], 'the second middleware\'s rule')
  t.strictSame(await paths('/courses/42/missing'), [], 'a 404 carries nothing')
})

t.test('the middleware inside a mounted sub-app only', async (t) => {
  const app = express()
  const sub = express()
  sub.use(expressCloudfrontCookies(options({ rules: [{ match: '/sub/courses/:courseId/*', resource: '/courses/:courseId/*' }] })))
  sub.get('/courses/:courseId/player', (req, res) => { res.send('sub') })
  sub.get('/courses/:courseId/missing', (req, res) => { res.status(404).send('missing') })
  sub.post('/grant/:courseId', async (req, res) => { res.json(await req.cloudfront.grant(`/books/${req.params.courseId}/`, { authorized: true })) })
  app.use('/sub', sub)
  app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  const server = await serve(app)
  t.teardown(() => server.close())
  const paths = async (url: string, method = 'GET'): Promise<Array<string | undefined>> => {
    const res = await server.request(url, { method, headers: { 'x-user': 'alice' } })
    return cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path'))
  }
  t.strictSame(await paths('/sub/courses/43/player'), ['/courses/43/', '/courses/43/', '/courses/43/'])
  t.strictSame(await paths('/sub/courses/43/missing'), [])
  t.strictSame(await paths('/sub/grant/9', 'POST'), ['/books/9/', '/books/9/', '/books/9/'], 'grant() from req.cloudfront')
  t.strictSame(await paths('/courses/43/player'), [], 'the parent app\'s own routes: no middleware ran')
})
