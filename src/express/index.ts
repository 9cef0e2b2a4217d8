import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import {
  GrantEngine, combineIssued, mergeSetCookie, privateCacheControl, type GrantEngineOptions,
  type ClientInfo, type Issued, type MaybePromise, type GrantApi, type GrantInstanceApi, type GrantResult, type ExplicitGrantOptions
} from '../core/grants.js'
import type { SignUrlOptions } from '../core/signer.js'

// The Express (Connect) adapter: translates a raw request and response into grant-engine calls,
// exactly as the Fastify plugin does with its hooks. Every decision (matching, parameter checks,
// users, authorisation, caching, signing, cookie text) is the engine's.

/** Middleware options: the same as the Fastify plugin's. `Req` is the request type `getUser` and `authorize` receive. */
export type ExpressCloudfrontCookiesOptions<Req = IncomingMessage> = GrantEngineOptions<Req>

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

type WriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse
type HeaderArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined

function isThenable<T> (v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

function rawPath (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function clientOf (req: RawRequest): ClientInfo {
  return {
    cookieHeader: req.headers.cookie,
    // Read only when a grant is IP-bound or a presented set is checked: Express computes req.ip on access.
    get ip () { return typeof req.ip === 'string' ? req.ip : req.socket?.remoteAddress }
  }
}

// Headers given to writeHead() override those set earlier with setHeader(), so what is already
// there is read from, and ours written into, the argument when it names the header.
function readHeader (res: ServerResponse, headers: HeaderArg, name: string): unknown {
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
}

function writeHeader (res: ServerResponse, headers: HeaderArg, name: string, value: string | string[]): void {
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

/** Per-request state, exposed to handlers as `req.cloudfront`. */
class RequestGrants<Req> implements CloudfrontRequest {
  readonly #engine: GrantEngine<Req>
  readonly #req: RawRequest
  readonly #res: ServerResponse
  #rule: Issued | null = null
  #explicit: Issued[] = []
  #clears: string[] = []
  #failed = false
  #revoked = false
  #hooked = false
  #written = false

  constructor (engine: GrantEngine<Req>, req: RawRequest, res: ServerResponse) {
    this.#engine = engine
    this.#req = req
    this.#res = res
  }

  /** The rule grant, prepared before the handler runs. */
  setRule (issued: Issued): void {
    this.#rule = issued
    this.#hook()
  }

  grant (prefix: string, options?: ExplicitGrantOptions): Promise<GrantResult | null> {
    let path: string
    let issued: MaybePromise<Issued | null>
    try {
      const pending = this.#engine.explicit(prefix, options)
      path = pending.path
      this.#hook()
      issued = this.#engine.issue(this.#req as unknown as Req, pending, clientOf(this.#req))
    } catch (err) {
      this.#failed = true
      return Promise.reject(err)
    }
    const done = (i: Issued | null): GrantResult | null => {
      if (i === null) return null
      this.#explicit.push(i)
      return { prefix: path, expires: i.expires }
    }
    if (!isThenable<Issued | null>(issued)) return Promise.resolve(done(issued))
    return Promise.resolve(issued).then(done, (err: unknown) => {
      this.#failed = true
      throw err
    })
  }

  revoke (prefix?: string): Promise<void> {
    this.#revoked = true
    this.#hook()
    return Promise.resolve()
      .then(() => this.#engine.user(this.#req as unknown as Req))
      .then((user) => { this.#clears.push(...this.#engine.revoke(user, prefix)) })
  }

  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.#engine.signUrl(url, options)
  }

  // Grants are attached when the status is known: writeHead() is where every response passes
  // (res.end() and res.write() without it call it too), before any header leaves.
  #hook (): void {
    if (this.#hooked) return
    this.#hooked = true
    const res = this.#res
    const original = res.writeHead as unknown as WriteHead
    const attach = (status: unknown, headers: HeaderArg): void => this.#attach(status, headers)
    res.writeHead = function cloudfrontWriteHead (this: ServerResponse, ...args: unknown[]): ServerResponse {
      attach(args[0], (typeof args[1] === 'string' ? args[2] : args[1]) as HeaderArg)
      return original.apply(this, args)
    } as unknown as ServerResponse['writeHead']
  }

  #attach (status: unknown, headers: HeaderArg): void {
    if (this.#written) return
    this.#written = true
    const res = this.#res
    const engine = this.#engine
    const grant = !this.#failed && !this.#revoked && engine.statusAllowed(Number(status) | 0)
    let issued: Issued | null = null
    if (grant) issued = this.#explicit.length === 0 ? this.#rule : combineIssued([this.#rule, ...this.#explicit])
    // Fast path: nothing to add to this response.
    if (issued === null && this.#clears.length === 0) return
    const add = issued === null ? this.#clears : this.#clears.length === 0 ? issued.setCookie : this.#clears.concat(issued.setCookie)
    if (add.length > 0) writeHeader(res, headers, 'set-cookie', mergeSetCookie(readHeader(res, headers, 'set-cookie'), add))
    // A response about a user's grant is that user's alone: never stored by a shared cache.
    writeHeader(res, headers, 'cache-control', privateCacheControl(readHeader(res, headers, 'cache-control')))
    if (issued !== null && engine.expiresHeader !== false) writeHeader(res, headers, engine.expiresHeader.toLowerCase(), String(issued.expires))
  }
}

// The client's mistake, answered as the Fastify plugin answers it, in every environment: one line of JSON and
// no stack (Express's default handler would log one and, outside production, send it to the client).
function refuseParam (res: ServerResponse, err: Error & { code: string }): void {
  const body = JSON.stringify({ statusCode: 400, code: err.code, error: 'Bad Request', message: err.message })
  res.statusCode = 400
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
  const hasRules = engine.hasRules

  function cloudfrontMiddleware (request: IncomingMessage & Req, res: ServerResponse, next: NextFunction): void {
    const req = request as RawRequest
    const state = new RequestGrants(engine, req, res)
    req.cloudfront = state
    // Fast path: no path rules, only handler grants.
    if (!hasRules) {
      next()
      return
    }
    let issued: MaybePromise<Issued | null>
    try {
      // A mount path rewrites req.url; rules are written against the path the client sent.
      const pending = engine.match(rawPath(req.originalUrl ?? req.url ?? '/'))
      if (pending === null) {
        next()
        return
      }
      issued = engine.issue(request, pending, clientOf(req))
    } catch (err) {
      // Hostile parameters are answered here; failing getUser/authorize go to Express, before the handler runs.
      if ((err as { code?: unknown }).code === 'FST_ERR_CF_INVALID_PARAM') refuseParam(res, err as Error & { code: string })
      else next(err)
      return
    }
    if (!isThenable<Issued | null>(issued)) {
      // Cached path: no promise, no extra tick.
      if (issued !== null) state.setRule(issued)
      next()
      return
    }
    issued.then((i) => {
      if (i !== null) state.setRule(i)
      next()
    }, next)
  }

  return Object.defineProperties(cloudfrontMiddleware, Object.getOwnPropertyDescriptors(engine.instanceApi())) as CloudfrontMiddleware<Req>
}

export default expressCloudfrontCookies
