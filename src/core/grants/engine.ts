import { grantCookieNames, serializeClearCookies } from '../cookies.js'
import { normaliseClientIp } from '../ip.js'
import { isThenable } from '../guards.js'
import type { CloudFrontCookies, SignCookiesOptions, SignUrlOptions } from '../signer.js'
import { nowSeconds } from '../time.js'
import { pathOf } from '../url.js'
import { SetCache, sentBack, type CacheEntry } from './cache.js'
import { Issuer, type GrantCounters } from './issuer.js'
import { KeyRing } from './key-ring.js'
import { checkTemplatesKey } from '../manifests/url.js'
import type { ResolvedGrantOptions, ResolvedManifests } from './options.js'
import { RuleBook, checkPrefix, slotOf, type CompiledRule, type PendingGrant } from './rule-book.js'
import { heldValuesOf } from './signed-values.js'
import {
  type ClientInfo, type ExplicitGrantOptions, type GrantDecision, type GrantInstanceApi,
  type GrantRuleSettings, type GrantStats, type Issued, type MaybePromise, type NoGrantReason, type UserId
} from './types.js'

// The grant engine: everything that decides who gets which cookie set, framework-agnostic. Every
// grant (a route's, a handler's grant(), a mirrored playlist's, a manifest URL's) goes through one pipeline:
// user → authorisation → IP binding → the cached or signed set. The cookie path adds only its
// "the client already holds it" checks. The adapters reach it through GrantResponse.

const NO_CLIENT: ClientInfo = { cookieHeader: undefined, ip: undefined }

/** The user id of what getUser returned, or null for "nobody". */
function userIdOf (user: unknown): string | null {
  if (typeof user === 'string') return user === '' ? null : user
  if (typeof user === 'number') return String(user)
  return null
}

/** A set to be signed only once the response is known to carry it (see GrantEngine.prepare). */
export type UnsignedSet = () => Promise<Issued>

/** A user whose grant authorisation allowed: the mirror loads the playlist before asking for the set. */
export class Admitted {
  constructor (readonly user: string) {}
}

/** What the pipeline ends with: the set, a set still to sign, an admitted user, or why there is none. */
export type PipelineResult = Issued | UnsignedSet | Admitted | NoGrantReason

/**
 * Where a pipeline ends: sign a missing set now, leave it unsigned, stop at the admitted user, or
 * (a playlist's or a manifest URL's set) take the set whatever the client holds.
 */
const enum Delivery { Cookies, CookiesUnsigned, Admit, Playlist }

/** How the requests of one route find their grant: from the router's params, or from the request's raw URL. */
export type RouteGrants<Req> = (rawUrl: string, params: Record<string, unknown>) => PendingGrant<Req> | null

/** Builds the engine from resolved options (see resolveGrantOptions): rules and keys are checked now. */
export class GrantEngine<Req = unknown> {
  readonly distribution: string
  readonly expiresHeader: string | false
  readonly statusAllowed: (status: number) => boolean
  /** Whether any path rule exists: the middleware skips matching without. */
  readonly hasPathRules: boolean
  /** The static manifests' templates (option `manifests`), or null. */
  readonly manifests: ResolvedManifests | null
  private readonly rules: RuleBook<Req>
  // Private fields: an app that prints a reply or res.locals (which reach the engine) sees no key, cached set or
  // signing in flight.
  readonly #settings: ResolvedGrantOptions<Req>
  readonly #keys: KeyRing
  readonly #cache: SetCache
  readonly #issuer: Issuer
  private readonly counters: GrantCounters = {
    hits: 0, misses: 0, signatures: 0, reissues: 0, coalesced: 0, shared: 0, clientFresh: 0, refused: 0
  }

  /** Where a request's "no grant" goes: the adapter's log, then the app's onDecision. */
  private readonly decided: ((request: Req, decision: GrantDecision) => void) | null

  /** `log` is the adapter's own report of decisions (the Fastify plugin's request.log), besides `onDecision`. */
  constructor (settings: ResolvedGrantOptions<Req>, log?: (request: Req, decision: GrantDecision) => void) {
    this.#settings = settings
    this.decided = reporter(log, settings.onDecision)
    this.distribution = settings.distribution
    this.expiresHeader = settings.expiresHeader
    this.statusAllowed = settings.statusAllowed
    this.#keys = new KeyRing({ ...settings, onWarning: settings.keyWarning })
    this.rules = new RuleBook<Req>(settings.rules, settings.defaults, settings.authorize, settings.onWarning)
    this.hasPathRules = this.rules.rules.length > 0
    this.#cache = new SetCache(settings.cache.max, settings.cache.maxBytes)
    this.#issuer = new Issuer({
      distribution: settings.distribution,
      cookie: settings.cookie,
      now: settings.now,
      cache: this.#cache,
      counters: this.counters
    })
    this.manifests = settings.manifests ?? null
    // Refused now rather than on each manifestUrl(): every URL would open the manifest and no file under it.
    const active = this.#keys.active
    if (this.manifests !== null) checkTemplatesKey(this.manifests.templates, active.keyPairId, active.hashAlgorithm)
  }

  /**
   * How a route's requests find their grant, decided once per route: its own `config.cloudfront`
   * (`where` names it in errors), or the path rules its URL could match; null when none can have one.
   */
  routeGrants (
    url: string, config: GrantRuleSettings<Req> | false | undefined, where: string
  ): RouteGrants<Req> | null {
    if (config === false) return null
    const rules = this.rules
    if (config !== undefined) {
      const rule = rules.compile(config, where, routeParams(url))
      return (_rawUrl, params) => rules.pending(rule, params)
    }
    const candidates = rules.rulesForRoute(url)
    if (candidates.length === 0) return null
    return (rawUrl) => rules.match(pathOf(rawUrl), candidates)
  }

  /** The path rules' grant for a raw request path. Throws FST_ERR_CF_INVALID_PARAM (400) for an unsafe value. */
  pathGrant (path: string): PendingGrant<Req> | null {
    return this.rules.match(path)
  }

  /** A handler's grant of a prefix (`grant('/courses/42/')`): see RuleBook.prefixGrant. */
  prefixGrant (prefix: unknown, settings?: ExplicitGrantOptions): PendingGrant<Req> {
    return this.rules.prefixGrant(prefix, settings)
  }

  /** The rule whose resource covers a CDN path, with its parameters and prefix, or null (the playlist mirror). */
  coveringRule (cdnPath: string): { rule: CompiledRule<Req>, params: Record<string, string>, prefix: string } | null {
    return this.rules.coveringRule(cdnPath)
  }

  /** The pending grant of a covering rule's prefix (the playlist mirror). */
  pending (rule: CompiledRule<Req>, params: Record<string, unknown>): PendingGrant<Req> {
    return this.rules.pending(rule, params)
  }

  /**
   * The cookie set a response carries for a pending grant: the pipeline, signing a missing set now.
   * Synchronous when every step is (the cached path: no promise, no tick; bench:plugin, plugin-cached).
   */
  issue (request: Req, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | NoGrantReason> {
    return this.run(request, pending, client, Delivery.Cookies) as MaybePromise<Issued | NoGrantReason>
  }

  /**
   * The pipeline as far as the cache: a missing set comes back unsigned, to be signed only once the
   * response's status is known to carry it (the middleware decides before the handler runs).
   */
  prepare (request: Req, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<PipelineResult> {
    return this.run(request, pending, client, Delivery.CookiesUnsigned)
  }

  /**
   * The user a mirrored playlist is for (steps 1 and 2: the playlist is loaded before the set is
   * asked for), or why there is none (the mirror answers 401 or 403). Refusals are reported as for cookies.
   */
  playlistUser (request: Req, pending: PendingGrant<Req>): MaybePromise<Admitted | NoGrantReason> {
    const result = this.run(request, pending, NO_CLIENT, Delivery.Admit) as MaybePromise<Admitted | NoGrantReason>
    if (isThenable<Admitted | NoGrantReason>(result)) {
      return Promise.resolve(result).then((r) => this.reported(request, r, pending))
    }
    return this.reported(request, result, pending)
  }

  /**
   * An admitted user's set for a playlist (steps 3 and 4), whatever the client holds: a playlist carries its values.
   */
  playlistSet (
    request: Req, user: string, pending: PendingGrant<Req>, client: ClientInfo
  ): MaybePromise<Issued | NoGrantReason> {
    const result = this.bound(user, pending, client, Delivery.Playlist) as MaybePromise<Issued | NoGrantReason>
    if (isThenable<Issued | NoGrantReason>(result)) {
      return Promise.resolve(result).then((r) => this.reported(request, r, pending))
    }
    return this.reported(request, result, pending)
  }

  /** A manifest URL's set: the whole pipeline, whatever the client holds (the URL carries the values, no cookie). */
  manifestSet (request: Req, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | NoGrantReason> {
    return this.run(request, pending, client, Delivery.Playlist) as MaybePromise<Issued | NoGrantReason>
  }

  private reported<T extends object> (
    request: Req, result: T | NoGrantReason, pending: PendingGrant<Req>
  ): T | NoGrantReason {
    if (typeof result === 'string') this.report(request, result, pending.path)
    return result
  }

  /** Tells the adapter's log and the app's onDecision why a request receives nothing. */
  report (request: Req, reason: NoGrantReason, prefix: string | undefined): void {
    if (this.decided !== null) this.decided(request, { reason, prefix })
  }

  /** Step 1: the user. */
  private run (
    request: Req, p: PendingGrant<Req>, client: ClientInfo, delivery: Delivery
  ): MaybePromise<PipelineResult> {
    const user = this.#settings.getUser(request)
    if (isThenable(user)) return Promise.resolve(user).then((u) => this.authorised(request, u, p, client, delivery))
    return this.authorised(request, user, p, client, delivery)
  }

  /** Step 2: nobody signed in gets nothing; the rule's (or the prefix's) authorize decides for the user. */
  private authorised (
    request: Req, user: unknown, p: PendingGrant<Req>, client: ClientInfo, delivery: Delivery
  ): MaybePromise<PipelineResult> {
    const id = userIdOf(user)
    if (id === null) return 'no-user'
    const authorize = p.rule.authorize
    if (authorize === undefined) return this.bound(id, p, client, delivery)
    const ok = authorize(request, p.params, p.path)
    if (isThenable(ok)) {
      return Promise.resolve(ok)
        .then((v) => (v === true ? this.bound(id, p, client, delivery) : this.refused('not-authorized')))
    }
    return ok === true ? this.bound(id, p, client, delivery) : this.refused('not-authorized')
  }

  private refused (reason: NoGrantReason): NoGrantReason {
    this.counters.refused++
    return reason
  }

  /** Step 3: the IP an IP-bound grant is bound to; an IPv6 client gets nothing, or an unbound set (`ipv6`). */
  private bound (
    user: string, p: PendingGrant<Req>, client: ClientInfo, delivery: Delivery
  ): MaybePromise<PipelineResult> {
    // The mirror stops before this step: it loads the playlist first, whose length sets the lifetime.
    if (delivery === Delivery.Admit) return new Admitted(user)
    if (!p.rule.ipBound) return this.cachedOrSigned(user, p, p.slot, undefined, client, delivery)
    const v4 = normaliseClientIp(client.ip)
    if (v4 !== null) return this.cachedOrSigned(user, p, slotOf(p.path, v4, p.rule.ttl), v4, client, delivery)
    if (this.#settings.ipv6 === 'refuse') return this.refused('ipv6-refused')
    return this.cachedOrSigned(user, p, p.slot, undefined, client, delivery)
  }

  /** Step 4: a fresh cached set of the active key; else (cookies) the client's own fresh set; else a signature. */
  private cachedOrSigned (
    user: string, p: PendingGrant<Req>, slot: string, ip: string | undefined, client: ClientInfo, delivery: Delivery
  ): MaybePromise<PipelineResult> {
    const signer = this.#keys.active
    let entry = this.#cache.get(user, slot)
    // A set of a key that no longer signs is not served again (rotation).
    if (entry !== undefined && entry.keyPairId !== signer.keyPairId) entry = undefined
    const nowSec = nowSeconds(this.#settings.now)
    if (entry !== undefined && entry.expires - nowSec > p.rule.refreshBefore) {
      this.counters.hits++
      return delivery === Delivery.Playlist ? entry : this.unlessSentBack(entry, client)
    }
    const running = this.#issuer.running(signer, user, slot)
    if (running !== undefined) {
      return delivery === Delivery.Playlist ? running : running.then((e) => this.unlessSentBack(e, client))
    }
    if (entry === undefined && delivery !== Delivery.Playlist) {
      const held = this.clientHolds(p, client, ip, nowSec)
      if (held !== null) return held
    }
    // Unsigned: asked again when the response carries it, by then perhaps cached or signing for another request.
    if (delivery === Delivery.CookiesUnsigned) {
      return () => Promise.resolve(
        this.cachedOrSigned(user, p, slot, ip, client, Delivery.Cookies) as MaybePromise<Issued>
      )
    }
    if (entry === undefined) this.counters.misses++
    else this.counters.reissues++
    const signing = this.#issuer.sign(signer, user, slot, p.path, p.rule.ttl, ip)
    return delivery === Delivery.Playlist ? signing : signing.then((e) => this.unlessSentBack(e, client))
  }

  /**
   * The client already holds a valid, fresh set for this prefix, signed by the active key (after a restart, say): send
   * nothing.
   */
  private clientHolds (
    p: PendingGrant<Req>, client: ClientInfo, ip: string | undefined, nowSec: number
  ): Issued | null {
    const verifier = this.#keys.verifier
    const cookieHeader = client.cookieHeader
    if (verifier === null || cookieHeader === undefined || !cookieHeader.includes('CloudFront-Signature=')) return null
    const result = verifier.verify({ url: this.distribution + p.path, cookieHeader, clientIp: client.ip })
    if (!result.ok || result.keyPairId !== this.#keys.active.keyPairId) return null
    const pol = result.policy
    if (pol.resource !== this.distribution + p.path + '*') return null
    if (pol.ipAddress !== (ip === undefined ? undefined : `${ip}/32`)) return null
    if (pol.expires - nowSec <= p.rule.refreshBefore) return null
    const values = heldValuesOf(cookieHeader)
    if (values === null) return null
    this.counters.clientFresh++
    return { setCookie: [], expires: pol.expires, path: p.path, ...values }
  }

  /** The client sent back the very set we would send: it holds it already, so no cookies go out. */
  private unlessSentBack (entry: CacheEntry, client: ClientInfo): Issued {
    if (client.cookieHeader !== undefined && sentBack(client.cookieHeader, entry)) {
      this.counters.clientFresh++
      const { expires, path, signedQuery, cookieHeader } = entry
      return { setCookie: [], expires, path, signedQuery, cookieHeader }
    }
    // The entry is an Issued itself: the cached path allocates nothing (bench:plugin, plugin-cached).
    return entry
  }

  /** The user for a request (for revoking). */
  user (request: Req): MaybePromise<UserId | null | undefined | false> {
    return this.#settings.getUser(request)
  }

  /**
   * Revokes a user's grants: drops their cached sets and returns the `Set-Cookie` strings that
   * clear the cookies in the browser (for `prefix`, or for every prefix cached for the user).
   * CloudFront cannot revoke a signed set before it expires; keep ttl short.
   */
  revoke (user: unknown, prefix?: string): string[] {
    const paths = new Set<string>()
    // Clearing a prefix grants nothing: any well-formed one may be cleared, "/courses/" included.
    if (prefix !== undefined) paths.add(checkPrefix(prefix))
    const id = userIdOf(user)
    if (id !== null) for (const path of this.#cache.drop(id, prefix)) paths.add(path)
    const out: string[] = []
    // Exactly the names this engine's sets have: every key signs with the same hash algorithm.
    const names = grantCookieNames(this.#keys.active.hashAlgorithm)
    for (const path of paths) out.push(...serializeClearCookies({ ...this.#settings.cookie, path }, names))
    return out
  }

  /** Makes another configured key the one that signs. Cached sets of the old key are no longer served. */
  rotate (keyPairId: string): void {
    this.#keys.rotate(keyPairId)
  }

  get activeKeyPairId (): string {
    return this.#keys.active.keyPairId
  }

  /** Signs a URL with the active key. */
  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.#keys.active.signUrl(url, options)
  }

  /** Signs a cookie set with the active key (no cache: for scripts and special cases). */
  signCookies (resource: string, options: SignCookiesOptions): Promise<CloudFrontCookies> {
    return this.#keys.active.signCookies(resource, options)
  }

  stats (): GrantStats {
    return { ...this.counters, ...this.#cache.stats() }
  }

  /** The instance API, bound to this engine, for adapters to expose as is. */
  instanceApi (): GrantInstanceApi {
    const engine = this
    return {
      signUrl: (url, options) => engine.signUrl(url, options),
      signCookies: (resource, options) => engine.signCookies(resource, options),
      stats: () => engine.stats(),
      rotate: (keyPairId) => engine.rotate(keyPairId),
      get activeKeyPairId () { return engine.activeKeyPairId }
    }
  }
}

/** The adapter's log and the app's onDecision as one function, or null when there is neither. */
function reporter<Req> (
  log: ((request: Req, decision: GrantDecision) => void) | undefined,
  onDecision: ((decision: GrantDecision, request: Req) => void) | undefined
): ((request: Req, decision: GrantDecision) => void) | null {
  if (log === undefined) return onDecision === undefined ? null : (request, decision) => onDecision(decision, request)
  if (onDecision === undefined) return log
  return (request, decision) => {
    log(request, decision)
    onDecision(decision, request)
  }
}

// Route parameter names in a router path (Fastify's): `:id`, `:id(^\\d+)`, `:a-:b`, and the `*` wildcard.
function routeParams (url: string): string[] {
  const names = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string)
  if (url.includes('*')) names.push('*')
  return names
}
