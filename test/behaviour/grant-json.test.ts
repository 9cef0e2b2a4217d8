// A grant returned from a route as it is (`return reply.cloudfront.grant(prefix)`, `res.json(...)`)
// reaches the page's scripts: its body holds `{ prefix, expires }` and nothing signed, since the
// HttpOnly cookies exist to keep the signature from those scripts. The signed query and Cookie
// header are there for code that asks for them by name (a native player's app). Real servers on
// loopback, on every host.
import t from 'tap'
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import Fastify, { type FastifyRequest } from 'fastify'
import middie from '@fastify/middie'
import express from 'express'
import fastifyCloudfrontCookies, { createVerifier, type GrantResult } from '../../src/index.js'
import { expressCloudfrontCookies, type CloudfrontIncomingMessage } from '../../src/express/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION, cloudfrontSetCookies } from '../helpers/cookies.js'
import { options } from './options.js'

type Course = FastifyRequest<{ Params: { courseId: string } }>

/** What the explicit route answers: the grant, and what a native app asks of it by name. */
function explicit (grant: GrantResult | null): unknown {
  return grant === null ? null : { grant, query: grant.signedQuery(), cookie: grant.cookieHeader(), inspected: inspect(grant), spread: { ...grant } }
}

interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

function get (port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, path, headers: { 'x-user': 'alice' }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    r.on('error', reject)
    r.end()
  })
}

// Routes: GET /grant/:courseId returns the grant as it is; GET /native/:courseId asks it explicitly.
const hosts: Array<{ name: string, start: () => Promise<{ port: number, close: () => Promise<void> }> }> = [
  {
    name: 'fastify plugin',
    async start () {
      const app = Fastify()
      await app.register(fastifyCloudfrontCookies, options())
      app.get('/grant/:courseId', async (request: Course, reply) => reply.cloudfront.grant(`/courses/${request.params.courseId}/`))
      app.get('/native/:courseId', async (request: Course, reply) => explicit(await reply.cloudfront.grant(`/courses/${request.params.courseId}/`)))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
    }
  },
  {
    name: 'express middleware',
    async start () {
      const app = express()
      app.use(expressCloudfrontCookies(options()))
      app.get('/grant/:courseId', async (req, res) => { res.json(await req.cloudfront.grant(`/courses/${req.params.courseId}/`)) })
      app.get('/native/:courseId', async (req, res) => { res.json(explicit(await req.cloudfront.grant(`/courses/${req.params.courseId}/`))) })
      const server: Server = app.listen(0, '127.0.0.1')
      await new Promise<void>((resolve) => server.once('listening', resolve))
      return {
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
      }
    }
  },
  {
    name: 'express middleware in fastify (middie)',
    async start () {
      const app = Fastify()
      await app.register(middie)
      app.use(expressCloudfrontCookies(options()))
      const api = (request: FastifyRequest): CloudfrontIncomingMessage['cloudfront'] => (request.raw as CloudfrontIncomingMessage).cloudfront
      app.get('/grant/:courseId', async (request: Course) => api(request).grant(`/courses/${request.params.courseId}/`))
      app.get('/native/:courseId', async (request: Course) => explicit(await api(request).grant(`/courses/${request.params.courseId}/`)))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
    }
  }
]

const verifier = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey } })
const SIGNED = /Policy|Signature|Key-Pair-Id|Expires=|CloudFront-|"query"|"cookie"/

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const app = await host.start()
    t.teardown(app.close)

    const plain = await get(app.port, '/grant/42')
    t.equal(plain.status, 200)
    const body = JSON.parse(plain.body)
    t.strictSame(Object.keys(body), ['prefix', 'expires'], 'the body holds the prefix and the expiry')
    t.equal(body.prefix, '/courses/42/')
    t.ok(Number.isInteger(body.expires) && body.expires > Date.now() / 1000)
    t.notMatch(plain.body, SIGNED, 'and nothing signed')
    const cookies = cloudfrontSetCookies(plain.headers['set-cookie'])
    t.equal(cookies.length, 3, 'the set travels as it should: in HttpOnly cookies')
    t.ok(cookies.every((c) => /; HttpOnly/.test(c)))
    for (const c of cookies) t.notOk(plain.body.includes(c.slice(c.indexOf('=') + 1, c.indexOf(';'))), `${c.slice(0, c.indexOf('='))}'s value is not in the body`)

    const native = await get(app.port, '/native/43')
    const out = JSON.parse(native.body) as { grant: unknown, query: string, cookie: string, inspected: string, spread: unknown }
    // Its own expiry: signed for another course, maybe a second later than the first.
    const nested = out.grant as { expires: number }
    t.strictSame(out.grant, { prefix: '/courses/43/', expires: nested.expires }, 'nested in an answer, the grant still serialises without its values')
    t.ok(Number.isInteger(nested.expires) && Math.abs(nested.expires - body.expires) <= 5, 'with the expiry of a grant made now')
    t.strictSame(out.spread, out.grant, 'a spread copies no signed value')
    t.notMatch(out.inspected, /Policy|Signature|Key-Pair-Id/, 'nor does util.inspect show one (a console.log of it)')
    t.match(out.query, /^Policy=[A-Za-z0-9_~-]+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=KTESTRSA000001$/, 'asked by name, the signed query')
    t.match(out.cookie, /^CloudFront-Policy=[^;]+; CloudFront-Signature=[^;]+; CloudFront-Key-Pair-Id=KTESTRSA000001$/, 'and the Cookie header')
    const url = `${DISTRIBUTION}/courses/43/hd/seg-001.ts`
    const byQuery = verifier.verify({ url: `${url}?${out.query}`, cookieHeader: undefined, clientIp: undefined })
    t.ok(byQuery.ok, 'the query opens a file of the prefix')
    t.ok(verifier.verify({ url, cookieHeader: out.cookie, clientIp: undefined }).ok, 'so does the Cookie header')
    t.notOk(verifier.verify({ url: `${DISTRIBUTION}/courses/42/hd/seg-001.ts?${out.query}`, cookieHeader: undefined, clientIp: undefined }).ok, 'and no other prefix')
  })
}
