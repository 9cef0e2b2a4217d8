import { stat } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import fastifyReplyFrom from '@fastify/reply-from'
import {
  matchBehavior, resolveEdgeOptions, type CloudFrontEdgeOptions, type EdgeDenial, type ResolvedEdgeOptions
} from './options.js'
import { isSafeOriginPath } from '../core/paths.js'
import { normalisePath, stripCloudFrontCookies, stripSigningParams } from './paths.js'
import { hasSuffixRange, invalidRangeXml, isValidBytesRange, resolveSuffixRanges } from './range.js'

/** What the edge exposes on the Fastify instance (`fastify.cloudfrontEdge`). */
export interface CloudFrontEdgeHandle {
  /** Signature checks done, and requests served from the cache of verified grants. */
  stats: () => { verifications: number, cacheHits: number }
}

declare module 'fastify' {
  interface FastifyInstance {
    cloudfrontEdge: CloudFrontEdgeHandle
  }
}

/** The header that carries the refusal reason when `debug` is on. */
export const EDGE_REASON_HEADER = 'x-cloudfront-edge-reason'

const EXPOSED_HEADERS = 'Accept-Ranges, Content-Length, Content-Range, Content-Type, ETag'

// A reason may quote a decoded policy, which the viewer controls: keep the header valid.
function headerSafe (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512)
}

/** The file @fastify/static serves for this request: the path after the route's prefix, decoded as it decodes it. */
function servedFile (root: string, request: FastifyRequest): string | undefined {
  const route = request.routeOptions.url
  if (route === undefined || !route.endsWith('*')) return undefined
  const prefix = route.slice(0, -1)
  const rawUrl = request.raw.url ?? ''
  const q = rawUrl.indexOf('?')
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q)
  if (!rawPath.startsWith(prefix)) return undefined
  try {
    return join(root, decodeURI(rawPath.slice(prefix.length)))
  } catch {
    return undefined
  }
}

type EdgeCors = NonNullable<ResolvedEdgeOptions['cors']>

async function cloudfrontEdgePlugin (fastify: FastifyInstance, options: CloudFrontEdgeOptions): Promise<void> {
  const config = resolveEdgeOptions(options)
  fastify.decorate('cloudfrontEdge', { stats: () => edgeStats(config) })
  fastify.addHook('onRequest', judgeEachRequest(config))
  const origin = config.origin
  if (origin.kind === 'root') await serveDirectory(fastify, origin.root)
  else await forwardToUpstream(fastify, origin.upstream, config.cors !== null)
  // CloudFront's default allowed methods; anything else gets a clear answer rather than a 404.
  fastify.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/*',
    handler: function cloudfrontEdgeMethodNotAllowed (_request, reply) {
      reply.code(405).header('allow', 'GET, HEAD').type('text/plain; charset=utf-8').send('Method Not Allowed')
    }
  })
}

function edgeStats (config: ResolvedEdgeOptions): { verifications: number, cacheHits: number } {
  let verifications = 0
  let cacheHits = 0
  for (const v of config.verifiers) {
    const s = v.stats()
    verifications += s.verifications
    cacheHits += s.cacheHits
  }
  return { verifications, cacheHits }
}

/** The onRequest hook: CORS, then the behaviour's signature check, then the path's safety for the origin. */
function judgeEachRequest (config: ResolvedEdgeOptions) {
  const { behaviors, cors } = config
  return function cloudfrontEdgeOnRequest (request: FastifyRequest, reply: FastifyReply,
    done: HookHandlerDoneFunction): void {
    if (cors && applyCors(cors, request, reply)) return
    const rawUrl = request.raw.url ?? '/'
    const q = rawUrl.indexOf('?')
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q)
    const behavior = matchBehavior(behaviors, normalisePath(rawPath))
    if (behavior.verifier !== null) {
      const result = behavior.verifier.verify({
        // The URL as it was on the wire: the verifier compares it raw, like CloudFront.
        url: (config.scheme ?? request.protocol) + '://' + (config.host ?? request.host) + rawUrl,
        cookieHeader: request.headers.cookie,
        clientIp: request.ip
      })
      if (!result.ok) {
        deny(config, request, reply, result)
        return
      }
    }
    if (!isSafeOriginPath(rawPath)) {
      reply.code(400).type('text/plain; charset=utf-8')
        .send('Bad Request: the path has dot segments, control characters or invalid percent-encoding')
      return
    }
    done()
  }
}

function deny (config: ResolvedEdgeOptions, request: FastifyRequest, reply: FastifyReply, denial: EdgeDenial): void {
  reply.code(403).header('content-type', 'text/xml').header('x-cache', 'Error from cloudfront')
  if (config.debug) reply.header(EDGE_REASON_HEADER, headerSafe(denial.reason))
  // CloudFront's error document: the code and its fixed message, never the reason.
  reply.send('<?xml version="1.0" encoding="UTF-8"?>' +
    `<Error><Code>${denial.code}</Code><Message>${denial.message}</Message></Error>`)
  if (config.onDeny) {
    try {
      config.onDeny(request, denial)
    } catch (err) {
      request.log.error({ err }, 'cloudfront edge: onDeny threw')
    }
  }
}

/** Adds the CORS headers for an allowed origin; answers its preflight. Returns true when it replied. */
function applyCors (cors: EdgeCors, request: FastifyRequest, reply: FastifyReply): boolean {
  reply.header('vary', 'Origin')
  const from = request.headers.origin
  if (from === undefined || !cors.origins.has(from)) return false
  reply.header('access-control-allow-origin', from)
  reply.header('access-control-allow-credentials', 'true')
  const preflightMethod = request.headers['access-control-request-method']
  if (request.method === 'OPTIONS' && preflightMethod !== undefined) {
    // A preflight never carries cookies, so it cannot be judged; it reveals nothing but the CORS rules.
    reply.header('access-control-allow-methods', 'GET, HEAD')
    const wanted = request.headers['access-control-request-headers']
    if (wanted !== undefined) reply.header('access-control-allow-headers', wanted)
    reply.header('access-control-max-age', String(cors.maxAge))
    reply.code(204).send()
    return true
  }
  reply.header('access-control-expose-headers', EXPOSED_HEADERS)
  return false
}

/** Serves a directory like S3: ranges as S3 reads them, its 416 document, no index, listing or redirect. */
async function serveDirectory (fastify: FastifyInstance, root: string): Promise<void> {
  // In a context of its own, so that the S3-like error answers below cover the files it serves and nothing else.
  await fastify.register(async function cloudfrontEdgeDirectory (directory) {
    directory.addHook('onRequest', function cloudfrontEdgeRange (request, _reply, done) {
      const range = request.raw.headers.range
      if (range === undefined) return done()
      if (!isValidBytesRange(range)) {
        delete request.raw.headers.range
        return done()
      }
      // A suffix-range alone needs the size, so only it costs a stat (of the file @fastify/static serves).
      const file = hasSuffixRange(range) ? servedFile(root, request) : undefined
      if (file === undefined) return done()
      stat(file, (err, stats) => {
        if (err === null && stats.isFile()) {
          const resolved = resolveSuffixRanges(range, stats.size)
          if (resolved === undefined) delete request.raw.headers.range
          else request.raw.headers.range = resolved
        }
        done()
      })
    })
    directory.setErrorHandler(function cloudfrontEdgeDirectoryError (
      err: Error & { statusCode?: number, headers?: Record<string, string> }, request, reply) {
      if (err.statusCode !== 416) throw err
      const size = /^bytes \*\/(\d+)$/.exec(err.headers?.['Content-Range'] ?? '')?.[1]
      reply.code(416).header('content-type', 'application/xml')
      if (size !== undefined) reply.header('content-range', `bytes */${size}`)
      return reply.send(invalidRangeXml(request.headers.range ?? '', size === undefined ? undefined : Number(size)))
    })
    await directory.register(fastifyStatic, {
      root,
      prefix: '/',
      // S3-like: no directory index, listing or redirect; the user's app may have its own reply.sendFile.
      index: false,
      redirect: false,
      list: false,
      decorateReply: false
    })
  })
}

function withoutCloudFrontCookies (_request: unknown, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const cookie = stripCloudFrontCookies(headers.cookie)
  if (cookie === undefined) delete headers.cookie
  else headers.cookie = cookie
  return headers
}

// The edge's CORS answer wins over the origin's, as with a CloudFront response headers policy that overrides the
// origin.
function withEdgeCors (headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('access-control-')) delete headers[name]
  }
  if (headers.vary !== undefined && !/(^|,)\s*origin\s*(,|$)/i.test(String(headers.vary))) {
    headers.vary = `${String(headers.vary)}, Origin`
  }
  return headers
}

/** Forwards GET and HEAD to an upstream server, without the CloudFront cookies and signing parameters. */
async function forwardToUpstream (fastify: FastifyInstance, upstream: string, cors: boolean): Promise<void> {
  await fastify.register(fastifyReplyFrom, { base: upstream, disableRequestLogging: true })
  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    handler: function cloudfrontEdgeForward (request, reply) {
      const rawUrl = request.raw.url ?? '/'
      const q = rawUrl.indexOf('?')
      const query = q === -1 ? '' : stripSigningParams(rawUrl.slice(q + 1))
      return reply.from(q === -1 ? rawUrl : rawUrl.slice(0, q), {
        queryString: () => query,
        rewriteRequestHeaders: withoutCloudFrontCookies,
        ...(cors ? { rewriteHeaders: withEdgeCors } : {})
      })
    }
  })
}

/**
 * A local CloudFront edge: judges every request like CloudFront, with the core verifier, then
 * serves it from a directory or forwards it to an upstream server.
 */
export const cloudfrontEdge = fp(cloudfrontEdgePlugin, {
  fastify: '5.x',
  name: 'fastify-cloudfront-cookies-edge'
})
