import { flat, serializeCookieSet, type CookieAttributes } from '../cookies.js'
import type { Signer, SignCookiesOptions } from '../signer.js'
import { nowSeconds } from '../time.js'
import { cacheEntry, type CacheEntry, type SetCache } from './cache.js'
import { signedValuesOf } from './signed-values.js'
import type { GrantStats } from './types.js'

/** The engine's counters, as `stats()` reports them (without the cache's sizes). */
export type GrantCounters = Omit<GrantStats, 'size' | 'users' | 'bytes'>

export interface IssuerSettings {
  distribution: string
  cookie: Omit<CookieAttributes, 'path' | 'expires'>
  now: () => number
  cache: SetCache
  counters: GrantCounters
}

/**
 * Signs users' sets: one signature for concurrent requests of the same set (coalescing), one for
 * every user granted the same prefix in the same second (sharing), and the `Set-Cookie` strings
 * prepared once per set. Each signed set is stored in the cache for its user.
 */
export class Issuer {
  private readonly settings: IssuerSettings
  private readonly inflight = new Map<string, Promise<CacheEntry>>()
  private readonly shared = new Map<string, Promise<CacheEntry>>()
  private sharedSecond = -1

  constructor (settings: IssuerSettings) {
    this.settings = settings
  }

  /** The signature already running for this user's slot, if any: the caller waits for it instead. */
  running (signer: Signer, user: string, slot: string): Promise<CacheEntry> | undefined {
    const found = this.inflight.get(`${signer.keyPairId}\u0000${user}\u0000${slot}`)
    if (found !== undefined) this.settings.counters.coalesced++
    return found
  }

  /** Signs (or shares) the set for a user's slot and stores it in the cache. */
  sign (
    signer: Signer, user: string, slot: string, path: string, ttl: number, ip: string | undefined
  ): Promise<CacheEntry> {
    const key = `${signer.keyPairId}\u0000${user}\u0000${slot}`
    const signing = this.signShared(signer, user, slot, path, ttl, ip).finally(() => this.inflight.delete(key))
    this.inflight.set(key, signing)
    return signing
  }

  private async signShared (
    signer: Signer, user: string, slot: string, path: string, ttl: number, ip: string | undefined
  ): Promise<CacheEntry> {
    // Policies hold no user: users granted the same prefix in the same second get byte-identical
    // policies, so one signature (and one set of prepared strings) serves them all (bench:plugin, plugin-all-miss).
    const nowSec = nowSeconds(this.settings.now)
    if (nowSec !== this.sharedSecond) {
      this.shared.clear()
      this.sharedSecond = nowSec
    }
    const expires = nowSec + ttl
    const sharedKey = `${signer.keyPairId}\u0000${path}\u0000${expires}\u0000${ip ?? ''}`
    let made = this.shared.get(sharedKey)
    if (made === undefined) {
      made = this.prepare(signer, path, slot, expires, ip)
      const pending = made
      this.shared.set(sharedKey, pending)
      pending.catch(() => { if (this.shared.get(sharedKey) === pending) this.shared.delete(sharedKey) })
    } else {
      this.settings.counters.shared++
    }
    const entry = await made
    this.settings.cache.put(user, entry)
    return entry
  }

  private async prepare (
    signer: Signer, path: string, slot: string, expires: number, ip: string | undefined
  ): Promise<CacheEntry> {
    const opts: SignCookiesOptions = { expires }
    if (ip !== undefined) opts.ipAddress = ip
    const cookies = await signer.signCookies(this.settings.distribution + path + '*', opts)
    this.settings.counters.signatures++
    // Prepared once per set: every response that carries this set reuses these strings.
    // The same list goes out on many responses: adapters copy it (mergeSetCookie) before anything
    // can append to it. Not frozen: V8 copies a frozen array on a slow path (bench:plugin, plugin-cached).
    const setCookie = serializeCookieSet(cookies, { ...this.settings.cookie, path, expires })
    // An unbound slot is the pending grant's own string: a cache hit then compares one pointer.
    return cacheEntry({
      setCookie,
      expires,
      keyPairId: signer.keyPairId,
      slot: ip === undefined ? slot : flat(slot),
      path,
      // Kept now, while the values are in hand: a native player's query and Cookie header.
      values: signedValuesOf(cookies)
    })
  }
}
