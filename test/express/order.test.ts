import t from 'tap'
import express, { type Request, type RequestHandler } from 'express'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { options } from '../behaviour/options.js'
import { cloudfrontSetCookies } from '../helpers/cookies.js'
import { serve } from './serve.js'

type WithUser = Request & { user?: string }

// Stands in for a session middleware: the user is known only after it ran, and only asynchronously.
const session: RequestHandler = (req, res, next) => {
  setImmediate(() => {
    (req as WithUser).user = req.get('x-user')
    next()
  })
}

t.test('getUser sees what the session middleware mounted before it set', async (t) => {
  const app = express()
  app.use(session)
  app.use(expressCloudfrontCookies<WithUser>({ ...options(), getUser: (req) => req.user }))
  app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  const server = await serve(app)
  t.teardown(() => server.close())
  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
})

t.test('mounted before the session middleware, it sees no user and grants nothing', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies<WithUser>({ ...options(), getUser: (req) => req.user }))
  app.use(session)
  app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  const server = await serve(app)
  t.teardown(() => server.close())
  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.equal(res.status, 200)
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
})

t.test('a grant does not delay the next handler: it runs within the same call, signed or cached', async (t) => {
  const app = express()
  const order: string[] = []
  app.use((req, res, next) => {
    next()
    order.push('returned')
  })
  app.use(expressCloudfrontCookies(options()))
  app.get('/courses/:courseId/player', (req, res) => {
    order.push('handler')
    res.send('ok')
  })
  const server = await serve(app)
  t.teardown(() => server.close())
  await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.same(order, ['handler', 'returned'], 'a miss is signed once the status is known, after the handler')
  order.length = 0
  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.same(order, ['handler', 'returned'], 'a hit calls next() synchronously')
  t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
})
