import t from 'tap'
import express from 'express'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { CLOUDFRONT_COOKIE_NAMES } from '../../src/core/cookies.js'
import { options } from '../behaviour/options.js'
import { setCookies, cloudfrontSetCookies, cookieHeader, judge } from '../helpers/cookies.js'
import { serve } from './serve.js'

t.test('cookies from middleware before and after, and from res.cookie() in the handler, are all kept', async (t) => {
  const app = express()
  app.use((req, res, next) => {
    res.cookie('before', '1', { path: '/' })
    next()
  })
  app.use(expressCloudfrontCookies(options()))
  app.use((req, res, next) => {
    res.append('Set-Cookie', 'after=2; Path=/')
    next()
  })
  app.get('/courses/:courseId/player', (req, res) => {
    res.cookie('handler', '3', { httpOnly: true })
    res.send('ok')
  })
  const server = await serve(app)
  t.teardown(() => server.close())

  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  const all = setCookies(res.headers['set-cookie'])
  for (const name of ['before=1', 'after=2', 'handler=3']) {
    t.equal(all.filter((c) => c.startsWith(name)).length, 1, `${name} once`)
  }
  t.equal(cloudfrontSetCookies(all).length, 3)
  t.equal(judge('/courses/42/a.ts', cookieHeader(all)).ok, true)
})

t.test('headers passed to writeHead() directly, as an object or a flat list, are merged too', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  app.get('/courses/:courseId/object', (req, res) => {
    res.cookie('early', '0')
    res.writeHead(200, { 'Set-Cookie': ['raw=1; Path=/'], 'Cache-Control': 'public, max-age=60' })
    res.end('ok')
  })
  app.get('/courses/:courseId/list', (req, res) => {
    res.writeHead(200, 'Fine', ['Set-Cookie', 'a=1; Path=/', 'set-cookie', 'b=2; Path=/', 'Cache-Control', 'no-cache'])
    res.end('ok')
  })
  const server = await serve(app)
  t.teardown(() => server.close())

  const obj = await server.request('/courses/42/object', { headers: { 'x-user': 'alice' } })
  const objCookies = setCookies(obj.headers['set-cookie'])
  t.ok(objCookies.some((c) => c.startsWith('raw=1')), 'the writeHead cookie is kept')
  t.equal(cloudfrontSetCookies(objCookies).length, 3)
  t.equal(obj.headers['cache-control'], 'private, no-store')
  t.match(String(obj.headers['cloudfront-grant-expires']), /^\d{10}$/)

  const list = await server.request('/courses/42/list', { headers: { 'x-user': 'alice' } })
  const listCookies = setCookies(list.headers['set-cookie'])
  t.ok(listCookies.some((c) => c.startsWith('a=1')))
  t.ok(listCookies.some((c) => c.startsWith('b=2')))
  t.equal(cloudfrontSetCookies(listCookies).length, 3)
  t.equal(list.headers['cache-control'], 'private, no-store, no-cache', 'stricter directives kept')
})

t.test('a streamed response gets its grant with the first write', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  app.get('/courses/:courseId/player', (req, res) => {
    res.write('part 1, ')
    res.end('part 2')
  })
  const server = await serve(app)
  t.teardown(() => server.close())
  const res = await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  t.equal(res.body, 'part 1, part 2')
  t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
})

t.test('revoke() clears are appended to the app\'s cookies', async (t) => {
  const app = express()
  app.use(expressCloudfrontCookies(options()))
  app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
  app.post('/logout', async (req, res) => {
    res.clearCookie('session')
    await req.cloudfront.revoke()
    res.send('bye')
  })
  const server = await serve(app)
  t.teardown(() => server.close())
  await server.request('/courses/42/player', { headers: { 'x-user': 'alice' } })
  const res = await server.request('/logout', { method: 'POST', headers: { 'x-user': 'alice' } })
  const all = setCookies(res.headers['set-cookie'])
  t.ok(all.some((c) => c.startsWith('session=;')), 'the app\'s own clear is kept')
  const clears = cloudfrontSetCookies(all)
  t.same(clears.map((c) => c.slice(0, c.indexOf('='))), CLOUDFRONT_COOKIE_NAMES)
  t.ok(clears.every((c) => /; Path=\/courses\/42\/;/.test(c) && /Max-Age=0/.test(c)), 'cleared for the cached prefix')
  t.equal(res.headers['cache-control'], 'private, no-store')
})

t.test('redirects carry a grant only when their status is allowed', async (t) => {
  for (const [statuses, expected] of [[undefined, 0], [[200, 302], 3]] as const) {
    const app = express()
    app.use(expressCloudfrontCookies(options(statuses === undefined ? {} : { statuses: [...statuses] })))
    app.get('/courses/:courseId/go', (req, res) => { res.redirect('/courses/42/player') })
    const server = await serve(app)
    const res = await server.request('/courses/42/go', { headers: { 'x-user': 'alice' } })
    await server.close()
    t.equal(res.status, 302)
    t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, expected, `statuses ${JSON.stringify(statuses)}`)
  }
})
