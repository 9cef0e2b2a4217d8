import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteHandlerMethod, onSendHookHandler } from 'fastify'
import {
  GrantEngine, combineIssued, mergeSetCookie, privateCacheControl, type GrantEngineOptions, type GrantRuleSettings,
  type PendingGrant, type Issued, type ClientInfo, type MaybePromise, type GrantApi, type GrantInstanceApi
} from '../core/grants.js'

/** Plugin options: see the README for each one and its default. */
export interface FastifyCloudfrontCookiesOptions extends GrantEngineOptions<FastifyRequest> {}

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

const NONE: never[] = []

// What a reply holds beyond its route's grant (kPending): made only for replies whose handler uses
// reply.cloudfront. The lists start as one shared empty array and are replaced on first use.
class ReplyState {
  explicit: Array<Promise<Issued | null>> = NONE
  clears: Array<Promise<string[]>> = NONE
  failed = false
  revoked = false
  api: CloudfrontReply | null = null

  addExplicit (result: Promise<Issued | null>): void {
    if (this.explicit === NONE) this.explicit = []
    this.explicit.push(result)
  }

  addClears (clears: Promise<string[]>): void {
    if (this.clears === NONE) this.clears = []
    this.clears.push(clears)
  }
}

type StatefulReply = FastifyReply & { [kState]: ReplyState | null, [kPending]: PendingGrant<FastifyRequest> | null }

function stateOf (reply: FastifyReply): ReplyState {
  const r = reply as StatefulReply
  let s = r[kState]
  if (s === null) r[kState] = s = new ReplyState()
  return s
}

// What the engine may ask of the client; the address only when a grant is IP-bound or a presented
// set is checked (with trustProxy, request.ip parses X-Forwarded-For).
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

function clientOf (request: FastifyRequest): ClientInfo {
  return new FastifyClient(request)
}

function rawPath (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

// Route parameter names in a Fastify path: `:id`, `:id(^\\d+)`, `:a-:b`, and the `*` wildcard.
function routeParams (url: string): string[] {
  const names = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string)
  if (url.includes('*')) names.push('*')
  return names
}

// Fastify appends to set-cookie on reply.header(), so the merged list replaces the old one.
function addSetCookie (reply: FastifyReply, add: string[]): void {
  const existing = reply.getHeader('set-cookie')
  if (existing !== undefined) reply.removeHeader('set-cookie')
  reply.header('set-cookie', mergeSetCookie(existing, add))
}

// Many responses in a row carry the same expiry second: its text is kept, not remade.
let lastExpires = -1
let lastExpiresText = ''

function applyIssued (reply: FastifyReply, issued: Issued, header: string | false): void {
  if (issued.setCookie.length > 0) addSetCookie(reply, issued.setCookie)
  // A response about a user's grant is that user's alone: never stored by a shared cache.
  const cacheControl = reply.getHeader('cache-control')
  reply.header('cache-control', cacheControl === undefined ? PRIVATE : privateCacheControl(cacheControl))
  if (header !== false) {
    if (issued.expires !== lastExpires) {
      lastExpires = issued.expires
      lastExpiresText = String(issued.expires)
    }
    reply.header(header, lastExpiresText)
  }
}

const PRIVATE = privateCacheControl(undefined)

const plugin: FastifyPluginCallback<FastifyCloudfrontCookiesOptions> = (fastify, options, done) => {
  // Every option is checked here: a bad one fails register() with a coded error.
  let engine: GrantEngine<FastifyRequest>
  try {
    engine = new GrantEngine<FastifyRequest>(options)
  } catch (err) {
    done(err as Error)
    return
  }
  const expiresHeader = engine.expiresHeader

  const decorator: CloudfrontDecorator = engine.instanceApi()
  fastify.decorate('cloudfront', decorator)
  fastify.decorateReply(kState, null)
  fastify.decorateReply(kPending, null)
  fastify.decorateReply('cloudfront', {
    getter (this: FastifyReply) {
      const state = stateOf(this)
      if (state.api === null) state.api = replyApi(this, state)
      return state.api
    }
  })

  function replyApi (reply: FastifyReply, state: ReplyState): CloudfrontReply {
    const request = reply.request
    return {
      grant (prefix, opts) {
        let pending: PendingGrant<FastifyRequest>
        try {
          pending = engine.explicit(prefix, opts)
        } catch (err) {
          return Promise.reject(err)
        }
        const result = Promise.resolve(engine.issue(request, pending, clientOf(request)))
        // onSend waits for it; a failure there answers the request with the error.
        state.addExplicit(result)
        return result.then((r) => (r === null ? null : { prefix: pending.path, expires: r.expires }))
      },
      revoke (prefix) {
        state.revoked = true
        const clears = Promise.resolve(engine.user(request)).then((user) => engine.revoke(user, prefix))
        state.addClears(clears)
        return clears.then(() => {})
      }
    }
  }

  // A route's grant is decided in front of its handler: after the route's own hooks and
  // validation, before any handler code sees a hostile parameter (answered 400, nothing issued).
  // A wrapper, not an onRequest hook: a hook run costs more than this whole check.
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
      const rule = engine.compileRule(cfg, `config.cloudfront of ${String(routeOptions.method)} ${url}`, routeParams(url))
      guardHandler(routeOptions, (request) => engine.pending(rule, request.params as Record<string, unknown>, false))
      return
    }
    const rules = engine.rulesFor(url)
    if (rules.length === 0) return
    guardHandler(routeOptions, (request) => engine.match(rawPath(request.raw.url ?? '/'), rules))
  })

  fastify.addHook('onError', function cloudfrontOnError (request, reply, error, next) {
    // A handler that failed (after grant() or not) gets no grant, whatever status its error handler picks.
    const r = reply as StatefulReply
    r[kPending] = null
    const state = r[kState]
    if (state !== null) state.failed = true
    next()
  })

  const onSend: onSendHookHandler = function cloudfrontOnSend (request, reply, payload, next) {
    const r = reply as StatefulReply
    const pending = r[kPending]
    const state = r[kState]
    if (state === null) {
      // Fast path: the route's own grant, or nothing at all.
      if (pending === null || !engine.statusAllowed(reply.statusCode)) {
        next(null, payload)
        return
      }
      let issued: MaybePromise<Issued | null>
      try {
        issued = engine.issue(request, pending, clientOf(request))
      } catch (err) {
        next(err as Error)
        return
      }
      if (issued === null || typeof (issued as PromiseLike<Issued>).then !== 'function') {
        // Cached path: no promise, no extra tick.
        if (issued !== null) applyIssued(reply, issued as Issued, expiresHeader)
        next(null, payload)
        return
      }
      Promise.resolve(issued).then((i) => {
        if (i !== null) applyIssued(reply, i, expiresHeader)
        next(null, payload)
      }, (err) => next(err as Error))
      return
    }
    const grant = !state.failed && !state.revoked && engine.statusAllowed(reply.statusCode)
    settle(request, reply, state, pending, grant).then(() => next(null, payload), (err) => next(err as Error))
  }
  fastify.addHook('onSend', onSend)

  async function settle (request: FastifyRequest, reply: FastifyReply, state: ReplyState, pending: PendingGrant<FastifyRequest> | null, grant: boolean): Promise<void> {
    const clears = (await Promise.all(state.clears)).flat()
    const explicit = await Promise.all(state.explicit)
    if (clears.length > 0) {
      addSetCookie(reply, clears)
      reply.header('cache-control', privateCacheControl(reply.getHeader('cache-control')))
    }
    if (!grant) return
    if (pending !== null) explicit.push(await engine.issue(request, pending, clientOf(request)))
    const issued = combineIssued(explicit)
    if (issued !== null) applyIssued(reply, issued, expiresHeader)
  }

  done()
}

/** The Fastify plugin. Register it with `fastify.register(fastifyCloudfrontCookies, options)`. */
export const fastifyCloudfrontCookies = fp(plugin, {
  fastify: '5.x',
  name: 'fastify-cloudfront-cookies'
})

export default fastifyCloudfrontCookies
