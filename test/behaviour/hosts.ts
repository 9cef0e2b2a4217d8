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
//   POST /progress/:courseId               explicit grant of "/courses/<courseId>/", 200 with the grant as JSON
//   POST /progress-crash/:courseId         explicit grant, then throws -> 500
//   POST /logout                           revoke(), 200
//   POST /logout/:courseId                 revoke("/courses/<courseId>/"), 200
// Identity: the `x-user` header (read by the options' getUser). Client IP: X-Forwarded-For (hosts trust the proxy).
import Fastify, { type FastifyRequest } from 'fastify'
import fastifyCloudfrontCookies, { type FastifyCloudfrontCookiesOptions, type GrantStats } from '../../src/index.js'

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
export type SharedOptions = FastifyCloudfrontCookiesOptions

export interface Host {
  name: string
  build: (options: SharedOptions) => Promise<HostApp>
}

export const fastifyHost: Host = {
  name: 'fastify plugin',
  async build (options) {
    const app = Fastify({ trustProxy: true })
    await app.register(fastifyCloudfrontCookies, options)
    app.get('/public', async () => 'public')
    app.get('/courses/:courseId/player', async () => 'ok')
    app.get('/courses/:courseId/missing', async (request, reply) => reply.code(404).send('missing'))
    app.get('/courses/:courseId/crash', async () => { throw new Error('boom') })
    app.get('/courses/:courseId/app-cookie', async (request, reply) => {
      reply.header('set-cookie', 'app=1; Path=/')
      reply.header('cache-control', 'public, max-age=600')
      return 'ok'
    })
    app.post('/progress/:courseId', async (request: FastifyRequest<{ Params: { courseId: string } }>, reply) => {
      return await reply.cloudfront.grant(`/courses/${request.params.courseId}/`)
    })
    app.post('/progress-crash/:courseId', async (request: FastifyRequest<{ Params: { courseId: string } }>, reply) => {
      await reply.cloudfront.grant(`/courses/${request.params.courseId}/`)
      throw new Error('boom after grant')
    })
    app.post('/logout', async (request, reply) => {
      await reply.cloudfront.revoke()
      return 'bye'
    })
    app.post('/logout/:courseId', async (request: FastifyRequest<{ Params: { courseId: string } }>, reply) => {
      await reply.cloudfront.revoke(`/courses/${request.params.courseId}/`)
      return 'bye'
    })
    await app.ready()
    return {
      async request (req) {
        const res = await app.inject({ method: req.method ?? 'GET', url: req.url, headers: req.headers ?? {} })
        return { status: res.statusCode, headers: res.headers, body: res.body }
      },
      stats: () => app.cloudfront.stats(),
      rotate: (id) => app.cloudfront.rotate(id),
      close: () => app.close()
    }
  }
}

/** Every host the behaviour suite runs on. */
export const hosts: Host[] = [fastifyHost]
