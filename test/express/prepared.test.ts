import t, { type Test } from 'tap'
import express, { type Express, type Request, type Response } from 'express'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import type { GrantDecision } from '../../src/core/grants/types.js'
import { options } from '../behaviour/options.js'
import { setCookies, cloudfrontSetCookies, cookieHeader, judge } from '../helpers/cookies.js'
import { serve, type Answer } from './serve.js'

// In an Express app, a route's grant the cache answers at once is decided when the status is known, without the
// per-request API (a prepared grant). Each case below is a cached grant: a first request signs the user's set for
// /courses/42/, the case's request must be served from the cache (no signature) and follow every rule a signed
// one follows, whatever the handler does with its status and headers.

type Handler = (req: Request, res: Response) => void | Promise<void>

async function cachedCase (
  t: Test, handler: Handler, user: string | null = 'alice', signs = 0
): Promise<{ answer: Answer, decisions: GrantDecision[] }> {
  const decisions: GrantDecision[] = []
  const app: Express = express()
  const cloudfront = expressCloudfrontCookies(options({ onDecision: (d) => { decisions.push(d) } }))
  app.use(cloudfront)
  app.get('/courses/:courseId/warm', (req, res) => { res.send('warm') })
  app.get('/courses/:courseId/case', (req, res, next) => { Promise.resolve(handler(req, res)).catch(next) })
  const server = await serve(app)
  t.teardown(() => server.close())
  const warm = await server.request('/courses/42/warm', { headers: { 'x-user': 'alice' } })
  t.equal(cloudfrontSetCookies(warm.headers['set-cookie']).length, 3, 'the first request signs')
  const before = cloudfront.stats()
  decisions.length = 0
  const answer = await server.request('/courses/42/case', { headers: user === null ? {} : { 'x-user': user } })
  const after = cloudfront.stats()
  t.equal(after.signatures, before.signatures + signs, 'signed only what the handler asked for')
  if (user === 'alice') t.equal(after.hits, before.hits + 1, 'served from the cache')
  return { answer, decisions }
}

const granted = (t: Test, answer: Answer): void => {
  const all = setCookies(answer.headers['set-cookie'])
  t.equal(cloudfrontSetCookies(all).length, 3, 'the set, once')
  t.equal(judge('/courses/42/a.ts', cookieHeader(all)).ok, true, 'a valid set')
  t.equal(answer.headers['cache-control'], 'private, no-store')
  t.match(String(answer.headers['cloudfront-grant-expires']), /^\d{10}$/)
}

const withheld = (t: Test, answer: Answer): void => {
  t.same(cloudfrontSetCookies(answer.headers['set-cookie']), [], 'no CloudFront cookie')
  t.equal(answer.headers['cloudfront-grant-expires'], undefined, 'no expiry header')
}

t.test('a cached grant on a 200 carries the set, and nothing is reported', async (t) => {
  const { answer, decisions } = await cachedCase(t, (req, res) => { res.send('ok') })
  granted(t, answer)
  t.same(decisions, [])
})

for (const status of [404, 500, 302, 401]) {
  t.test(`a cached grant on a ${status} carries nothing and is reported once as "status"`, async (t) => {
    const { answer, decisions } = await cachedCase(t, (req, res) => {
      if (status === 302) res.redirect('/elsewhere')
      else res.status(status).send('no')
    })
    t.equal(answer.status, status)
    withheld(t, answer)
    t.same(decisions, [{ reason: 'status', prefix: '/courses/42/' }])
  })
}

t.test('an explicit writeHead(500) then end(), and a write() after flushHeaders(), decide once', async (t) => {
  const failed = await cachedCase(t, (req, res) => {
    res.writeHead(500, { 'Content-Type': 'text/plain' })
    // A second writeHead throws (Node's own error) and decides nothing again.
    t.throws(() => res.writeHead(500), { code: 'ERR_HTTP_HEADERS_SENT' })
    res.write('a')
    res.end('b')
  })
  withheld(t, failed.answer)
  t.equal(failed.answer.body, 'ab')
  t.same(failed.decisions, [{ reason: 'status', prefix: '/courses/42/' }])

  const flushed = await cachedCase(t, (req, res) => {
    res.flushHeaders()
    res.write('a')
    res.end('b')
  })
  granted(t, flushed.answer)
  t.equal(flushed.answer.body, 'ab')
})

t.test('a handler that replaces Set-Cookie or Cache-Control keeps its cookie and gets the private set', async (t) => {
  const replaced = await cachedCase(t, (req, res) => {
    res.setHeader('Set-Cookie', 'session=1; Path=/')
    res.setHeader('Cache-Control', 'public, max-age=600')
    res.send('ok')
  })
  granted(t, replaced.answer)
  t.ok(setCookies(replaced.answer.headers['set-cookie']).some((c) => c.startsWith('session=1')), 'its cookie kept')

  const inWriteHead = await cachedCase(t, (req, res) => {
    res.writeHead(200, { 'Set-Cookie': ['raw=1; Path=/'], 'Cache-Control': 's-maxage=60, no-cache' })
    res.end('ok')
  })
  const all = setCookies(inWriteHead.answer.headers['set-cookie'])
  t.ok(all.some((c) => c.startsWith('raw=1')), 'the writeHead cookie is kept')
  t.equal(cloudfrontSetCookies(all).length, 3)
  t.equal(inWriteHead.answer.headers['cache-control'], 'private, no-store, no-cache')
})

t.test('writeHead(status, undefined or null, headers): the headers Node writes are the ones made private', async (t) => {
  for (const reason of [undefined, null, 'OK']) {
    for (const full of [false, true]) {
      const { answer } = await cachedCase(t, (req, res) => {
        // Reading req.cloudfront takes the full per-request path instead of the prepared grant.
        if (full) t.ok(req.cloudfront)
        res.writeHead(200, reason as string, { 'Cache-Control': 'public, max-age=600', 'Set-Cookie': 'raw=1; Path=/' })
        res.end('ok')
      })
      granted(t, answer)
      t.ok(setCookies(answer.headers['set-cookie']).some((c) => c.startsWith('raw=1')), `reason ${reason}: kept`)
    }
  }
})

t.test('a getUser that rejects fails the response: no grant on the 2xx an error handler answers', async (t) => {
  const decisions: GrantDecision[] = []
  let calls = 0
  const app = express()
  app.use(expressCloudfrontCookies(options({
    // Fails once, then answers: a retry at writeHead must not grant on the error page.
    getUser: async (req: unknown) => {
      if (calls++ === 0) throw new Error('session store down')
      return (req as Request).headers['x-user'] as string
    },
    onDecision: (d) => { decisions.push(d) }
  })))
  app.get('/courses/:courseId/case', (req, res) => { res.send('ok') })
  app.use((_err: Error, req: Request, res: Response, next: (err?: unknown) => void) => {
    res.status(200).send('error page')
  })
  const server = await serve(app)
  t.teardown(() => server.close())
  const answer = await server.request('/courses/42/case', { headers: { 'x-user': 'alice' } })
  t.equal(answer.body, 'error page')
  withheld(t, answer)
  t.same(decisions, [{ reason: 'failed', prefix: '/courses/42/' }])
})

t.test('a handler that asks req.cloudfront for more takes the prepared grant over', async (t) => {
  const more = await cachedCase(t, async (req, res) => {
    await req.cloudfront.grant('/books/7/', { authorized: true })
    res.send('ok')
  }, 'alice', 1)
  const all = setCookies(more.answer.headers['set-cookie'])
  t.equal(cloudfrontSetCookies(all).length, 6, 'the route set and the handler set')
  t.equal(judge('/courses/42/a.ts', cookieHeader(all.filter((c) => c.includes('Path=/courses/42/')))).ok, true)
  t.equal(judge('/books/7/a.ts', cookieHeader(all.filter((c) => c.includes('Path=/books/7/')))).ok, true)

  const revoked = await cachedCase(t, async (req, res) => {
    await req.cloudfront.revoke('/courses/42/')
    res.send('ok')
  })
  const cleared = cloudfrontSetCookies(revoked.answer.headers['set-cookie'])
  t.equal(cleared.length, 3, 'three clearing cookies')
  t.ok(cleared.every((c) => /Expires=Thu, 01 Jan 1970/.test(c)), 'all of them clear')
  t.same(revoked.decisions, [{ reason: 'revoked', prefix: '/courses/42/' }])

  const failed = await cachedCase(t, async (req, res) => {
    await req.cloudfront.grant('/books/7/', { authorized: true })
    res.status(403).send('no')
  }, 'alice', 1)
  withheld(t, failed.answer)
})

t.test('anonymous and refused requests to a cached route: reported once, with the status first', async (t) => {
  const anonymous = await cachedCase(t, (req, res) => { res.send('ok') }, null)
  withheld(t, anonymous.answer)
  t.same(anonymous.decisions, [{ reason: 'no-user', prefix: '/courses/42/' }])

  const anonymous404 = await cachedCase(t, (req, res) => { res.status(404).send('no') }, null)
  withheld(t, anonymous404.answer)
  t.same(anonymous404.decisions, [{ reason: 'status', prefix: '/courses/42/' }])
})
