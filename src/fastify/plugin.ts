import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify'
import { isThenable } from '../core/guards.js'
import { createGrantServices, type GrantServices, type Playlists } from '../core/grants/compose.js'
import type { GrantEngine } from '../core/grants/engine.js'
import {
  GrantResponse, routeGrant, writeGrantHeaders, type Carried, type HeaderAccess
} from '../core/grants/response.js'
import type { PendingGrant } from '../core/grants/rule-book.js'
import {
  type ClientInfo, type GrantApi, type GrantInstanceApi, type GrantOptions, type GrantRuleSettings,
  type MaybePromise
} from '../core/grants/types.js'
import { pathOf } from '../core/url.js'
import type { PlaylistResponse } from '../core/playlists/mirror.js'

/** Plugin options: see the README for each one and its default. */
export interface FastifyCloudfrontCookiesOptions extends GrantOptions<FastifyRequest> {}

/**
 * `config.cloudfront` of a route: the same settings as a rule (its `match` is the route itself), or `false` to opt out.
 */
export type CloudfrontRouteOptions = GrantRuleSettings<FastifyRequest>

/** `reply.cloudfront`: explicit grants and revocation from a handler. */
export type CloudfrontReply = GrantApi

/** `fastify.cloudfront`. */
export type CloudfrontDecorator = GrantInstanceApi

declare module 'fastify' {
  interface FastifyContextConfig {
    cloudfront?: CloudfrontRouteOptions | false
  }
  interface FastifyInstance {
    cloudfront: CloudfrontDecorator
  }
  interface FastifyReply {
    cloudfront: CloudfrontReply
  }
}

const kState = Symbol('fastify-cloudfront-cookies.state')
const kPending = Symbol('fastify-cloudfront-cookies.pending')

// A reply holds its route's grant (kPending) and, only when its handler uses reply.cloudfront or
// fails, a GrantResponse (kState): replies that only carry their route's grant allocate nothing for
// it (bench:plugin, plugin-cached).
type StatefulReply = FastifyReply & {
  [kState]: GrantResponse<FastifyRequest> | null
  [kPending]: PendingGrant<FastifyRequest> | null
}

// What the engine may ask of the client; the address only when a grant is IP-bound or a presented
// set is checked: with trustProxy, request.ip parses X-Forwarded-For (bench:plugin, plugin-cached).
class FastifyClient implements ClientInfo {
  readonly cookieHeader: string | undefined
  private readonly request: FastifyRequest
  constructor (request: FastifyRequest) {
    this.request = request
    this.cookieHeader = request.headers.cookie
  }

  get ip (): string | undefined {
    return this.request.ip
  }
}

const replyHeaders: HeaderAccess<FastifyReply, undefined> = {
  get: (reply, _arg, name) => reply.getHeader(name),
  set: (reply, _arg, name, value) => {
    // Fastify appends to set-cookie on reply.header(), so the merged list replaces the old one.
    if (name === 'set-cookie' && reply.hasHeader(name)) reply.removeHeader(name)
    reply.header(name, value)
  }
}

/** The reply's GrantResponse, made on first use. */
function stateOf (engine: GrantEngine<FastifyRequest>, reply: FastifyReply): GrantResponse<FastifyRequest> {
  const r = reply as StatefulReply
  let state = r[kState]
  if (state === null) {
    r[kState] = state = new GrantResponse(engine, r.request, new FastifyClient(r.request))
    state.start(r[kPending])
  }
  return state
}

/** Builds the engine (and mirror) from the plugin's options; Fastify's own register options are left out. */
function servicesFor (options: FastifyCloudfrontCookiesOptions): GrantServices<FastifyRequest> {
  const { prefix, logLevel, logSerializers, ...grantOptions } =
    options as FastifyCloudfrontCookiesOptions & Record<'prefix' | 'logLevel' | 'logSerializers', unknown>
  // Why a request got nothing, one line at debug (no cookie values, no key material).
  return createGrantServices<FastifyRequest>(grantOptions, (request, decision) => {
    request.log.debug({ reason: decision.reason, prefix: decision.prefix }, 'no CloudFront grant')
  })
}

/**
 * Decides each route's grant once, when the route is added: its own config.cloudfront, or the path
 * rules its URL could match. A route that can match nothing is left as it is. The grant is decided
 * in front of the handler (after the route's own hooks and validation, before any handler code sees
 * a hostile parameter, answered 400): a wrapper, not an onRequest hook, since a hook run costs more
 * than this whole check (bench:plugin, plugin-cached).
 */
function guardRoutes (fastify: FastifyInstance, engine: GrantEngine<FastifyRequest>): void {
  fastify.addHook('onRoute', function cloudfrontOnRoute (routeOptions) {
    const url = routeOptions.url ?? ''
    const where = `config.cloudfront of ${String(routeOptions.method)} ${url}`
    const grants = engine.routeGrants(url, routeOptions.config?.cloudfront, where)
    if (grants === null) return
    const handler = routeOptions.handler
    routeOptions.handler = function cloudfrontGuard (
      this: FastifyInstance, request: FastifyRequest, reply: FastifyReply
    ) {
      (reply as StatefulReply)[kPending] = grants(request.raw.url ?? '/', request.params as Record<string, unknown>)
      return handler.call(this, request, reply)
    }
  })
}

/** The playlist mirror: one route, out of the rules (its grant is the playlist's own, decided by the core). */
function servePlaylists (fastify: FastifyInstance, playlists: Playlists<FastifyRequest>): void {
  fastify.get(`${playlists.prefix}/*`, { config: { cloudfront: false } }, function cloudfrontPlaylist (request, reply) {
    const path = pathOf(request.raw.url ?? '/')
    const served = playlists.serve(request, new FastifyClient(request), path, request.headers['accept-encoding'])
    // The reply is sent here, not returned: Fastify would try to send a returned reply again.
    if (!isThenable<PlaylistResponse>(served)) {
      reply.headers(served.headers).send(served.body)
      return
    }
    return Promise.resolve(served).then((r) => { reply.headers(r.headers).send(r.body) })
  })
}

/** Writes what the response carries, then hands the payload on. */
function written (
  reply: FastifyReply,
  carried: Carried | null,
  expiresHeader: string | false,
  payload: unknown,
  next: (err: Error | null, payload?: unknown) => void
): void {
  if (carried !== null) writeGrantHeaders(replyHeaders, reply, undefined, carried, expiresHeader)
  next(null, payload)
}

/** The hooks that finish each response: a failing handler marks its response; onSend writes what it carries. */
function finishResponses (fastify: FastifyInstance, engine: GrantEngine<FastifyRequest>): void {
  const expiresHeader = engine.expiresHeader
  fastify.addHook('onError', function cloudfrontOnError (_request, reply, _error, next) {
    // A handler that failed (after grant() or not) gets no grant, whatever status its error handler picks.
    const r = reply as StatefulReply
    if (r[kPending] !== null || r[kState] !== null) stateOf(engine, reply).fail()
    next()
  })

  const onSend: onSendHookHandler = function cloudfrontOnSend (request, reply, payload, next) {
    const r = reply as StatefulReply
    const state = r[kState]
    const pending = r[kPending]
    // Fast path: nothing at all.
    if (state === null && pending === null) {
      next(null, payload)
      return
    }
    let carried: MaybePromise<Carried | null>
    try {
      // The route's own grant alone is one core call; anything else is the response's to finish.
      carried = state === null
        ? routeGrant(engine, request, pending as PendingGrant<FastifyRequest>, new FastifyClient(request),
          reply.statusCode)
        : state.finish(reply.statusCode)
    } catch (err) {
      next(err as Error)
      return
    }
    // Cached path: no promise, no extra tick (bench:plugin, plugin-cached).
    if (!isThenable<Carried | null>(carried)) {
      written(reply, carried, expiresHeader, payload, next)
      return
    }
    Promise.resolve(carried).then((c) => written(reply, c, expiresHeader, payload, next), (err) => next(err as Error))
  }
  fastify.addHook('onSend', onSend)
}

const plugin: FastifyPluginCallback<FastifyCloudfrontCookiesOptions> = (fastify, options, done) => {
  // Every option is checked here: a bad one fails register() with a coded error.
  let services: GrantServices<FastifyRequest>
  try {
    services = servicesFor(options)
  } catch (err) {
    done(err as Error)
    return
  }
  const engine = services.engine
  fastify.decorate('cloudfront', engine.instanceApi())
  fastify.decorateReply(kState, null)
  fastify.decorateReply(kPending, null)
  fastify.decorateReply('cloudfront', {
    getter (this: FastifyReply) {
      return stateOf(engine, this)
    }
  })
  guardRoutes(fastify, engine)
  if (services.playlists !== null) servePlaylists(fastify, services.playlists)
  finishResponses(fastify, engine)
  done()
}

/** The Fastify plugin. Register it with `fastify.register(fastifyCloudfrontCookies, options)`. */
export const fastifyCloudfrontCookies = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-cloudfront-cookies'
})

export default fastifyCloudfrontCookies
