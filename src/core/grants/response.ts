import type { GrantEngine } from './engine.js'
import type { PendingGrant } from './rules.js'
import { credentialsOf, credentialsOfHeader, type Credentials } from '../playlists/credentials.js'
import { isThenable, type ClientInfo, type ExplicitGrantOptions, type GrantApi, type GrantResult, type GrantSummary, type Issued, type MaybePromise } from './types.js'

// What one response carries: the route's grant, the handler's explicit grants and revocations,
// whether the handler failed, and from those, the headers to write. Both adapters hold one of
// these per response and only read and write headers; the rules below are the same on every host:
// - a failed grant() rejects, and that grant alone is left out (the response keeps the others);
// - grant() and revoke() never throw synchronously: every failure is a rejected promise;
// - nothing is granted on a response whose handler failed, whose status is not allowed, or that revoked.

/** How an adapter reads and writes a response header (`arg`: what it needs besides the target, such as writeHead's headers). */
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

const SHARED_CACHE_DIRECTIVES = /^(public|s-maxage|max-age|immutable|stale-while-revalidate|stale-if-error|must-understand)$/i

/**
 * A Cache-Control value that keeps a response with grants out of shared caches: `private, no-store`,
 * keeping stricter directives already set (no-cache, must-revalidate, ...), dropping those that allow storing.
 */
export function privateCacheControl (existing: unknown): string {
  if (typeof existing !== 'string' || existing === '') return 'private, no-store'
  const kept = existing.split(',').map((d) => d.trim()).filter((d) => d !== '' && !SHARED_CACHE_DIRECTIVES.test(d.split('=')[0] as string))
  const lower = kept.map((d) => d.toLowerCase())
  if (!lower.includes('no-store')) kept.unshift('no-store')
  if (!lower.includes('private')) kept.unshift('private')
  return kept.join(', ')
}

/**
 * Writes what a response carries: `Set-Cookie` merged with what is there, `Cache-Control` made
 * private, and the expiry header when something is granted (`expires` -1: clears only).
 */
export function writeGrantHeaders<T, A> (io: HeaderAccess<T, A>, target: T, arg: A, setCookie: string[], expires: number, expiresHeader: string | false): void {
  if (setCookie.length > 0) io.set(target, arg, 'set-cookie', mergeSetCookie(io.get(target, arg, 'set-cookie'), setCookie))
  // A response about a user's grant is that user's alone: never stored by a shared cache.
  io.set(target, arg, 'cache-control', privateCacheControl(io.get(target, arg, 'cache-control')))
  if (expires !== -1 && expiresHeader !== false) io.set(target, arg, expiresHeader, String(expires))
}

/**
 * The grant's set as a signed query and a Cookie header, for native players: from the set sent, or
 * held by the client (the cached set it sent back, or the one it presented, verified, after a restart).
 */
function credentialsFor (issued: Issued, client: ClientInfo): Credentials {
  return credentialsOf(issued.setCookie) ?? (issued.held === undefined ? null : credentialsOf(issued.held.setCookie)) ??
    credentialsOfHeader(client.cookieHeader) ?? { query: '', cookie: '' }
}

/**
 * A grant as handlers receive it. The signed values live in private fields: no serialiser, spread,
 * structured clone or util.inspect reaches them, only the two methods that name what they return.
 */
class Grant implements GrantResult {
  readonly prefix: string
  readonly expires: number
  readonly #credentials: Credentials

  constructor (prefix: string, expires: number, credentials: Credentials) {
    this.prefix = prefix
    this.expires = expires
    this.#credentials = credentials
  }

  signedQuery (): string {
    return this.#credentials.query
  }

  cookieHeader (): string {
    return this.#credentials.cookie
  }

  toJSON (): GrantSummary {
    return { prefix: this.prefix, expires: this.expires }
  }
}

/** Per-response grant state, exposed to handlers as `reply.cloudfront` / `req.cloudfront`. */
export class GrantResponse<Req> implements GrantApi {
  /** The route's grant, decided before the handler runs; issued into `routeIssued`. */
  route: PendingGrant<Req> | null = null
  routeIssued: Issued | null = null
  /** The handler failed: nothing is granted, whatever status the error handler picks. */
  failed = false
  revoked = false
  protected readonly engine: GrantEngine<Req>
  private readonly request: Req
  /** What the engine may ask of the client (an adapter's request wrapper may be its own). */
  protected client: ClientInfo
  // Made on first use: the middleware makes one of these per request, and most have neither explicit
  // grants nor revocations (bench:express, cached and unmatched).
  private explicit: Issued[] | null = null
  private explicitPrefixes: string[] | null = null
  private clears: string[] | null = null
  private running: Array<Promise<unknown>> | null = null
  private routeTried = false

  constructor (engine: GrantEngine<Req>, request: Req, client: ClientInfo) {
    this.engine = engine
    this.request = request
    this.client = client
  }

  /** Issues the route's grant (when there is one); synchronous when the set is cached. */
  issueRoute (): MaybePromise<void> {
    const route = this.route
    if (route === null) return
    this.routeTried = true
    const issued = this.engine.issue(this.request, route, this.client)
    if (!isThenable<Issued | null>(issued)) {
      this.routeIssued = issued
      return
    }
    return Promise.resolve(issued).then((i) => { this.routeIssued = i })
  }

  grant (prefix: string, options?: ExplicitGrantOptions): Promise<GrantResult | null> {
    let pending: PendingGrant<Req> | undefined
    let issued: MaybePromise<Issued | null>
    try {
      pending = this.engine.explicit(prefix, options)
      issued = this.engine.issue(this.request, pending, this.client)
    } catch (err) {
      this.engine.noGrant(this.request, 'failed', pending?.path)
      return Promise.reject(err)
    }
    const path = pending.path
    const result = Promise.resolve(issued).then((i) => {
      if (i === null) return null
      ;(this.explicit ??= []).push(i)
      ;(this.explicitPrefixes ??= []).push(path)
      return new Grant(path, i.expires, credentialsFor(i, this.client))
    }, (err: unknown) => {
      this.engine.noGrant(this.request, 'failed', path)
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
    // Waited for by settled(), never failing there: the caller of grant() or revoke() sees the rejection.
    (this.running ??= []).push(result.catch(() => {}))
  }

  /** Settles when every grant() and revoke() called so far has (null when none is running). */
  settled (): Promise<void> | null {
    const running = this.running
    if (running === null) return null
    this.running = null
    return Promise.all(running).then(() => { if (this.running !== null) return this.settled() ?? undefined })
  }

  /** Why the grants this response had are withheld: the handler failed, it revoked, or its status. */
  private reportWithheld (): void {
    const reason = this.failed ? 'failed' : this.revoked ? 'revoked' : 'status'
    const route = this.route
    // A route grant that was asked and came back empty has been reported already (no user, ...).
    if (route !== null && (!this.routeTried || this.routeIssued !== null)) this.engine.noGrant(this.request, reason, route.path)
    for (const prefix of this.explicitPrefixes ?? []) this.engine.noGrant(this.request, reason, prefix)
  }

  /** Writes the headers this response carries for its status; nothing when it carries nothing. */
  writeHeaders<T, A> (io: HeaderAccess<T, A>, target: T, arg: A, status: number): void {
    const grant = !this.failed && !this.revoked && this.engine.statusAllowed(status)
    if (!grant) this.reportWithheld()
    const clears = this.clears
    let issued: Issued | null = grant ? this.routeIssued : null
    const explicit = grant ? this.explicit : null
    if (explicit !== null) {
      let expires = issued === null ? Infinity : issued.expires
      const setCookie = issued === null ? [] : issued.setCookie.slice()
      for (const e of explicit) {
        setCookie.push(...e.setCookie)
        expires = Math.min(expires, e.expires)
      }
      issued = { setCookie, expires }
    }
    // Fast path: nothing to add to this response.
    if (issued === null && clears === null) return
    const add = clears === null ? (issued as Issued).setCookie : issued === null ? clears : clears.concat(issued.setCookie)
    writeGrantHeaders(io, target, arg, add, issued === null ? -1 : issued.expires, this.engine.expiresHeader)
  }
}
