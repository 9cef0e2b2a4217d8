import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import { GrantEngine } from '../core/grants/engine.js'
import { GrantResponse, type HeaderAccess } from '../core/grants/response.js'
import { isThenable, type ClientInfo, type ExplicitGrantOptions, type GrantApi, type GrantInstanceApi, type GrantOptions, type GrantResult } from '../core/grants/types.js'
import type { PlaylistMirror, PlaylistResponse } from '../core/playlists/mirror.js'
import type { PlaylistGrant } from '../core/playlists/access.js'
import type { SignUrlOptions } from '../core/signer.js'
import { pathOf } from '../core/url.js'

// The Express (Connect) adapter: translates a raw request and response into grant-engine calls,
// exactly as the Fastify plugin does with its hooks. Every decision (matching, parameter checks,
// users, authorisation, caching, signing, cookie text, headers) is the core's.

/** Middleware options: the same as the Fastify plugin's. `Req` is the request type `getUser` and `authorize` receive. */
export type ExpressCloudfrontCookiesOptions<Req = IncomingMessage> = GrantOptions<Req>

export type { GrantResult, ExplicitGrantOptions }

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
type WriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse

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
        if (String(headers[i]).toLowerCase() === name) found.push(...[headers[i + 1] as OutgoingHttpHeader].flat().map(String))
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

// Grants are attached when the status is known: writeHead() is where every response passes
// (res.end() and res.write() without it call it too), before any header leaves. One function for
// every response, finding its state on the response: no closure per request (bench:express, cached).
function cloudfrontWriteHead (this: GrantedResponse, status: unknown, reason?: unknown, headers?: unknown): ServerResponse {
  const state = this[kGrants]
  const original = state.writeHead as WriteHead
  if (!state.written) {
    state.written = true
    state.writeHeaders(writeHeadHeaders, this, (typeof reason === 'string' ? headers : reason) as HeaderArg, Number(status) | 0)
  }
  return original.apply(this, arguments as unknown as unknown[])
}

/** Per-request state, exposed to handlers as `req.cloudfront`; it is also the engine's view of the client. */
class RequestGrants<Req> extends GrantResponse<Req> implements CloudfrontRequest, ClientInfo {
  readonly cookieHeader: string | undefined
  writeHead: ServerResponse['writeHead'] | null = null
  written = false
  private readonly req: RawRequest
  private readonly res: ServerResponse

  constructor (engine: GrantEngine<Req>, req: RawRequest, res: ServerResponse) {
    super(engine, req as unknown as Req, NO_CLIENT)
    this.client = this
    this.req = req
    this.res = res
    this.cookieHeader = req.headers.cookie
  }

  // Read only when a grant is IP-bound or a presented set is checked: Express computes req.ip on access.
  get ip (): string | undefined {
    const req = this.req
    return typeof req.ip === 'string' ? req.ip : req.socket?.remoteAddress
  }

  /** Wraps writeHead once, for responses that may carry something. */
  hook (): void {
    if (this.writeHead !== null) return
    const res = this.res
    this.writeHead = res.writeHead
    ;(res as GrantedResponse)[kGrants] = this as RequestGrants<unknown>
    res.writeHead = cloudfrontWriteHead as unknown as ServerResponse['writeHead']
  }

  override grant (prefix: string, options?: ExplicitGrantOptions): Promise<GrantResult | null> {
    this.hook()
    return super.grant(prefix, options)
  }

  override revoke (prefix?: string): Promise<void> {
    this.hook()
    return super.revoke(prefix)
  }

  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.engine.signUrl(url, options)
  }
}

const NO_CLIENT: ClientInfo = { cookieHeader: undefined, ip: undefined }

function writePlaylist (res: ServerResponse, head: boolean, r: PlaylistResponse): void {
  res.statusCode = 200
  for (const name in r.headers) res.setHeader(name, r.headers[name] as string)
  res.setHeader('content-length', r.body.length)
  res.end(head ? undefined : r.body)
}

/** A playlist of the mirror, answered here. */
function servePlaylist<Req> (mirror: PlaylistMirror<Req, PlaylistGrant<Req>, ClientInfo>, req: IncomingMessage & Req, client: ClientInfo, path: string, res: ServerResponse, next: NextFunction): void {
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
  if (typeof code !== 'string' || !code.startsWith('FST_ERR_CF_') || typeof statusCode !== 'number' || statusCode < 400 ||
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
export function expressCloudfrontCookies<Req = IncomingMessage> (options: ExpressCloudfrontCookiesOptions<Req>): CloudfrontMiddleware<Req> {
  const engine = new GrantEngine<Req>(options)
  const rules = engine.rules
  const hasRules = rules.rules.length > 0
  const mirror = engine.playlists

  function cloudfrontMiddleware (request: IncomingMessage & Req, res: ServerResponse, next: NextFunction): void {
    const req = request as RawRequest
    const state = new RequestGrants(engine, req, res)
    req.cloudfront = state
    if (mirror !== null && (req.method === 'GET' || req.method === 'HEAD')) {
      const path = pathOf(req.originalUrl ?? req.url ?? '/')
      if (mirror.cdnPathOf(path) !== null) {
        servePlaylist(mirror, request, state, path, res, next)
        return
      }
    }
    // Fast path: no path rules, only handler grants.
    if (!hasRules) {
      next()
      return
    }
    let issuing
    try {
      // A mount path rewrites req.url; rules are written against the path the client sent.
      state.route = rules.match(pathOf(req.originalUrl ?? req.url ?? '/'))
      if (state.route === null) {
        next()
        return
      }
      issuing = state.issueRoute()
    } catch (err) {
      // Hostile parameters are answered here; failing getUser/authorize go to Express, before the handler runs.
      fail(res, err, next)
      return
    }
    if (issuing === undefined) {
      // Cached path: no promise, no extra tick.
      if (state.routeIssued !== null) state.hook()
      next()
      return
    }
    issuing.then(() => {
      if (state.routeIssued !== null) state.hook()
      next()
    }, next)
  }

  return Object.defineProperties(cloudfrontMiddleware, Object.getOwnPropertyDescriptors(engine.instanceApi())) as CloudfrontMiddleware<Req>
}

export default expressCloudfrontCookies
