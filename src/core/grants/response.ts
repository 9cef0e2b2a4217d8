import { signedManifestUrl } from '../manifests/url.js'
import type { GrantEngine, PipelineResult } from './engine.js'
import { isThenable } from '../guards.js'
import { manifestGrant } from './manifest-grant.js'
import type { PendingGrant } from './rule-book.js'
import {
  type ClientInfo, type ExplicitGrantOptions, type GrantApi, type GrantResult, type GrantSummary,
  type Issued, type ManifestGrantOptions, type MaybePromise, type NoGrantReason
} from './types.js'

// What one response carries: the route's grant, the handler's grants and revocations, whether the
// handler failed, and from those and the status, the headers to write. The adapters only read and
// write headers; the rules below are the same on every host:
// - the status is decided first: a set is never signed for a response whose status withholds it;
// - a failed grant() rejects, and that grant alone is left out (the response keeps the others);
// - grant() and revoke() never throw synchronously: every failure is a rejected promise;
// - nothing is granted on a response whose status is not allowed, whose handler failed, or that revoked;
// - one Set-Cookie per cookie name and Path, whichever grants ask for the same prefix.

/**
 * How an adapter reads and writes a response header (`arg`: what it needs besides the target, such as writeHead's
 * headers).
 */
export interface HeaderAccess<T, A> {
  get: (target: T, arg: A, name: string) => unknown
  set: (target: T, arg: A, name: string, value: string | string[]) => void
}

/**
 * Adds our `Set-Cookie` strings to what the response already has, keeping cookies set by the app
 * and other plugins; one of ours replaces an earlier cookie with the same name and Path.
 */
export function mergeSetCookie (existing: unknown, add: string[]): string[] {
  // Always a new list: `add` is the cached set, and whoever appends to the header later
  // (Node's appendHeader, Fastify's reply.header) pushes into the stored array.
  if (existing === undefined || existing === null || existing === '') return add.slice()
  const list = Array.isArray(existing) ? existing.map(String) : [String(existing)]
  const ours = new Set(add.map(cookieIdentity))
  return list.filter((c) => !ours.has(cookieIdentity(c))).concat(add)
}

function cookieIdentity (setCookie: string): string {
  const name = setCookie.slice(0, setCookie.indexOf('='))
  const path = /;\s*path=([^;]*)/i.exec(setCookie)?.[1]?.trim() ?? ''
  const domain = /;\s*domain=([^;]*)/i.exec(setCookie)?.[1]?.trim().toLowerCase() ?? ''
  return `${name}\u0000${path}\u0000${domain}`
}

const SHARED_CACHE_DIRECTIVES =
  /^(public|s-maxage|max-age|immutable|stale-while-revalidate|stale-if-error|must-understand)$/i

/**
 * A Cache-Control value that keeps a response with grants out of shared caches: `private, no-store`,
 * keeping stricter directives already set (no-cache, must-revalidate, ...), dropping those that allow storing.
 */
export function privateCacheControl (existing: unknown): string {
  if (typeof existing !== 'string' || existing === '') return 'private, no-store'
  const kept = existing.split(',').map((d) => d.trim())
    .filter((d) => d !== '' && !SHARED_CACHE_DIRECTIVES.test(d.split('=')[0] as string))
  const lower = kept.map((d) => d.toLowerCase())
  if (!lower.includes('no-store')) kept.unshift('no-store')
  if (!lower.includes('private')) kept.unshift('private')
  return kept.join(', ')
}

/** What a response carries: `Set-Cookie` strings to add, and the earliest expiry of its sets (-1: clears only). */
export interface Carried {
  setCookie: string[]
  expires: number
}

/**
 * Writes what a response carries: `Set-Cookie` merged with what is there, `Cache-Control` made
 * private, and the expiry header when something is granted.
 */
export function writeGrantHeaders<T, A> (
  io: HeaderAccess<T, A>, target: T, arg: A, carried: Carried, expiresHeader: string | false
): void {
  const setCookie = carried.setCookie
  if (setCookie.length > 0) {
    io.set(target, arg, 'set-cookie', mergeSetCookie(io.get(target, arg, 'set-cookie'), setCookie))
  }
  // A response about a user's grant is that user's alone: never stored by a shared cache.
  io.set(target, arg, 'cache-control', privateCacheControl(io.get(target, arg, 'cache-control')))
  if (carried.expires !== -1 && expiresHeader !== false) io.set(target, arg, expiresHeader, String(carried.expires))
}

/** The withheld reason for a status, or null when the status may carry a grant. */
function statusReason (engine: GrantEngine<any>, status: number): NoGrantReason | null {
  return engine.statusAllowed(status) ? null : 'status'
}

/** The route's set, once the pipeline has answered: reported when there is none, or when the client holds it. */
function delivered<Req> (
  engine: GrantEngine<Req>, request: Req, route: PendingGrant<Req>, result: Issued | NoGrantReason
): Issued | null {
  if (typeof result === 'string') {
    engine.report(request, result, route.path)
    return null
  }
  if (result.setCookie.length === 0) engine.report(request, 'client-fresh', route.path)
  return result
}

/**
 * The route's grant of a response that has nothing else (the Fastify plugin's fast path): the
 * status first, then the pipeline. Synchronous when the set is cached (bench:plugin, plugin-cached).
 */
export function routeGrant<Req> (
  engine: GrantEngine<Req>, request: Req, route: PendingGrant<Req>, client: ClientInfo, status: number
): MaybePromise<Issued | null> {
  const withheld = statusReason(engine, status)
  if (withheld !== null) {
    engine.report(request, withheld, route.path)
    return null
  }
  const result = engine.issue(request, route, client)
  if (isThenable<Issued | NoGrantReason>(result)) {
    return Promise.resolve(result).then((r) => delivered(engine, request, route, r))
  }
  return delivered(engine, request, route, result)
}

/**
 * A route's grant whose pipeline answered before the handler without a promise: a set, or why there is none. For a
 * response that asks nothing else (the Express middleware's cached path), `preparedCarried` decides it when the
 * status is known, with GrantResponse.finish's rules, and no GrantResponse is made; a handler that asks for more
 * takes it over (`GrantResponse.adopt`).
 */
export class PreparedGrant<Req> {
  readonly request: Req
  readonly route: PendingGrant<Req>
  // Private: it lives in res.locals, which apps log and hand to templates.
  readonly #result: Issued | NoGrantReason

  constructor (request: Req, route: PendingGrant<Req>, result: Issued | NoGrantReason) {
    this.request = request
    this.route = route
    this.#result = result
  }

  get result (): Issued | NoGrantReason {
    return this.#result
  }
}

/** The prepared grant of a pipeline result in hand; null for a set still to sign or a promise (GrantResponse). */
export function preparedGrant<Req> (
  request: Req, route: PendingGrant<Req>, result: MaybePromise<PipelineResult>
): PreparedGrant<Req> | null {
  if (typeof result === 'string') return new PreparedGrant(request, route, result)
  if (typeof result !== 'object' || result === null || isThenable(result) || !('setCookie' in result)) return null
  return new PreparedGrant(request, route, result)
}

/** What a response carries for a prepared grant and its status: GrantResponse.finish with nothing else asked. */
export function preparedCarried<Req> (
  engine: GrantEngine<Req>, prepared: PreparedGrant<Req>, status: number
): Carried | null {
  const withheld = statusReason(engine, status)
  if (withheld === null) return delivered(engine, prepared.request, prepared.route, prepared.result)
  engine.report(prepared.request, withheld, prepared.route.path)
  return null
}

/**
 * A grant as handlers receive it. The signed values live in private fields: no serialiser, spread,
 * structured clone or util.inspect reaches them, only the two methods that name what they return.
 */
class Grant implements GrantResult {
  readonly prefix: string
  readonly expires: number
  readonly #signedQuery: string
  readonly #cookieHeader: string

  constructor (issued: Issued) {
    this.prefix = issued.path
    this.expires = issued.expires
    this.#signedQuery = issued.signedQuery
    this.#cookieHeader = issued.cookieHeader
  }

  signedQuery (): string {
    return this.#signedQuery
  }

  cookieHeader (): string {
    return this.#cookieHeader
  }

  toJSON (): GrantSummary {
    return { prefix: this.prefix, expires: this.expires }
  }
}

/**
 * The sets a response carries, one per prefix (a later grant of a prefix replaces an earlier one:
 * a rule and a grant() of the same prefix send it once), with the earliest expiry.
 */
export function combineSets (sets: readonly Issued[]): Carried {
  const byPath = new Map<string, Issued>()
  for (const set of sets) {
    byPath.delete(set.path)
    byPath.set(set.path, set)
  }
  const setCookie: string[] = []
  let expires = Infinity
  for (const set of byPath.values()) {
    setCookie.push(...set.setCookie)
    expires = Math.min(expires, set.expires)
  }
  return { setCookie, expires }
}

/** Per-response grant state, exposed to handlers as `reply.cloudfront` / `req.cloudfront`. */
export class GrantResponse<Req> implements GrantApi {
  protected readonly engine: GrantEngine<Req>
  private readonly request: Req
  /** What the engine may ask of the client (an adapter's request wrapper may be its own). */
  protected client: ClientInfo
  /** The route's grant, decided before the handler runs. */
  private route: PendingGrant<Req> | null = null
  /** The route's set when asked before the handler (the middleware): a set, one to sign, or why none. */
  // Signed values are kept in private fields (as in Grant): no util.inspect of a reply or res.locals shows them.
  #routeResult: PipelineResult | null = null
  private failed = false
  private revoked = false
  // Made on first use: most responses have neither handler grants nor revocations (bench:express, cached).
  #handlerSets: Issued[] | null = null
  /** Sets handed out as manifest URLs: no cookie, but the response is the user's alone all the same. */
  #urlSets: Issued[] | null = null
  private clears: string[] | null = null
  private running: Array<Promise<unknown>> | null = null

  constructor (engine: GrantEngine<Req>, request: Req, client: ClientInfo) {
    this.engine = engine
    this.request = request
    this.client = client
  }

  /** The route's grant (null: the route has none). Its set is asked for when the response finishes. */
  start (route: PendingGrant<Req> | null): void {
    this.route = route
  }

  /**
   * The route's grant, asked for now (before the handler runs) as far as the cache: a missing set is
   * signed only when the status allows it. Synchronous when every step is; throws or rejects when
   * getUser or authorize does.
   */
  prepare (route: PendingGrant<Req>): MaybePromise<void> {
    return this.adopt(route, this.engine.prepare(this.request, route, this.client))
  }

  /** The route's grant with the pipeline's answer already asked for (see prepare and PreparedGrant). */
  adopt (route: PendingGrant<Req>, result: MaybePromise<PipelineResult>): MaybePromise<void> {
    this.route = route
    if (!isThenable<PipelineResult>(result)) {
      this.#routeResult = result
      return
    }
    // A getUser or authorize that rejects fails the response: no grant, whatever status an error handler picks.
    return Promise.resolve(result).then((r) => { this.#routeResult = r }, (err: unknown) => {
      this.failed = true
      throw err
    })
  }

  /** The handler failed: nothing is granted, whatever status the error handler picks. */
  fail (): void {
    this.failed = true
  }

  grant (prefix: string, options?: ExplicitGrantOptions): Promise<GrantResult | null> {
    let pending: PendingGrant<Req> | undefined
    let issued: MaybePromise<Issued | NoGrantReason>
    try {
      pending = this.engine.prefixGrant(prefix, options)
      issued = this.engine.issue(this.request, pending, this.client)
    } catch (err) {
      this.engine.report(this.request, 'failed', pending?.path)
      return Promise.reject(err)
    }
    const path = pending.path
    const result = Promise.resolve(issued).then((i) => {
      if (typeof i === 'string') {
        this.engine.report(this.request, i, path)
        return null
      }
      if (i.setCookie.length === 0) this.engine.report(this.request, 'client-fresh', path)
      ;(this.#handlerSets ??= []).push(i)
      return new Grant(i)
    }, (err: unknown) => {
      this.engine.report(this.request, 'failed', path)
      throw err
    })
    this.wait(result)
    return result
  }

  manifestUrl (path: string, options?: ManifestGrantOptions): Promise<string | null> {
    let pending: PendingGrant<Req> | undefined
    let issued: MaybePromise<Issued | NoGrantReason>
    try {
      pending = manifestGrant(this.engine, path, options)
      issued = this.engine.manifestSet(this.request, pending, this.client)
    } catch (err) {
      this.engine.report(this.request, 'failed', pending?.path)
      return Promise.reject(err)
    }
    const prefix = pending.path
    const templates = (this.engine.manifests as NonNullable<GrantEngine<Req>['manifests']>).templates
    const result = Promise.resolve(issued).then((i) => {
      if (typeof i === 'string') {
        this.engine.report(this.request, i, prefix)
        return null
      }
      // Refuses a set of a key the templates do not name (after rotate()).
      const url = signedManifestUrl(new Grant(i), path, { distribution: this.engine.distribution, templates })
      ;(this.#urlSets ??= []).push(i)
      return url
    }).catch((err: unknown) => {
      this.engine.report(this.request, 'failed', prefix)
      throw err
    })
    this.wait(result)
    return result
  }

  revoke (prefix?: string): Promise<void> {
    this.revoked = true
    const result = Promise.resolve()
      .then(() => this.engine.user(this.request))
      .then((user) => { (this.clears ??= []).push(...this.engine.revoke(user, prefix)) })
    this.wait(result)
    return result
  }

  private wait (result: Promise<unknown>): void {
    // Waited for by finish(), never failing there: the caller of grant() or revoke() sees the rejection.
    (this.running ??= []).push(result.catch(() => {}))
  }

  /** Whether grant() or revoke() calls are still running (the middleware then holds the response back). */
  get busy (): boolean {
    return this.running !== null
  }

  /**
   * What the response carries for its status, once every grant() and revoke() called so far has
   * settled: the status first, then the failure and revocation, then the sets. Null when nothing.
   * Synchronous when nothing is running and the route's set is cached or needs no signature.
   */
  finish (status: number): MaybePromise<Carried | null> {
    const running = this.running
    if (running !== null) {
      this.running = null
      return Promise.all(running).then(() => this.finish(status))
    }
    const withheld = statusReason(this.engine, status) ?? (this.failed ? 'failed' : this.revoked ? 'revoked' : null)
    if (withheld !== null) return this.withheld(withheld)
    const route = this.route
    if (route === null) return this.carried(null)
    let result = this.#routeResult ?? this.engine.issue(this.request, route, this.client)
    if (typeof result === 'function') result = result()
    if (isThenable<Issued | NoGrantReason>(result)) {
      return Promise.resolve(result).then((r) => this.carried(delivered(this.engine, this.request, route, r)))
    }
    return this.carried(delivered(this.engine, this.request, route, result as Issued | NoGrantReason))
  }

  /** Nothing granted: each grant asked for is reported with the reason; clears still go out. */
  private withheld (reason: NoGrantReason): Carried | null {
    if (this.route !== null) this.engine.report(this.request, reason, this.route.path)
    for (const set of this.#handlerSets ?? []) this.engine.report(this.request, reason, set.path)
    for (const set of this.#urlSets ?? []) this.engine.report(this.request, reason, set.path)
    const clears = this.clears
    return clears === null ? null : { setCookie: clears, expires: -1 }
  }

  private carried (routeSet: Issued | null): Carried | null {
    const handlerSets = this.#handlerSets
    const cookies = handlerSets === null
      ? routeSet
      : combineSets(routeSet === null ? handlerSets : [routeSet, ...handlerSets])
    const urlSets = this.#urlSets
    if (urlSets === null) return cookies
    // Kept apart from the cookie sets: a URL's set of the same prefix must not replace one that sets cookies.
    let expires = cookies === null ? Infinity : cookies.expires
    for (const set of urlSets) expires = Math.min(expires, set.expires)
    return { setCookie: cookies === null ? [] : cookies.setCookie, expires }
  }
}
