// The mirror on every host, over real HTTP on loopback (players and ffmpeg need a socket):
// the Fastify plugin, the Express middleware, and the middleware inside Fastify through middie.
// Each app also has GET /api/courses/:courseId/stream, which hands the signed query and Cookie
// header of grant() to a native app, asking the grant for them by name (it serialises without them).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { Test } from 'tap'
import Fastify, { type FastifyRequest } from 'fastify'
import middie from '@fastify/middie'
import express, { type ErrorRequestHandler } from 'express'
import fastifyCloudfrontCookies, { type GrantResult, type GrantStats } from '../../src/index.js'
import { expressCloudfrontCookies, type CloudfrontIncomingMessage, type ExpressCloudfrontCookiesOptions } from '../../src/express/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'

export interface RawAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The body as it came over the wire (not decompressed). */
  body: Buffer
}

export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  url: string
  get: (path: string, headers?: Record<string, string>, method?: string) => Promise<RawAnswer>
  stats: () => GrantStats & { playlists?: unknown }
  close: () => Promise<void>
}

export type AppOptions = ExpressCloudfrontCookiesOptions<{ headers: IncomingHttpHeaders }>

/** What the playlist tests start from: the test key, a rule per course, the x-user header as the user, the mirror of `root` at /hls. */
export function playlistOptions (root: string, playlists: Record<string, unknown> = {}, overrides: Partial<AppOptions> = {}): AppOptions {
  return {
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    distribution: DISTRIBUTION,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
    authorize: 'any-signed-in-user',
    playlists: { prefix: '/hls', origin: { root }, ...playlists },
    ...overrides
  } as AppOptions
}

/** What a native app's stream endpoint answers: the grant with its signed values, asked for explicitly. */
export function forNativeApp (grant: GrantResult | null): { prefix: string, expires: number, query: string, cookie: string } | null {
  return grant === null ? null : { ...grant.toJSON(), query: grant.signedQuery(), cookie: grant.cookieHeader() }
}

export interface PlaylistHost {
  name: string
  start: (options: AppOptions) => Promise<RunningApp>
}

function client (port: number): RunningApp['get'] {
  return (path, headers = {}, method = 'GET') => new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    r.on('error', reject)
    r.end()
  })
}

async function listening (server: Server): Promise<number> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

const expressErrors: ErrorRequestHandler = (err, req, res, next) => {
  const status = Number.isInteger(err?.statusCode) && err.statusCode >= 400 ? err.statusCode as number : 500
  res.status(status).json({ statusCode: status, code: err?.code, message: String(err?.message) })
}

export const fastifyHost: PlaylistHost = {
  name: 'fastify plugin',
  async start (options) {
    const app = Fastify()
    await app.register(fastifyCloudfrontCookies, options as never)
    app.get('/api/courses/:courseId/stream', async (request: FastifyRequest<{ Params: { courseId: string } }>, reply) => {
      return forNativeApp(await reply.cloudfront.grant(`/courses/${request.params.courseId}/`))
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, get: client(port), stats: () => app.cloudfront.stats(), close: () => app.close() }
  }
}

export const expressHost: PlaylistHost = {
  name: 'express middleware',
  async start (options) {
    const app = express()
    const cloudfront = expressCloudfrontCookies(options)
    app.use(cloudfront)
    app.get('/api/courses/:courseId/stream', async (req, res) => {
      res.json(forNativeApp(await req.cloudfront.grant(`/courses/${req.params.courseId}/`)))
    })
    app.use(expressErrors)
    const server = app.listen(0, '127.0.0.1')
    const port = await listening(server)
    return {
      url: `http://127.0.0.1:${port}`,
      get: client(port),
      stats: () => cloudfront.stats(),
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    }
  }
}

export const middieHost: PlaylistHost = {
  name: 'express middleware in fastify (middie)',
  async start (options) {
    const app = Fastify()
    await app.register(middie)
    const cloudfront = expressCloudfrontCookies(options)
    app.use(cloudfront)
    app.get('/api/courses/:courseId/stream', async (request: FastifyRequest<{ Params: { courseId: string } }>) => {
      return forNativeApp(await (request.raw as CloudfrontIncomingMessage).cloudfront.grant(`/courses/${request.params.courseId}/`))
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, get: client(port), stats: () => cloudfront.stats(), close: () => app.close() }
  }
}

export const playlistHosts: PlaylistHost[] = [fastifyHost, expressHost, middieHost]

/** A host started for a test, closed when it ends. */
export function startWith (host: PlaylistHost, t: Test, options: AppOptions): Promise<RunningApp> {
  return host.start(options).then((app) => {
    t.teardown(() => app.close())
    return app
  })
}

/** An HTTP server on loopback for a test (an origin), closed when it ends; its base URL. */
export async function serve (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** One request as alice, the request target written on the wire byte for byte (no client library in between). */
export function rawRequest (app: RunningApp, target: string): Promise<{ status: number, body: string }> {
  const port = Number(new URL(app.url).port)
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resolve({ status: m === null ? 0 : Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
    // Written, not ended: a half-closed client would have its response dropped.
    socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-user: alice\r\nConnection: close\r\n\r\n`, 'latin1'))
  })
}
