import { LRUCache } from 'lru-cache'
import { flat } from '../cookies.js'
import type { SignedValues } from './signed-values.js'
import type { Issued } from './types.js'

/** One signed set as kept for a user: it is an `Issued` itself, so a cache hit allocates nothing. */
export interface CacheEntry extends Issued {
  /** Where the signature ends in `setCookie[SIGNATURE]`: the signature is read from there, not stored twice. */
  signatureEnd: number
  /** The signature's last characters, kept apart: see sentBack(). */
  signatureTail: string
  keyPairId: string
  /** `path \0 ip \0 ttl`: which of a user's sets this is. */
  slot: string
  path: string
}

// A user's cached sets: most users hold one prefix, stored bare; several go in a Map by slot. A
// stored value is never changed in place: a new one is set, so the LRU counts its size again.
type UserSets = CacheEntry | Map<string, CacheEntry>

function setsOf (held: UserSets): Iterable<CacheEntry> {
  return held instanceof Map ? held.values() : [held]
}

function countOf (held: UserSets): number {
  return held instanceof Map ? held.size : 1
}

/** Index of the CloudFront-Signature cookie in a custom set (Policy, Signature, Key-Pair-Id). */
const SIGNATURE = 1

const SIGNATURE_COOKIE = 'CloudFront-Signature='

/** Base64 characters of the signature compared by sentBack(): 144 bits. */
const TAIL = 24

/** What a signed set is made of: its prepared `Set-Cookie` strings, and its values as the signer gave them. */
export interface SignedSet {
  setCookie: string[]
  expires: number
  keyPairId: string
  slot: string
  path: string
  values: SignedValues
}

/** Builds the cache entry of a signed set. */
export function cacheEntry (set: SignedSet): CacheEntry {
  const setCookie = set.setCookie
  const signatureEnd = (setCookie[SIGNATURE] as string).indexOf(';')
  const signatureTail = flat((setCookie[SIGNATURE] as string).slice(signatureEnd - TAIL, signatureEnd))
  return {
    setCookie,
    signatureEnd,
    signatureTail,
    expires: set.expires,
    keyPairId: set.keyPairId,
    slot: set.slot,
    path: set.path,
    signedQuery: set.values.signedQuery,
    cookieHeader: set.values.cookieHeader
  }
}

/** Bytes an entry holds, at one byte a character: every string here is ASCII. */
function entryBytes (e: CacheEntry): number {
  let size = e.slot.length + e.signedQuery.length + e.cookieHeader.length + 64
  for (const s of e.setCookie) size += s.length
  return size
}

/**
 * Whether a Cookie header carries this entry's signature cookie. It decides only whether the same
 * cookies are sent again, never whether anything is granted: a client that forged a look-alike
 * would merely go without the set it asked for. So the cookie is matched by its exact length and
 * the last 144 bits of the signature (an accidental match between two signatures is out of
 * reach), read from a short string of the entry: a few cache lines, where the whole ~350
 * characters of a cached signature would be cold memory on a busy server (bench:plugin, plugin-fresh-client).
 */
export function sentBack (cookieHeader: string, entry: CacheEntry): boolean {
  for (
    let at = cookieHeader.indexOf(SIGNATURE_COOKIE); at !== -1; at = cookieHeader.indexOf(SIGNATURE_COOKIE, at + 1)
  ) {
    const before = at === 0 ? 59 : cookieHeader.charCodeAt(at - 1)
    const end = at + entry.signatureEnd
    const after = end === cookieHeader.length ? 59 : cookieHeader.charCodeAt(end)
    // A whole cookie (not the tail of another name, nor the head of a longer value): ; or space around it.
    const whole = (before === 59 || before === 32) && (after === 59 || after === 32)
    if (whole && cookieHeader.slice(end - TAIL, end) === entry.signatureTail) return true
  }
  return false
}

/** Each user's signed sets, bounded by users and bytes (LRU). */
export class SetCache {
  // Keyed by user: a lookup hashes the short user id and then compares the slot made once per
  // pending grant, instead of hashing a long key built on every request (bench:plugin, plugin-cached).
  private readonly lru: LRUCache<string, UserSets>
  private count = 0

  constructor (max: number, maxBytes: number) {
    this.lru = new LRUCache<string, UserSets>({
      max,
      maxSize: maxBytes,
      sizeCalculation: (held, user) => {
        let size = user.length + 64
        for (const e of setsOf(held)) size += entryBytes(e)
        return size
      },
      dispose: (held) => { this.count -= countOf(held) }
    })
  }

  /** The user's set for a slot, or undefined. */
  get (user: string, slot: string): CacheEntry | undefined {
    const held = this.lru.get(user)
    if (held === undefined) return undefined
    if (held instanceof Map) return held.get(slot)
    // The slot of an unbound grant is the pending grant's own string: one pointer compared.
    return held.slot === slot ? held : undefined
  }

  /** Keeps an entry as the user's set for its slot, replacing the one there. */
  put (user: string, entry: CacheEntry): void {
    const held = this.lru.peek(user)
    let next: UserSets = entry
    if (held !== undefined && (held instanceof Map || held.slot !== entry.slot)) {
      next = new Map(held instanceof Map ? held : [[held.slot, held]])
      next.set(entry.slot, entry)
    }
    // A user id read from a request may be a slice of a larger string: the cache keeps its own copy.
    this.set(held === undefined ? flat(user) : user, next)
  }

  /** Drops the user's sets for `prefix` (every prefix when undefined); returns the prefixes dropped. */
  drop (user: string, prefix: string | undefined): string[] {
    const held = this.lru.peek(user)
    if (held === undefined) return []
    const dropped: string[] = []
    const kept = new Map<string, CacheEntry>()
    for (const e of setsOf(held)) {
      if (prefix === undefined || e.path === prefix) dropped.push(e.path)
      else kept.set(e.slot, e)
    }
    if (kept.size === 0) this.lru.delete(user)
    else if (held instanceof Map && kept.size < held.size) {
      this.set(user, kept.size === 1 ? kept.values().next().value as CacheEntry : kept)
    }
    return dropped
  }

  /** Cached sets, users holding them, bytes. */
  stats (): { size: number, users: number, bytes: number } {
    return { size: this.count, users: this.lru.size, bytes: this.lru.calculatedSize }
  }

  /** The LRU counts the sets it replaces or evicts out (dispose); these are counted in once stored. */
  private set (user: string, sets: UserSets): void {
    this.lru.set(user, sets)
    // (The LRU keeps nothing larger than its byte bound.)
    if (this.lru.peek(user) === sets) this.count += countOf(sets)
  }
}
