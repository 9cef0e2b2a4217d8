// The hosts the behaviour suite runs against. Each builds the same small app around the library
// with the given options and exposes it through one request function, so every behaviour case is
// written once and checked on every host.
//
// The app every host must serve:
//   GET  /public                           200 "public" (no rule matches)
//   GET  /courses/:courseId/player         200 "ok"
//   GET  /courses/:courseId/missing        404
//   GET  /courses/:courseId/crash          throws -> 500
//   GET  /courses/:courseId/app-cookie     sets its own cookie "app=1; Path=/" and "Cache-Control: public, max-age=600", 200
//   GET  /courses/:courseId/regrant        a rule-matched route that also calls grant("/courses/<courseId>/") twice,
//                                          the second with ttl "10m"; 200
//   POST /progress/:courseId               explicit grant of "/courses/<courseId>/", 200 with the grant as JSON
//   POST /progress-crash/:courseId         explicit grant, then throws -> 500
//   POST /logout                           revoke(), 200
//   POST /logout/:courseId                 revoke("/courses/<courseId>/"), 200
//   POST /probe                            calls grant(x-prefix) (or revoke(x-prefix?) with x-revoke), catching what it
//                                          throws or rejects with ({ authorized: true } with x-authorized),
//                                          then grant(x-also) when given; 200 with
//                                          { threw, outcome } as JSON (see probe())
//   POST /manifest-url                     grant(x-grant) when given, then manifestUrl(x-path) with { duration:
//                                          x-duration } and { authorized: true } with x-authorized; answers x-status
//                                          (default 200) with { url } as JSON
// Identity: the `x-user` header (read by the options' getUser). Client IP: X-Forwarded-For (hosts trust the proxy).
import type { IncomingHttpHeaders } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import middie from '@fastify/middie'
import express, { type ErrorRequestHandler } from 'express'
import fastifyCloudfrontCookies, { type GrantStats } from '../../src/index.js'
import type { GrantApi, GrantOptions } from '../../src/core/grants/types.js'
import { expressCloudfrontCookies, type CloudfrontIncomingMessage } from '../../src/express/index.js'
import { serve } from '../express/serve.js'

export interface HostResponse {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

export interface HostRequest {
  method?: 'GET' | 'POST'
  url: string
  headers?: Record<string, string>
}

export interface HostApp {
  request: (req: HostRequest) => Promise<HostResponse>
  stats: () => GrantStats
  rotate: (keyPairId: string) => void
  close: () => Promise<void>
}

/** Options as the suite writes them: getUser and authorize read only `headers`, present on every host's request. */
export type SharedOptions = GrantOptions<{ headers: IncomingHttpHeaders }>

export interface Host {
  name: string
  build: (options: SharedOptions) => Promise<HostApp>
}

type Course = FastifyRequest<{ Params: { courseId: string } }>

/** What POST /probe answers: whether the call threw synchronously, and how its promise settled. */
export interface ProbeResult {
  threw: boolean
  outcome: string
}

// A handler that catches a failing grant() or revoke() and answers 200 anyway, as an app may.
async function probe (api: GrantApi, headers: IncomingHttpHeaders): Promise<ProbeResult> {
  const out: ProbeResult = { threw: false, outcome: 'none' }
  let pending: Promise<unknown> | undefined
  try {
    pending = headers['x-revoke'] !== undefined
      ? api.revoke(headers['x-prefix'] === undefined ? undefined : String(headers['x-prefix']))
      : api.grant(String(headers['x-prefix']), headers['x-authorized'] === undefined ? undefined : { authorized: true })
  } catch {
    out.threw = true
  }
  if (pending !== undefined) {
    out.outcome = await pending.then((r) => (r === null ? 'null' : 'resolved'), (err: { code?: string }) => `rejected ${err.code ?? 'without code'}`)
  }
  if (typeof headers['x-also'] === 'string') await api.grant(headers['x-also'])
  return out
}

// A handler that hands out the signed URL of a templated manifest, without cookies.
async function manifestUrl (api: GrantApi, headers: IncomingHttpHeaders): Promise<{ url: string | null }> {
  const duration = headers['x-duration'] === undefined ? {} : { duration: Number(headers['x-duration']) }
  const authorized = headers['x-authorized'] === undefined ? {} : { authorized: true }
  if (typeof headers['x-grant'] === 'string') await api.grant(headers['x-grant'])
  return { url: await api.manifestUrl(String(headers['x-path']), { ...duration, ...authorized }) }
}

/** The status a handler answers with: x-status, else 200. */
const statusOf = (headers: IncomingHttpHeaders): number => Number(headers['x-status'] ?? 200)

// A route's own prefix asked for again by its handler, once as the rule grants it, once for longer.
async function regrant (api: GrantApi, courseId: string): Promise<void> {
  await api.grant(`/courses/${courseId}/`)
  await api.grant(`/courses/${courseId}/`, { ttl: '10m' })
}

// The app's routes for both Fastify hosts; `api` reaches the handler API (reply.cloudfront with the
// plugin, request.raw.cloudfront under middie).
function addRoutes (app: FastifyInstance, api: (request: FastifyRequest, reply: FastifyReply) => GrantApi): void {
  app.get('/public', async () => 'public')
  app.get('/courses/:courseId/player', async () => 'ok')
  app.get('/courses/:courseId/missing', async (request, reply) => reply.code(404).send('missing'))
  app.get('/courses/:courseId/crash', async () => { throw new Error('boom') })
  app.get('/courses/:courseId/app-cookie', async (request, reply) => {
    reply.header('set-cookie', 'app=1; Path=/')
    reply.header('cache-control', 'public, max-age=600')
    return 'ok'
  })
  app.get('/courses/:courseId/regrant', async (request: Course, reply) => {
    await regrant(api(request, reply), request.params.courseId)
    return 'ok'
  })
  app.post('/progress/:courseId', async (request: Course, reply) => {
    return await api(request, reply).grant(`/courses/${request.params.courseId}/`)
  })
  app.post('/progress-crash/:courseId', async (request: Course, reply) => {
    await api(request, reply).grant(`/courses/${request.params.courseId}/`)
    throw new Error('boom after grant')
  })
  app.post('/logout', async (request, reply) => {
    await api(request, reply).revoke()
    return 'bye'
  })
  app.post('/logout/:courseId', async (request: Course, reply) => {
    await api(request, reply).revoke(`/courses/${request.params.courseId}/`)
    return 'bye'
  })
  app.post('/probe', async (request, reply) => await probe(api(request, reply), request.headers))
  app.post('/manifest-url', async (request, reply) => {
    const body = await manifestUrl(api(request, reply), request.headers)
    return reply.code(statusOf(request.headers)).send(body)
  })
}

function injector (app: FastifyInstance): HostApp['request'] {
  return async (req) => {
    const res = await app.inject({ method: req.method ?? 'GET', url: req.url, headers: req.headers ?? {} })
    return { status: res.statusCode, headers: res.headers, body: res.body }
  }
}

export const fastifyHost: Host = {
  name: 'fastify plugin',
  async build (options) {
    const app = Fastify({ trustProxy: true })
    await app.register(fastifyCloudfrontCookies, options)
    addRoutes(app, (request, reply) => reply.cloudfront)
    await app.ready()
    return {
      request: injector(app),
      stats: () => app.cloudfront.stats(),
      rotate: (id) => app.cloudfront.rotate(id),
      close: () => app.close()
    }
  }
}

// Errors answered as Fastify does (statusCode, code, message as JSON), without logging them.
const expressErrors: ErrorRequestHandler = (err, req, res, next) => {
  const status = Number.isInteger(err?.statusCode) && err.statusCode >= 400 ? err.statusCode as number : 500
  res.status(status).json({ statusCode: status, code: err?.code, message: String(err?.message) })
}

/** The middleware in a real Express 5 app, over real HTTP on loopback. */
export const expressHost: Host = {
  name: 'express middleware',
  async build (options) {
    const app = express()
    app.set('trust proxy', true)
    const cloudfront = expressCloudfrontCookies(options)
    app.use(cloudfront)
    app.get('/public', (req, res) => { res.send('public') })
    app.get('/courses/:courseId/player', (req, res) => { res.send('ok') })
    app.get('/courses/:courseId/missing', (req, res) => { res.status(404).send('missing') })
    app.get('/courses/:courseId/crash', async () => { throw new Error('boom') })
    app.get('/courses/:courseId/app-cookie', (req, res) => {
      res.setHeader('set-cookie', 'app=1; Path=/')
      res.setHeader('cache-control', 'public, max-age=600')
      res.send('ok')
    })
    app.get('/courses/:courseId/regrant', async (req, res) => {
      await regrant(req.cloudfront, req.params.courseId)
      res.send('ok')
    })
    app.post('/progress/:courseId', async (req, res) => {
      res.json(await req.cloudfront.grant(`/courses/${req.params.courseId}/`))
    })
    app.post('/progress-crash/:courseId', async (req) => {
      await req.cloudfront.grant(`/courses/${req.params.courseId}/`)
      throw new Error('boom after grant')
    })
    app.post('/logout', async (req, res) => {
      await req.cloudfront.revoke()
      res.send('bye')
    })
    app.post('/logout/:courseId', async (req, res) => {
      await req.cloudfront.revoke(`/courses/${req.params.courseId}/`)
      res.send('bye')
    })
    app.post('/probe', async (req, res) => { res.json(await probe(req.cloudfront, req.headers)) })
    app.post('/manifest-url', async (req, res) => {
      res.status(statusOf(req.headers)).json(await manifestUrl(req.cloudfront, req.headers))
    })
    app.use(expressErrors)
    const served = await serve(app)
    return {
      request: (req) => served.request(req.url, { method: req.method ?? 'GET', headers: req.headers ?? {} }),
      stats: () => cloudfront.stats(),
      rotate: (id) => cloudfront.rotate(id),
      close: served.close
    }
  }
}

/** The same middleware inside Fastify through @fastify/middie: raw request and response. */
export const middieHost: Host = {
  name: 'express middleware in fastify (middie)',
  async build (options) {
    const app = Fastify({ trustProxy: true })
    await app.register(middie)
    const cloudfront = expressCloudfrontCookies(options)
    app.use(cloudfront)
    addRoutes(app, (request) => (request.raw as CloudfrontIncomingMessage).cloudfront)
    await app.ready()
    return {
      request: injector(app),
      stats: () => cloudfront.stats(),
      rotate: (id) => cloudfront.rotate(id),
      close: () => app.close()
    }
  }
}

/** Every host the behaviour suite runs on. */
export const hosts: Host[] = [fastifyHost, expressHost, middieHost]
