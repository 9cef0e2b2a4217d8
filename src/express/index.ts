import {
  STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type ServerResponse
} from 'node:http'
import { createGrantServices, type Playlists } from '../core/grants/compose.js'
import { isThenable } from '../core/guards.js'
import type { GrantEngine } from '../core/grants/engine.js'
import {
  GrantResponse, PreparedGrant, preparedCarried, preparedGrant, writeGrantHeaders, type Carried, type HeaderAccess
} from '../core/grants/response.js'
import {
  type ClientInfo, type ExplicitGrantOptions, type GrantApi, type GrantInstanceApi, type GrantOptions,
  type GrantResult, type ManifestGrantOptions, type MaybePromise
} from '../core/grants/types.js'
import type { PendingGrant } from '../core/grants/rule-book.js'
import type { PlaylistResponse } from '../core/playlists/mirror.js'
import type { SignUrlOptions } from '../core/signer.js'
import { pathOf } from '../core/url.js'

// The Express (Connect) adapter: translates a raw request and response into grant-engine calls,
// exactly as the Fastify plugin does with its hooks. Every decision (matching, parameter checks,
// users, authorisation, caching, signing, cookie text, headers) is the core's.

/**
 * Middleware options: the same as the Fastify plugin's. `Req` is the request type `getUser` and `authorize` receive.
 */
export type ExpressCloudfrontCookiesOptions<Req = IncomingMessage> = GrantOptions<Req>

export type { GrantResult, ExplicitGrantOptions, ManifestGrantOptions }

/** `req.cloudfront`: explicit grants, revocation and URL signing from a handler. Await `grant()` and
 * `revoke()` before responding: the cookies are added when the response headers are written. */
export interface CloudfrontRequest extends GrantApi {
  /** Signs a URL with the active key. */
  signUrl: (url: string, options: SignUrlOptions) => Promise<string>
}

/** A raw request behind the middleware (inside Fastify through @fastify/middie: `request.raw`). */
export type CloudfrontIncomingMessage = IncomingMessage & { cloudfront: CloudfrontRequest }

type NextFunction = (err?: unknown) => void

/** The middleware, which also carries what the Fastify plugin decorates the instance with. */
export interface CloudfrontMiddleware<Req = IncomingMessage> extends GrantInstanceApi {
  (req: IncomingMessage & Req, res: ServerResponse, next: NextFunction): void
}

declare global {
  namespace Express {
    interface Request {
      /** Present on requests that went through `expressCloudfrontCookies()`. */
      cloudfront: CloudfrontRequest
    }
  }
}

/** What the adapter reads from the request, whichever framework set it. */
interface RawRequest extends IncomingMessage {
  /** Express and @fastify/middie: the URL before a mount path was stripped from `url`. */
  originalUrl?: string
  /** Express and @fastify/middie: the client address, as far as the framework's proxy trust allows. */
  ip?: string
  cloudfront?: CloudfrontRequest
}

type HeaderArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined

const kGrants = Symbol('fastify-cloudfront-cookies.grants')
type GrantedResponse = ServerResponse & { [kGrants]: RequestGrants<unknown> }

// Headers given to writeHead() override those set earlier with setHeader(), so what is already
// there is read from, and ours written into, the argument when it names the header.
const writeHeadHeaders: HeaderAccess<ServerResponse, HeaderArg> = {
  get (res, headers, name) {
    let value: unknown
    if (Array.isArray(headers)) {
      const found: string[] = []
      for (let i = 0; i + 1 < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() !== name) continue
        found.push(...[headers[i + 1] as OutgoingHttpHeader].flat().map(String))
      }
      if (found.length > 0) value = found
    } else if (headers !== undefined && headers !== null) {
      for (const key of Object.keys(headers)) {
        if (key.toLowerCase() === name && headers[key] !== undefined) value = headers[key]
      }
    }
    if (value === undefined) value = res.getHeader(name)
    // Set-Cookie is a list; any other header given as several values is one comma-separated list.
    return Array.isArray(value) && name !== 'set-cookie' ? value.join(', ') : value
  },
  set (res, headers, name, value) {
    if (Array.isArray(headers)) {
      for (let i = headers.length - 2; i >= 0; i -= 2) {
        if (String(headers[i]).toLowerCase() === name) headers.splice(i, 2)
      }
      headers.push(name, value)
    } else if (headers !== undefined && headers !== null) {
      const key = Object.keys(headers).find((k) => k.toLowerCase() === name) ?? name
      headers[key] = value
    } else {
      res.setHeader(name, value)
    }
  }
}

// Most responses give writeHead no headers: then the response's own, read and written directly (the generic
// accessor above cost 5% of a cached grant's request, bench:express).
const responseHeaders: HeaderAccess<ServerResponse, HeaderArg> = {
  get: (res, _headers, name) => res.getHeader(name),
  set: (res, _headers, name, value) => { res.setHeader(name, value) }
}

/** How to reach a response's headers, given writeHead's headers argument. */
const headerAccess = (headers: HeaderArg): HeaderAccess<ServerResponse, HeaderArg> =>
  headers === undefined || headers === null ? responseHeaders : writeHeadHeaders

/** The headers writeHead(status, reason?, headers?) writes, found as Node finds them: a non-string reason gives way. */
function headersOf (reason: unknown, headers: unknown): HeaderArg {
  return (typeof reason === 'string' ? headers : headers ?? reason) as HeaderArg
}

type Deferred = [method: 'writeHead' | 'write' | 'end', args: unknown[]]
type Write = (this: ServerResponse, ...args: unknown[]) => unknown

/** The response's own methods, before the middleware wrapped them. */
interface Originals {
  writeHead: Write
  write: Write
  end: Write
}

// What a response carries is decided when its status is known: at writeHead() (explicit, or called
// by res.write() and res.end()), before any header leaves. When that needs a promise (a set to sign,
// a grant() still running), the response is held: its writeHead, write and end calls are queued and
// replayed, in order, once the headers are written.
function cloudfrontWriteHead (this: GrantedResponse, ...args: unknown[]): ServerResponse {
  return writeHeadOf(this, this[kGrants], args)
}

function cloudfrontWrite (this: GrantedResponse, ...args: unknown[]): unknown {
  return bodyCall(this, this[kGrants], ['write', args])
}

function cloudfrontEnd (this: GrantedResponse, ...args: unknown[]): unknown {
  return bodyCall(this, this[kGrants], ['end', args])
}

function writeHeadOf (res: ServerResponse, state: RequestGrants<unknown>, args: unknown[]): ServerResponse {
  if (state.queue !== null) {
    state.queue.push(['writeHead', args])
    return res
  }
  if (state.decided) return state.originals.writeHead.apply(res, args) as ServerResponse
  const reason = args[1]
  const headers = headersOf(reason, args[2])
  return decide(res, state, Number(args[0]) | 0, ['writeHead', args], headers) as ServerResponse
}

/** A write() or end(): held while the response is, and deciding what it carries when it is the first call. */
function bodyCall (res: ServerResponse, state: RequestGrants<unknown>, call: Deferred): unknown {
  if (state.queue !== null) {
    state.queue.push(call)
    // Taken: the bytes are queued until the headers are written.
    return call[0] === 'write' ? true : res
  }
  if (state.decided || res.headersSent) return state.originals[call[0]].apply(res, call[1])
  return decide(res, state, res.statusCode, call, undefined)
}

/** Decides what the response carries for its status, then makes the call (at once, or once decided). */
function decide (
  res: ServerResponse, state: RequestGrants<unknown>, status: number, call: Deferred, headers: HeaderArg
): unknown {
  state.decided = true
  let carried
  try {
    carried = state.finish(status)
  } catch {
    // A route's getUser or authorize was asked before the handler; nothing here throws but a bug:
    // the response goes out without a grant.
    carried = null
  }
  if (!isThenable<Carried | null>(carried)) {
    if (carried !== null) writeGrantHeaders(headerAccess(headers), res, headers, carried, state.expiresHeader)
    return state.originals[call[0]].apply(res, call[1])
  }
  const queue: Deferred[] = [call]
  state.queue = queue
  Promise.resolve(carried).then((c) => {
    state.queue = null
    const first = queue[0] as Deferred
    if (c !== null) {
      const args = first[1]
      const arg = first[0] === 'writeHead' ? headersOf(args[1], args[2]) : undefined
      writeGrantHeaders(headerAccess(arg), res, arg, c, state.expiresHeader)
    }
    for (const [method, args] of queue) state.originals[method].apply(res, args)
  }, (err: unknown) => {
    // A set that could not be signed: the held response is answered with the error instead, as
    // the Fastify plugin answers an onSend failure.
    state.queue = null
    answerError(res, state.originals, err)
  })
  return call[0] === 'write' ? true : res
}

/** An Express application, as far as the middleware uses it. */
interface ExpressApp {
  request: object
  response: object
  parent?: ExpressApp
}

/** A response's state: the route's grant decided before the handler, or the per-request API a handler asked for. */
type Locals = Record<symbol, RequestGrants<unknown> | PreparedGrant<unknown> | undefined>
type ExpressResponse = ServerResponse & { locals?: Locals }

const kState = Symbol('fastify-cloudfront-cookies.state')

/** The engine whose middleware owns each root Express app's prototypes. */
const owners = new WeakMap<object, GrantEngine<never>>()

/**
 * In an Express app, the middleware adds nothing to its per-request objects: properties added to
 * them cost 6-10% of a request (bench:express). `req.cloudfront` is a getter on the root app's
 * request prototype, writeHead, write and end are wrapped once on its response prototype, and a
 * response's state, when it has one, is kept in `res.locals` (a dictionary already). False when the
 * request is not an Express app's (@fastify/middie) or the app is another engine's: then per request.
 */
function adoptApp<Req> (engine: GrantEngine<Req>, app: ExpressApp | undefined): Originals | null {
  if (app === undefined || app === null || typeof app.response !== 'object') return null
  let root = app
  while (root.parent !== undefined) root = root.parent
  const owner = owners.get(root)
  if (owner !== undefined) return owner === (engine as unknown) ? appOriginals.get(root) as Originals : null
  owners.set(root, engine as unknown as GrantEngine<never>)
  const response = root.response as ServerResponse
  const originals: Originals = {
    writeHead: response.writeHead as Write, write: response.write as Write, end: response.end as Write
  }
  const stateOf = (res: ExpressResponse): RequestGrants<unknown> | PreparedGrant<unknown> | undefined =>
    res.locals?.[kState]
  // Fixed parameters, passed on as they came: every response of the app passes here, most with
  // no state, and a rest array per call is measurable (bench:express, unmatched).
  Object.defineProperties(root.response, {
    writeHead: {
      configurable: true,
      writable: true,
      value: function cloudfrontWriteHead (this: ExpressResponse, a: unknown, b: unknown, c: unknown) {
        const state = stateOf(this)
        if (state === undefined) return originals.writeHead.call(this, a, b, c)
        if (state instanceof PreparedGrant) {
          const headers = headersOf(b, c)
          carryPrepared(engine, this, state as PreparedGrant<Req>, Number(a) | 0, headers)
          return originals.writeHead.call(this, a, b, c)
        }
        return writeHeadOf(this, state, arguments.length > 2 ? [a, b, c] : arguments.length > 1 ? [a, b] : [a])
      }
    },
    write: {
      configurable: true,
      writable: true,
      value: function cloudfrontWrite (this: ExpressResponse, a: unknown, b: unknown, c: unknown) {
        const state = stateOf(this)
        // A prepared grant is decided at writeHead, which Node calls before the first byte.
        if (state === undefined || state instanceof PreparedGrant) return originals.write.call(this, a, b, c)
        return bodyCall(this, state, ['write', Array.prototype.slice.call(arguments)])
      }
    },
    end: {
      configurable: true,
      writable: true,
      value: function cloudfrontEnd (this: ExpressResponse, a: unknown, b: unknown, c: unknown) {
        const state = stateOf(this)
        if (state === undefined || state instanceof PreparedGrant) return originals.end.call(this, a, b, c)
        return bodyCall(this, state, ['end', Array.prototype.slice.call(arguments)])
      }
    }
  })
  Object.defineProperty(root.request, 'cloudfront', {
    configurable: true,
    get (this: RawRequest & { res?: ExpressResponse }) {
      const res = this.res as ExpressResponse
      return expressState(engine, this, res, originals)
    }
  })
  appOriginals.set(root, originals)
  return originals
}

const appOriginals = new WeakMap<object, Originals>()

/**
 * Writes what a response carries for the route's grant prepared before the handler, once its status is known: the
 * core decides (the same rules as a GrantResponse), synchronously; the state is then dropped (decided once).
 */
function carryPrepared<Req> (
  engine: GrantEngine<Req>, res: ExpressResponse, prepared: PreparedGrant<Req>, status: number, headers: HeaderArg
): void {
  (res.locals as Locals)[kState] = undefined
  let carried
  try {
    carried = preparedCarried(engine, prepared, status)
  } catch {
    // Only onDecision runs here, and it throws only through a bug of the app's: no grant, rather than no response.
    carried = null
  }
  if (carried !== null) writeGrantHeaders(headerAccess(headers), res, headers, carried, engine.expiresHeader)
}

/** An Express response's state, made on first use and kept in res.locals. */
function expressState<Req> (
  engine: GrantEngine<Req>, req: RawRequest, res: ExpressResponse, originals: Originals
): RequestGrants<Req> {
  // Express makes res.locals for every request; an app that dropped it gets a new one.
  const locals = res.locals ??= Object.create(null) as Locals
  const held = locals[kState] as RequestGrants<Req> | PreparedGrant<Req> | undefined
  if (held instanceof RequestGrants) return held
  const state = new RequestGrants(engine, req, res)
  state.originals = originals
  // The handler asks for more than the route's grant: the whole state takes the prepared grant over.
  if (held !== undefined) state.adopt(held.route, held.result)
  locals[kState] = state as RequestGrants<unknown>
  return state
}

/** Answers a held response with a failure to sign it (its own calls are dropped). */
function answerError (res: ServerResponse, originals: Originals, err: unknown): void {
  const { code, statusCode } = err as { code?: unknown, statusCode?: unknown }
  const status = typeof statusCode === 'number' && statusCode >= 500 && statusCode <= 599 ? statusCode : 500
  const body = JSON.stringify({
    statusCode: status,
    code: typeof code === 'string' ? code : undefined,
    error: STATUS_CODES[status],
    message: 'the grant could not be signed'
  })
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }
  originals.writeHead.call(res, status, headers)
  originals.end.call(res, body)
}

/** Per-request state, exposed to handlers as `req.cloudfront`; it is also the engine's view of the client. */
/** What the engine may ask of the client behind a raw request. */
class RawClient implements ClientInfo {
  // Private, read through getters: a Cookie header may hold a presented set, and res.locals gets printed.
  readonly #req: RawRequest

  constructor (req: RawRequest) {
    this.#req = req
  }

  get cookieHeader (): string | undefined {
    return this.#req.headers.cookie
  }

  // Read only when a grant is IP-bound or a presented set is checked: Express computes req.ip on access.
  get ip (): string | undefined {
    const req = this.#req
    return typeof req.ip === 'string' ? req.ip : req.socket?.remoteAddress
  }
}

class RequestGrants<Req> extends GrantResponse<Req> implements CloudfrontRequest {
  readonly expiresHeader: string | false
  originals: Originals = NOT_HOOKED
  /** What the response carries is decided (its headers are written, or held). */
  decided = false
  /** The calls held until the headers are written, or null. */
  queue: Deferred[] | null = null
  private readonly res: ServerResponse

  constructor (engine: GrantEngine<Req>, req: RawRequest, res: ServerResponse) {
    super(engine, req as unknown as Req, new RawClient(req))
    this.res = res
    this.expiresHeader = engine.expiresHeader
  }

  /** Wraps the response's writeHead, write and end once, for responses that may carry something. */
  hook (): void {
    if (this.originals !== NOT_HOOKED) return
    const res = this.res
    this.originals = { writeHead: res.writeHead as Write, write: res.write as Write, end: res.end as Write }
    ;(res as GrantedResponse)[kGrants] = this as RequestGrants<unknown>
    res.writeHead = cloudfrontWriteHead as unknown as ServerResponse['writeHead']
    res.write = cloudfrontWrite as unknown as ServerResponse['write']
    res.end = cloudfrontEnd as unknown as ServerResponse['end']
  }

  override grant (prefix: string, options?: ExplicitGrantOptions): Promise<GrantResult | null> {
    this.hook()
    return super.grant(prefix, options)
  }

  override manifestUrl (path: string, options?: ManifestGrantOptions): Promise<string | null> {
    this.hook()
    return super.manifestUrl(path, options)
  }

  override revoke (prefix?: string): Promise<void> {
    this.hook()
    return super.revoke(prefix)
  }

  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.engine.signUrl(url, options)
  }
}

const NOT_HOOKED: Originals = { writeHead: () => undefined, write: () => undefined, end: () => undefined }

function writePlaylist (res: ServerResponse, head: boolean, r: PlaylistResponse): void {
  res.statusCode = 200
  for (const name in r.headers) res.setHeader(name, r.headers[name] as string)
  res.setHeader('content-length', r.body.length)
  res.end(head ? undefined : r.body)
}

/** A playlist of the mirror, answered here. */
function servePlaylist<Req> (
  mirror: Playlists<Req>, req: IncomingMessage & Req, client: ClientInfo, path: string, res: ServerResponse,
  next: NextFunction
): void {
  const head = req.method === 'HEAD'
  let served
  try {
    served = mirror.serve(req, client, path, req.headers['accept-encoding'])
  } catch (err) {
    fail(res, err, next, true)
    return
  }
  if (!isThenable<PlaylistResponse>(served)) writePlaylist(res, head, served)
  else Promise.resolve(served).then((r) => writePlaylist(res, head, r), (err) => fail(res, err, next, true))
}

// The client's mistakes (a hostile parameter 400; a mirror playlist 401, 403, 404) and the mirror's
// own coded failures (502: a playlist it cannot rewrite, an origin that failed) are answered as the
// Fastify plugin answers them, in every environment: one line of JSON and no stack (Express's default
// handler would log one and, outside production, send it to the client). Anything else goes to the app.
function fail (res: ServerResponse, err: unknown, next: NextFunction, serverErrors = false): void {
  const { code, statusCode, message } = err as { code?: unknown, statusCode?: unknown, message?: unknown }
  if (typeof code !== 'string' || !code.startsWith('FST_ERR_CF_') || typeof statusCode !== 'number' ||
    statusCode < 400 ||
    (statusCode >= 500 && !serverErrors) || statusCode > 599) {
    next(err)
    return
  }
  const body = JSON.stringify({ statusCode, code, error: STATUS_CODES[statusCode], message })
  res.statusCode = statusCode
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(body)
}

/**
 * The CloudFront cookies middleware for Express 5 and Connect, also usable inside Fastify through
 * `@fastify/middie`. Every option is validated now: a bad one throws a coded error.
 *
 * Mount it after the session or authentication middleware that `getUser` relies on: the grant for a
 * matching path is decided (user, authorisation, signing) before the next handler runs, so that it
 * can be attached synchronously when the response headers are written.
 */
export function expressCloudfrontCookies<Req = IncomingMessage> (
  options: ExpressCloudfrontCookiesOptions<Req>
): CloudfrontMiddleware<Req> {
  const { engine, playlists } = createGrantServices<Req>(options)

  /** The route's grant, asked for before the handler runs (as far as the cache); then the handler. */
  function routeGrant (
    req: RawRequest, known: RequestGrants<Req> | null, path: string, res: ServerResponse, next: NextFunction
  ): void {
    let preparing
    try {
      // Hostile parameters are answered here; failing getUser/authorize go to Express, before the handler runs.
      const route = engine.pathGrant(path)
      if (route === null) {
        next()
        return
      }
      preparing = known === null ? expressGrant(req, res, route) : (known.hook(), known.prepare(route))
    } catch (err) {
      fail(res, err, next)
      return
    }
    // Cached path: no promise, no extra tick.
    if (preparing === undefined) next()
    else preparing.then(() => next(), next)
  }

  /**
   * In an Express app, a route's grant whose pipeline answers at once (a cached set, a refusal) is kept as it is,
   * decided at writeHead: no per-request API is made unless the handler asks for `req.cloudfront`.
   */
  function expressGrant (req: RawRequest, res: ServerResponse, route: PendingGrant<Req>): MaybePromise<void> {
    const locals = (res as ExpressResponse).locals as Locals
    if (locals[kState] !== undefined) return (stateFor(req, res, true) as RequestGrants<Req>).prepare(route)
    const request = req as unknown as Req
    const result = engine.prepare(request, route, new RawClient(req))
    const grant = preparedGrant(request, route, result)
    if (grant === null) return (stateFor(req, res, true) as RequestGrants<Req>).adopt(route, result)
    locals[kState] = grant as PreparedGrant<unknown>
  }

  // The Express app last seen and its response methods (see adoptApp): most middleware serve one app.
  let seenApp: ExpressApp | undefined
  let seenOriginals: Originals | null = null

  /** The response's state: in an Express app made only when needed, otherwise made and attached now. */
  function stateFor (req: RawRequest, res: ServerResponse, needed: boolean): RequestGrants<Req> | null {
    const app = (req as { app?: ExpressApp }).app
    if (app !== seenApp) {
      seenApp = app
      seenOriginals = adoptApp(engine, app)
    }
    const locals = (res as ExpressResponse).locals
    if (seenOriginals !== null && locals !== undefined) {
      return needed ? expressState(engine, req, res, seenOriginals) : null
    }
    const state = new RequestGrants(engine, req, res)
    // Defined, not assigned: in an app another middleware owns, req.cloudfront is that one's getter.
    Object.defineProperty(req, 'cloudfront', { value: state, configurable: true, enumerable: true, writable: true })
    return state
  }

  function cloudfrontMiddleware (request: IncomingMessage & Req, res: ServerResponse, next: NextFunction): void {
    const req = request as RawRequest
    // A mount path rewrites req.url; rules and the mirror are written against the path the client sent.
    const path = pathOf(req.originalUrl ?? req.url ?? '/')
    if (playlists !== null && (req.method === 'GET' || req.method === 'HEAD') && playlists.cdnPathOf(path) !== null) {
      servePlaylist(playlists, request, new RawClient(req), path, res, next)
      return
    }
    const state = stateFor(req, res, false)
    // Fast path: no path rules, only handler grants.
    if (!engine.hasPathRules) next()
    else routeGrant(req, state, path, res, next)
  }

  const instanceApi = Object.getOwnPropertyDescriptors(engine.instanceApi())
  return Object.defineProperties(cloudfrontMiddleware, instanceApi) as CloudfrontMiddleware<Req>
}

export default expressCloudfrontCookies
