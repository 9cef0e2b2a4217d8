import { grantCookieNames, serializeClearCookies } from '../cookies.js'
import { normaliseClientIp } from '../ip.js'
import type { CloudFrontCookies, SignCookiesOptions, SignUrlOptions } from '../signer.js'
import { nowSeconds } from '../time.js'
import { SetCache, sentBack, type CacheEntry } from './cache.js'
import { Issuer, type GrantCounters } from './issuer.js'
import { KeyRing } from './keys.js'
import { resolveGrantOptions, type ResolvedGrantOptions } from './options.js'
import { RuleBook, checkPrefix, slotOf, type PendingGrant } from './rules.js'
import { createPlaylistMirror, type PlaylistGrant } from '../playlists/access.js'
import type { PlaylistMirror } from '../playlists/mirror.js'
import {
  isThenable, type ClientInfo, type ExplicitGrantOptions, type GrantDecision, type GrantInstanceApi, type GrantOptions, type GrantStats, type Issued,
  type MaybePromise, type NoGrantReason, type UserId
} from './types.js'

// The grant engine: everything that decides who gets which cookie set, framework-agnostic.
// The Fastify plugin and the Express middleware only translate their request and reply into
// the calls below (through GrantResponse); none of this logic is repeated in them.

/** The user id of what getUser returned, or null for "nobody". */
function userIdOf (user: unknown): string | null {
  if (typeof user === 'string') return user === '' ? null : user
  if (typeof user === 'number') return String(user)
  return null
}

/** Builds the engine from options, validating every one of them now (registration time). */
export class GrantEngine<Req = unknown> {
  readonly distribution: string
  readonly expiresHeader: string | false
  readonly statusAllowed: (status: number) => boolean
  readonly rules: RuleBook<Req>
  /** The playlist mirror (option `playlists`), or null. */
  readonly playlists: PlaylistMirror<Req, PlaylistGrant<Req>, ClientInfo> | null
  private readonly settings: ResolvedGrantOptions<Req>
  private readonly keys: KeyRing
  private readonly cache: SetCache
  private readonly issuer: Issuer
  private readonly counters: GrantCounters = { hits: 0, misses: 0, signatures: 0, reissues: 0, coalesced: 0, shared: 0, clientFresh: 0, refused: 0 }

  /** Where a request's "no grant" goes: the adapter's log, then the app's onDecision. */
  private readonly decided: ((request: Req, decision: GrantDecision) => void) | null

  /** `log` is the adapter's own report of decisions (the Fastify plugin's request.log), besides `onDecision`. */
  constructor (options: GrantOptions<Req>, log?: (request: Req, decision: GrantDecision) => void) {
    const settings = this.settings = resolveGrantOptions(options)
    const onDecision = settings.onDecision
    this.decided = log === undefined
      ? (onDecision === undefined ? null : (request, decision) => onDecision(decision, request))
      : onDecision === undefined ? log : (request, decision) => { log(request, decision); onDecision(decision, request) }
    this.distribution = settings.distribution
    this.expiresHeader = settings.expiresHeader
    this.statusAllowed = settings.statusAllowed
    // The key ring's own warnings (a weak key) keep the signer's default when the app gives none.
    this.keys = new KeyRing({ ...settings, onWarning: options.onWarning })
    this.rules = new RuleBook<Req>(options.rules, settings.defaults, settings.authorize, settings.onWarning)
    this.cache = new SetCache(settings.cache.max, settings.cache.maxBytes)
    this.issuer = new Issuer({ distribution: settings.distribution, cookie: settings.cookie, now: settings.now, cache: this.cache, counters: this.counters })
    this.playlists = options.playlists === undefined ? null : createPlaylistMirror(this, options.playlists, settings.now)
  }

  /** A pending grant for an explicit prefix (`grant('/courses/42/')` in a handler). */
  explicit (prefix: unknown, settings?: ExplicitGrantOptions): PendingGrant<Req> {
    return this.rules.explicit(prefix, settings)
  }

  /**
   * Decides and prepares what a response carries for a pending grant: asks for the user (and
   * authorisation, for rule grants), then serves the set from the cache or signs it. Synchronous
   * when every step is (the cached path: no promise, no tick; bench:plugin, plugin-cached); a
   * Promise otherwise. Resolves to null when nothing is granted.
   */
  issue (request: Req, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    const user = this.settings.getUser(request)
    if (isThenable(user)) return Promise.resolve(user).then((u) => this.forUser(request, u, pending, client))
    return this.forUser(request, user, pending, client)
  }

  /** Nobody signed in: nothing. */
  private forUser (request: Req, user: unknown, p: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    const id = userIdOf(user)
    if (id === null) {
      this.noGrant(request, 'no-user', p.path)
      return null
    }
    const authorize = p.rule.authorize
    if (authorize === undefined) return this.forClient(request, id, p, client)
    const ok = authorize(request, p.params, p.path)
    if (isThenable(ok)) return Promise.resolve(ok).then((v) => (v === true ? this.forClient(request, id, p, client) : this.refuse(request, 'not-authorized', p)))
    return ok === true ? this.forClient(request, id, p, client) : this.refuse(request, 'not-authorized', p)
  }

  private refuse (request: Req, reason: NoGrantReason, p: PendingGrant<Req>): null {
    this.counters.refused++
    this.noGrant(request, reason, p.path)
    return null
  }

  /** Tells the adapter's log and the app's onDecision why a request receives nothing. */
  noGrant (request: Req, reason: NoGrantReason, prefix: string | undefined): void {
    if (this.decided !== null) this.decided(request, { reason, prefix })
  }

  /** The IP the grant is bound to (an IPv6 client of a bound grant gets nothing, or an unbound set), then the set itself. */
  private forClient (request: Req, user: string, p: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    if (!p.rule.ipBound) return this.fromCacheOrSigned(request, user, p, p.slot, undefined, client)
    const v4 = normaliseClientIp(client.ip)
    if (v4 === null) {
      return this.settings.ipv6 === 'refuse' ? this.refuse(request, 'ipv6-refused', p) : this.fromCacheOrSigned(request, user, p, p.slot, undefined, client)
    }
    return this.fromCacheOrSigned(request, user, p, slotOf(p.path, v4, p.rule.ttl), v4, client)
  }

  /** A fresh cached set of the active key; else the client's own fresh set; else a new signature. */
  private fromCacheOrSigned (request: Req, user: string, p: PendingGrant<Req>, slot: string, ip: string | undefined, client: ClientInfo): MaybePromise<Issued | null> {
    const signer = this.keys.active
    let entry = this.cache.get(user, slot)
    // A set of a key that no longer signs is not served again (rotation).
    if (entry !== undefined && entry.keyPairId !== signer.keyPairId) entry = undefined
    const nowSec = nowSeconds(this.settings.now)
    if (entry !== undefined && entry.expires - nowSec > p.rule.refreshBefore) {
      this.counters.hits++
      return this.unlessSentBack(request, entry, client)
    }
    const running = this.issuer.running(signer, user, slot)
    if (running !== undefined) return running.then((e) => this.unlessSentBack(request, e, client))
    if (entry === undefined) {
      const held = this.clientHolds(p, client, ip, nowSec)
      if (held !== null) {
        this.noGrant(request, 'client-fresh', p.path)
        return held
      }
      this.counters.misses++
    } else {
      this.counters.reissues++
    }
    return this.issuer.sign(signer, user, slot, p.path, p.rule.ttl, ip).then((e) => this.unlessSentBack(request, e, client))
  }

  /**
   * The user a mirrored playlist is for, when the grant is theirs: the user id, null when nobody is
   * signed in, false when `authorize` refuses (the mirror answers 401 and 403).
   */
  admit (request: Req, p: PendingGrant<Req>): MaybePromise<string | null | false> {
    const user = this.settings.getUser(request)
    if (isThenable(user)) return Promise.resolve(user).then((u) => this.admitUser(request, u, p))
    return this.admitUser(request, user, p)
  }

  private admitUser (request: Req, user: unknown, p: PendingGrant<Req>): MaybePromise<string | null | false> {
    const id = userIdOf(user)
    if (id === null) return null
    const authorize = p.rule.authorize
    if (authorize === undefined) return id
    const ok = authorize(request, p.params, p.path)
    if (isThenable(ok)) return Promise.resolve(ok).then((v) => (v === true ? id : this.refused()))
    return ok === true ? id : this.refused()
  }

  private refused (): false {
    this.counters.refused++
    return false
  }

  /**
   * An admitted user's set itself, whatever the client holds (a playlist carries its values as a
   * query): from the cache while fresh, else signed. Null for an IPv6 client of an IP-bound grant
   * when ipv6 is 'refuse'.
   */
  setFor (user: string, p: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    let ip: string | undefined
    if (p.rule.ipBound) {
      const v4 = normaliseClientIp(client.ip)
      if (v4 === null && this.settings.ipv6 === 'refuse') {
        this.counters.refused++
        return null
      }
      if (v4 !== null) ip = v4
    }
    const slot = ip === undefined ? p.slot : slotOf(p.path, ip, p.rule.ttl)
    const signer = this.keys.active
    const entry = this.cache.get(user, slot)
    const nowSec = nowSeconds(this.settings.now)
    if (entry !== undefined && entry.keyPairId === signer.keyPairId && entry.expires - nowSec > p.rule.refreshBefore) {
      this.counters.hits++
      return entry
    }
    const running = this.issuer.running(signer, user, slot)
    if (running !== undefined) return running
    if (entry === undefined) this.counters.misses++
    else this.counters.reissues++
    return this.issuer.sign(signer, user, slot, p.path, p.rule.ttl, ip)
  }

  /** The client already holds a valid, fresh set for this prefix, signed by the active key (after a restart, say): send nothing. */
  private clientHolds (p: PendingGrant<Req>, client: ClientInfo, ip: string | undefined, nowSec: number): Issued | null {
    const verifier = this.keys.verifier
    if (verifier === null || client.cookieHeader === undefined || !client.cookieHeader.includes('CloudFront-Signature=')) return null
    const result = verifier.verify({ url: this.distribution + p.path, cookieHeader: client.cookieHeader, clientIp: client.ip })
    if (!result.ok || result.keyPairId !== this.keys.active.keyPairId) return null
    const pol = result.policy
    if (pol.resource !== this.distribution + p.path + '*' || pol.ipAddress !== (ip === undefined ? undefined : `${ip}/32`)) return null
    if (pol.expires - nowSec <= p.rule.refreshBefore) return null
    this.counters.clientFresh++
    return { setCookie: [], expires: pol.expires }
  }

  /** The client sent back the very set we would send: it holds it already, so no cookies go out. */
  private unlessSentBack (request: Req, entry: CacheEntry, client: ClientInfo): Issued {
    if (client.cookieHeader !== undefined && sentBack(client.cookieHeader, entry)) {
      this.counters.clientFresh++
      this.noGrant(request, 'client-fresh', entry.path)
      return { setCookie: [], expires: entry.expires }
    }
    // The entry is an Issued itself: the cached path allocates nothing (bench:plugin, plugin-cached).
    return entry
  }

  /** The user for a request (for revoking). */
  user (request: Req): MaybePromise<UserId | null | undefined | false> {
    return this.settings.getUser(request)
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
    if (id !== null) for (const path of this.cache.drop(id, prefix)) paths.add(path)
    const out: string[] = []
    // Exactly the names this engine's sets have: every key signs with the same hash algorithm.
    const names = grantCookieNames(this.keys.active.hashAlgorithm)
    for (const path of paths) out.push(...serializeClearCookies({ ...this.settings.cookie, path }, names))
    return out
  }

  /** Makes another configured key the one that signs. Cached sets of the old key are no longer served. */
  rotate (keyPairId: string): void {
    this.keys.rotate(keyPairId)
  }

  get activeKeyPairId (): string {
    return this.keys.active.keyPairId
  }

  /** Signs a URL with the active key. */
  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.keys.active.signUrl(url, options)
  }

  /** Signs a cookie set with the active key (no cache: for scripts and special cases). */
  signCookies (resource: string, options: SignCookiesOptions): Promise<CloudFrontCookies> {
    return this.keys.active.signCookies(resource, options)
  }

  stats (): GrantStats {
    return { ...this.counters, ...this.cache.stats() }
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
