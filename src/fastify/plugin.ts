import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteHandlerMethod, onSendHookHandler } from 'fastify'
import { GrantEngine } from '../core/grants/engine.js'
import { GrantResponse, writeGrantHeaders, type HeaderAccess } from '../core/grants/response.js'
import type { PendingGrant } from '../core/grants/rules.js'
import {
  isThenable, type ClientInfo, type GrantApi, type GrantInstanceApi, type GrantOptions, type GrantRuleSettings, type Issued, type MaybePromise
} from '../core/grants/types.js'
import { pathOf } from '../core/url.js'
import type { PlaylistResponse } from '../core/playlists/mirror.js'

/** Plugin options: see the README for each one and its default. */
export interface FastifyCloudfrontCookiesOptions extends GrantOptions<FastifyRequest> {}

/** `config.cloudfront` of a route: the same settings as a rule (its `match` is the route itself), or `false` to opt out. */
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

// A reply holds its route's grant (kPending) and, only when its handler uses reply.cloudfront, a
// GrantResponse (kState): replies that only carry their route's grant allocate nothing for it
// (bench:plugin, plugin-cached).
type StatefulReply = FastifyReply & { [kState]: GrantResponse<FastifyRequest> | null, [kPending]: PendingGrant<FastifyRequest> | null }

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

// Route parameter names in a Fastify path: `:id`, `:id(^\\d+)`, `:a-:b`, and the `*` wildcard.
function routeParams (url: string): string[] {
  const names = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string)
  if (url.includes('*')) names.push('*')
  return names
}

const replyHeaders: HeaderAccess<FastifyReply, undefined> = {
  get: (reply, arg, name) => reply.getHeader(name),
  set: (reply, arg, name, value) => {
    // Fastify appends to set-cookie on reply.header(), so the merged list replaces the old one.
    if (name === 'set-cookie' && reply.hasHeader(name)) reply.removeHeader(name)
    reply.header(name, value)
  }
}

const plugin: FastifyPluginCallback<FastifyCloudfrontCookiesOptions> = (fastify, options, done) => {
  // Every option is checked here: a bad one fails register() with a coded error.
  let engine: GrantEngine<FastifyRequest>
  try {
    // Why a request got nothing, one line at debug (no cookie values, no key material).
    // Fastify's own register options reach the plugin too; every other key is the engine's to check.
    const { prefix, logLevel, logSerializers, ...grantOptions } = options as FastifyCloudfrontCookiesOptions & Record<'prefix' | 'logLevel' | 'logSerializers', unknown>
    engine = new GrantEngine<FastifyRequest>(grantOptions, (request, decision) => {
      request.log.debug({ reason: decision.reason, prefix: decision.prefix }, 'no CloudFront grant')
    })
  } catch (err) {
    done(err as Error)
    return
  }
  const expiresHeader = engine.expiresHeader
  const rules = engine.rules
  const mirror = engine.playlists

  fastify.decorate('cloudfront', engine.instanceApi())
  fastify.decorateReply(kState, null)
  fastify.decorateReply(kPending, null)
  fastify.decorateReply('cloudfront', {
    getter (this: FastifyReply) {
      const r = this as StatefulReply
      let state = r[kState]
      if (state === null) r[kState] = state = new GrantResponse(engine, r.request, new FastifyClient(r.request))
      return state
    }
  })

  // A route's grant is decided in front of its handler: after the route's own hooks and
  // validation, before any handler code sees a hostile parameter (answered 400, nothing issued).
  // A wrapper, not an onRequest hook: a hook run costs more than this whole check (bench:plugin, plugin-cached).
  function guardHandler (routeOptions: { handler: RouteHandlerMethod }, decide: (request: FastifyRequest) => PendingGrant<FastifyRequest> | null): void {
    const handler = routeOptions.handler
    routeOptions.handler = function cloudfrontGuard (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      (reply as StatefulReply)[kPending] = decide(request)
      return handler.call(this, request, reply)
    }
  }

  // Everything a route needs is decided here, once per route: its own config.cloudfront, or the
  // path rules its URL could match. A route that can match nothing is left as it is.
  fastify.addHook('onRoute', function cloudfrontOnRoute (routeOptions) {
    const cfg = routeOptions.config?.cloudfront
    if (cfg === false) return
    const url = routeOptions.url ?? ''
    if (cfg !== undefined) {
      const rule = rules.compile(cfg, `config.cloudfront of ${String(routeOptions.method)} ${url}`, routeParams(url))
      guardHandler(routeOptions, (request) => rules.pending(rule, request.params as Record<string, unknown>, false))
      return
    }
    const routeRules = rules.rulesFor(url)
    if (routeRules.length === 0) return
    guardHandler(routeOptions, (request) => rules.match(pathOf(request.raw.url ?? '/'), routeRules))
  })

  // The playlist mirror: one route, out of the rules (its grant is the playlist's own, decided by the core).
  if (mirror !== null) {
    fastify.get(`${mirror.prefix}/*`, { config: { cloudfront: false } }, function cloudfrontPlaylist (request, reply) {
      const served = mirror.serve(request, new FastifyClient(request), pathOf(request.raw.url ?? '/'), request.headers['accept-encoding'])
      // The reply is sent here, not returned: Fastify would try to send a returned reply again.
      if (!isThenable<PlaylistResponse>(served)) {
        reply.headers(served.headers).send(served.body)
        return
      }
      return Promise.resolve(served).then((r) => { reply.headers(r.headers).send(r.body) })
    })
  }

  fastify.addHook('onError', function cloudfrontOnError (request, reply, error, next) {
    // A handler that failed (after grant() or not) gets no grant, whatever status its error handler picks.
    const r = reply as StatefulReply
    const pending = r[kPending]
    if (pending !== null) engine.noGrant(request, 'failed', pending.path)
    r[kPending] = null
    const state = r[kState]
    if (state !== null) state.failed = true
    next()
  })

  const onSend: onSendHookHandler = function cloudfrontOnSend (request, reply, payload, next) {
    const r = reply as StatefulReply
    const pending = r[kPending]
    const state = r[kState]
    if (state !== null) {
      state.route = pending
      settle(state, reply).then(() => next(null, payload), (err) => next(err as Error))
      return
    }
    // Fast path: the route's own grant, or nothing at all.
    if (pending === null) {
      next(null, payload)
      return
    }
    if (!engine.statusAllowed(reply.statusCode)) {
      engine.noGrant(request, 'status', pending.path)
      next(null, payload)
      return
    }
    let issued: MaybePromise<Issued | null>
    try {
      issued = engine.issue(request, pending, new FastifyClient(request))
    } catch (err) {
      next(err as Error)
      return
    }
    if (!isThenable<Issued | null>(issued)) {
      // Cached path: no promise, no extra tick (bench:plugin, plugin-cached).
      if (issued !== null) writeGrantHeaders(replyHeaders, reply, undefined, issued.setCookie, issued.expires, expiresHeader)
      next(null, payload)
      return
    }
    Promise.resolve(issued).then((i) => {
      if (i !== null) writeGrantHeaders(replyHeaders, reply, undefined, i.setCookie, i.expires, expiresHeader)
      next(null, payload)
    }, (err) => next(err as Error))
  }
  fastify.addHook('onSend', onSend)

  async function settle (state: GrantResponse<FastifyRequest>, reply: FastifyReply): Promise<void> {
    await state.settled()
    if (!state.failed && !state.revoked && engine.statusAllowed(reply.statusCode)) await state.issueRoute()
    state.writeHeaders(replyHeaders, reply, undefined, reply.statusCode)
  }

  done()
}

/** The Fastify plugin. Register it with `fastify.register(fastifyCloudfrontCookies, options)`. */
export const fastifyCloudfrontCookies = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-cloudfront-cookies'
})

export default fastifyCloudfrontCookies
