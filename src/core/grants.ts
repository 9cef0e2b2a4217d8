import { createPublicKey } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PARAM, FST_ERR_CF_OVERLAPPING_RULES } from './errors.js'
import { loadPrivateKey, type KeyInput, type KeyType } from './keys.js'
import { createSigner, type CustomSignFunction, type HashAlgorithm, type Signer, type SignCookiesOptions, type SignUrlOptions, type CloudFrontCookies } from './signer.js'
import { createVerifier, type Verifier } from './verifier.js'
import { normaliseClientIp } from './ip.js'
import { parseDuration, nowSeconds, type DurationInput } from './time.js'
import { serializeCookieSet, serializeClearCookies, grantCookieNames, flat, type SameSite } from './cookies.js'
import { splitUrl } from './url.js'
import {
  compilePattern, matchPattern, patternCouldMatchRoute, checkParam, defaultParamCheck, compileResourceTemplate, fillTemplate,
  templatesOverlap, type ParamCheck, type PathPattern, type ResourceTemplate
} from './rules.js'

// The grant engine: everything that decides who gets which cookie set, framework-agnostic.
// The Fastify plugin and the Express middleware only translate their request and reply into
// the calls below; none of this logic is repeated in them.

/** The identity a grant is cached under. A falsy value means "nobody": nothing is issued. */
export type UserId = string | number
export type MaybePromise<T> = T | PromiseLike<T>
export type GetUserFunction<Req> = (request: Req) => MaybePromise<UserId | null | undefined | false>
/** Return `true` to grant; anything else (false, undefined, a thrown error) grants nothing. */
export type AuthorizeFunction<Req> = (request: Req, params: Record<string, string>, prefix: string) => MaybePromise<boolean>

/** Per-rule (and per-route) settings. */
export interface GrantRuleSettings<Req = unknown> {
  /** CDN path prefix to grant, ending in `/*`, with `:params` from the match: `/courses/:courseId/*`. */
  resource: string
  /** Lifetime of a cookie set (seconds or `'15m'`). */
  ttl?: DurationInput
  /** Reissue a cached set when less than this is left. */
  refreshBefore?: DurationInput
  /** Bind grants to the client's IPv4 address. */
  ipBound?: boolean
  /** Replaces the global `authorize` for this rule. */
  authorize?: AuthorizeFunction<Req>
  /** Replaces the default parameter check (letters, digits, `._~-`); wildcards, `/` and dot segments stay refused. */
  checkParam?: ParamCheck
}

/** A path rule: requests whose path matches `match` grant `resource`. */
export interface GrantRule<Req = unknown> extends GrantRuleSettings<Req> {
  /** App path pattern: `/courses/:courseId/*`. */
  match: string
}

export interface SigningKey {
  keyPairId: string
  privateKey?: KeyInput
  passphrase?: string | Buffer
  /** A signing function instead of a private key (KMS, HSM). */
  sign?: CustomSignFunction
  keyType?: KeyType
}

export interface CookieOptions {
  /** A parent domain shared by the app and the CDN; host-only when absent. */
  domain?: string
  /** Default true. */
  secure?: boolean
  /** Default true. */
  httpOnly?: boolean
  /** Default `'Lax'`. */
  sameSite?: SameSite
}

export interface GrantEngineOptions<Req = unknown> {
  /** Single key: its ID... */
  keyPairId?: string
  /** ...and its private key (or `sign`). */
  privateKey?: KeyInput
  passphrase?: string | Buffer
  sign?: CustomSignFunction
  keyType?: KeyType
  /** Several keys, for rotation; `activeKeyPairId` picks the one that signs (default: the first). */
  keys?: SigningKey[]
  activeKeyPairId?: string
  /** The CDN's base URL, e.g. `https://media.example.com`. */
  distribution: string
  rules?: Array<GrantRule<Req>>
  /** The signed-in user, or a falsy value when there is none. Required. */
  getUser: GetUserFunction<Req>
  /** Default authorisation for rules; without it, every signed-in user matching a rule is granted. */
  authorize?: AuthorizeFunction<Req>
  /** Default `'15m'`. */
  ttl?: DurationInput
  /** Default `'5m'`. */
  refreshBefore?: DurationInput
  hashAlgorithm?: HashAlgorithm
  /** Default false. */
  ipBound?: boolean
  /** For IP-bound grants, what an IPv6 client gets: `'refuse'` (nothing, the default) or `'unbound'` (a grant without IP condition). */
  ipv6?: 'refuse' | 'unbound'
  cookie?: CookieOptions
  cache?: {
    /** Most users whose sets are kept (default 10,000); each user's sets are one entry. */
    max?: number
    /** Most bytes kept (default 32 MiB). */
    maxBytes?: number
  }
  /** Statuses that may carry a grant: a list, or a predicate. Default: 200-299. */
  statuses?: number[] | ((status: number) => boolean)
  /** Response header telling the client when its grant expires (epoch seconds); `false` to omit. Default `'cloudfront-grant-expires'`. */
  expiresHeader?: string | false
  now?: () => number
  onWarning?: (message: string) => void
}

interface CompiledRule<Req> {
  match: PathPattern | null
  template: ResourceTemplate
  ttl: number
  refreshBefore: number
  ipBound: boolean
  authorize: AuthorizeFunction<Req> | undefined
  checkParam: ParamCheck
}

/** A grant decided for a request, waiting for the response status and the user. */
export interface PendingGrant<Req = unknown> {
  rule: CompiledRule<Req>
  /** The cookie Path, the granted prefix: `/courses/42/`. */
  path: string
  params: Record<string, string>
  /** From `grant()` in a handler: the handler has already decided, so `authorize` is not asked. */
  explicit: boolean
  /** The user's cache slot for an unbound grant (`path \0 \0 ttl`), made once per pending grant. */
  slot: string
}

/** A granted prefix, as handlers see it. */
export interface GrantResult {
  /** The granted prefix (cookie Path). */
  prefix: string
  /** When the set expires, epoch seconds. */
  expires: number
}

/** Settings of an explicit grant. */
export interface ExplicitGrantOptions {
  ttl?: DurationInput
  ipBound?: boolean
}

/** What a handler can do on its response: the plugin's `reply.cloudfront`, the middleware's `req.cloudfront`. */
export interface GrantApi {
  /**
   * Grants `prefix` (a CDN path such as `/courses/42/`) to the signed-in user on this response.
   * Resolves to the grant, or null when there is no user. Nothing is sent if the response fails.
   */
  grant: (prefix: string, options?: ExplicitGrantOptions) => Promise<GrantResult | null>
  /** Clears the user's cookie set for `prefix` (or every prefix cached for them) and drops it from the cache. */
  revoke: (prefix?: string) => Promise<void>
}

/** The instance API: the plugin's `fastify.cloudfront`, and the middleware function's own properties. */
export interface GrantInstanceApi {
  /** Signs a URL with the active key. */
  signUrl: (url: string, options: SignUrlOptions) => Promise<string>
  /** Signs a cookie set with the active key (no cache). */
  signCookies: (resource: string, options: SignCookiesOptions) => Promise<CloudFrontCookies>
  stats: () => GrantStats
  /** Makes another configured key the one that signs; the next request of each user gets a set signed by it. */
  rotate: (keyPairId: string) => void
  readonly activeKeyPairId: string
}

/** What the adapter knows of the client. */
export interface ClientInfo {
  cookieHeader: string | undefined
  ip: string | undefined
}

/** What to add to a response. */
export interface Issued {
  /** `Set-Cookie` strings to add (empty when the client already holds fresh sets). */
  setCookie: string[]
  /** The earliest expiry (epoch seconds) among the granted sets. */
  expires: number
}

interface CacheEntry {
  setCookie: string[]
  /** Where the signature ends in `setCookie[SIGNATURE]`: the signature is read from there, not stored twice. */
  signatureEnd: number
  /** The signature's last characters, kept apart: see sentBack(). */
  signatureTail: string
  expires: number
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

function slotOf (path: string, ip: string, ttl: number): string {
  return `${path}\u0000${ip}\u0000${ttl}`
}

export interface GrantStats {
  hits: number
  misses: number
  signatures: number
  reissues: number
  coalesced: number
  /** Misses served by a signature made in the same second for another user (identical policy). */
  shared: number
  /** Clients that already held a fresh set: nothing was sent. */
  clientFresh: number
  refused: number
  /** Cookie sets cached. */
  size: number
  /** Users with at least one cached set. */
  users: number
  bytes: number
}

/** Paths remembered per rule list, with the grant they match (or none). */
const MATCH_MEMO_SIZE = 2048

const NOTHING: string[] = Object.freeze([]) as unknown as string[]

/** Index of the CloudFront-Signature cookie in a custom set (Policy, Signature, Key-Pair-Id). */
const SIGNATURE = 1

const SIGNATURE_COOKIE = 'CloudFront-Signature='

/** Base64 characters of the signature compared by sentBack(): 144 bits. */
const TAIL = 24

/**
 * Whether a Cookie header carries this entry's signature cookie. It decides only whether the same
 * cookies are sent again, never whether anything is granted: a client that forged a look-alike
 * would merely go without the set it asked for. So the cookie is matched by its exact length and
 * the last 144 bits of the signature (an accidental match between two signatures is out of
 * reach), read from a short string of the entry: a few cache lines, where the whole ~350
 * characters of a cached signature would be cold memory on a busy server.
 */
function sentBack (cookieHeader: string, entry: CacheEntry): boolean {
  for (let at = cookieHeader.indexOf(SIGNATURE_COOKIE); at !== -1; at = cookieHeader.indexOf(SIGNATURE_COOKIE, at + 1)) {
    const before = at === 0 ? 59 : cookieHeader.charCodeAt(at - 1)
    const end = at + entry.signatureEnd
    const after = end === cookieHeader.length ? 59 : cookieHeader.charCodeAt(end)
    // A whole cookie (not the tail of another name, nor the head of a longer value): ; or space around it.
    if ((before === 59 || before === 32) && (after === 59 || after === 32) && cookieHeader.slice(end - TAIL, end) === entry.signatureTail) return true
  }
  return false
}

function isThenable<T> (v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

function positive (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || (value as number) <= 0) throw new FST_ERR_CF_INVALID_OPTION(name, 'expected a positive whole number')
  return value as number
}

function optionalFunction (value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') throw new FST_ERR_CF_INVALID_OPTION(name, 'expected a function')
}

const PREFIX_RE = /^\/(?:(?:[A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2})+\/)*$/

/**
 * Builds the engine from options, validating every one of them now (registration time):
 * a bad option throws FST_ERR_CF_INVALID_OPTION (or a key/time error) that says what to change.
 */
export class GrantEngine<Req = unknown> {
  readonly distribution: string
  readonly expiresHeader: string | false
  private readonly signers = new Map<string, Signer>()
  private active: Signer
  private readonly verifier: Verifier | null
  private readonly rules: Array<CompiledRule<Req>> = []
  private readonly templates: ResourceTemplate[] = []
  private readonly getUserFn: GetUserFunction<Req>
  private readonly authorizeFn: AuthorizeFunction<Req> | undefined
  private readonly defaults: { ttl: number, refreshBefore: number, ipBound: boolean }
  private readonly ipv6: 'refuse' | 'unbound'
  private readonly cookieAttrs: { domain: string | undefined, secure: boolean, httpOnly: boolean, sameSite: SameSite }
  private readonly statusOk: (status: number) => boolean
  private readonly now: () => number
  // Keyed by user: a lookup hashes the short user id and then compares the slot made once per
  // pending grant, instead of hashing a long key built on every request.
  private readonly cache: LRUCache<string, UserSets>
  private setCount = 0
  private readonly inflight = new Map<string, Promise<CacheEntry>>()
  private readonly counters = { hits: 0, misses: 0, signatures: 0, reissues: 0, coalesced: 0, shared: 0, clientFresh: 0, refused: 0 }
  private readonly shared = new Map<string, Promise<CacheEntry>>()
  private readonly matched = new WeakMap<ReadonlyArray<CompiledRule<Req>>, Map<string, PendingGrant<Req> | null>>()
  private sharedSecond = -1

  constructor (options: GrantEngineOptions<Req>) {
    if (typeof options !== 'object' || options === null) throw new FST_ERR_CF_INVALID_OPTION('options', 'expected an object')
    this.now = options.now ?? Date.now
    optionalFunction(options.now, 'now')

    // Keys: one, or several for rotation. Each is parsed once, here.
    const keyList: SigningKey[] = options.keys ?? (options.keyPairId !== undefined || options.privateKey !== undefined || options.sign !== undefined
      ? [{ keyPairId: options.keyPairId as string, privateKey: options.privateKey, passphrase: options.passphrase, sign: options.sign, keyType: options.keyType } as SigningKey]
      : [])
    if (!Array.isArray(keyList) || keyList.length === 0) {
      throw new FST_ERR_CF_INVALID_OPTION('keys', 'give keyPairId and privateKey, or keys: [{ keyPairId, privateKey }] with activeKeyPairId')
    }
    if (options.keys !== undefined && (options.privateKey !== undefined || options.keyPairId !== undefined)) {
      throw new FST_ERR_CF_INVALID_OPTION('keys', 'give either keys or keyPairId/privateKey, not both')
    }
    const publicKeys: Record<string, ReturnType<typeof createPublicKey>> = {}
    for (const k of keyList) {
      if (typeof k !== 'object' || k === null) throw new FST_ERR_CF_INVALID_OPTION('keys', 'each key must be { keyPairId, privateKey }')
      if (this.signers.has(k.keyPairId)) throw new FST_ERR_CF_INVALID_OPTION('keys', `key ${k.keyPairId} is listed twice`)
      let privateKey: KeyInput | undefined = k.privateKey
      if (k.sign === undefined) {
        const loaded = loadPrivateKey(k.privateKey, k.passphrase)
        privateKey = loaded.key
        publicKeys[k.keyPairId] = createPublicKey(loaded.key)
      }
      const signer = createSigner({
        keyPairId: k.keyPairId,
        ...(privateKey === undefined ? {} : { privateKey }),
        ...(k.sign === undefined ? {} : { sign: k.sign }),
        ...(k.keyType === undefined ? {} : { keyType: k.keyType }),
        ...(options.hashAlgorithm === undefined ? {} : { hashAlgorithm: options.hashAlgorithm }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
        now: this.now
      })
      this.signers.set(k.keyPairId, signer)
    }
    const activeId = options.activeKeyPairId ?? keyList[0]?.keyPairId
    const active = this.signers.get(activeId as string)
    if (!active) throw new FST_ERR_CF_INVALID_OPTION('activeKeyPairId', `"${String(activeId)}" is not one of the configured keys`)
    this.active = active
    // Recognises sets a client already holds (after a restart, say) without signing again.
    this.verifier = Object.keys(publicKeys).length > 0 ? createVerifier({ keys: publicKeys, now: this.now, cacheSize: 1000 }) : null

    const dist = splitUrl(typeof options.distribution === 'string' ? options.distribution : '')
    if (!dist || (dist.scheme !== 'https' && dist.scheme !== 'http') || dist.host === '' || (dist.path !== '' && dist.path !== '/') || dist.query !== null || /[^A-Za-z0-9.:-]/.test(dist.host)) {
      throw new FST_ERR_CF_INVALID_OPTION('distribution', 'expected the CDN base URL, such as "https://media.example.com" (no path)')
    }
    this.distribution = `${dist.scheme}://${dist.host.toLowerCase()}`

    if (typeof options.getUser !== 'function') {
      throw new FST_ERR_CF_INVALID_OPTION('getUser', 'a function (request) => user id is required: nothing is ever issued to an anonymous request')
    }
    this.getUserFn = options.getUser
    optionalFunction(options.authorize, 'authorize')
    this.authorizeFn = options.authorize

    const ttl = parseDuration(options.ttl ?? '15m', 'ttl')
    const refreshBefore = options.refreshBefore === undefined ? Math.max(1, Math.min(300, Math.floor(ttl / 3))) : parseDuration(options.refreshBefore, 'refreshBefore')
    if (refreshBefore >= ttl) throw new FST_ERR_CF_INVALID_OPTION('refreshBefore', `must be shorter than ttl (${ttl}s)`)
    if (options.ipBound !== undefined && typeof options.ipBound !== 'boolean') throw new FST_ERR_CF_INVALID_OPTION('ipBound', 'expected true or false')
    this.defaults = { ttl, refreshBefore, ipBound: options.ipBound ?? false }
    if (options.ipv6 !== undefined && options.ipv6 !== 'refuse' && options.ipv6 !== 'unbound') {
      throw new FST_ERR_CF_INVALID_OPTION('ipv6', 'expected "refuse" or "unbound"')
    }
    this.ipv6 = options.ipv6 ?? 'refuse'

    const c = options.cookie ?? {}
    if (typeof c !== 'object' || c === null) throw new FST_ERR_CF_INVALID_OPTION('cookie', 'expected an object')
    if (c.domain !== undefined && (typeof c.domain !== 'string' || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(c.domain))) {
      throw new FST_ERR_CF_INVALID_OPTION('cookie.domain', 'expected a domain such as "example.com"')
    }
    if (c.domain !== undefined && /(^|\.)cloudfront\.net$/i.test(c.domain)) {
      throw new FST_ERR_CF_INVALID_OPTION('cookie.domain', 'cookies cannot be set for cloudfront.net: use an alternate domain name (CNAME) shared with the app')
    }
    if (c.sameSite !== undefined && !['Strict', 'Lax', 'None'].includes(c.sameSite)) {
      throw new FST_ERR_CF_INVALID_OPTION('cookie.sameSite', 'expected "Strict", "Lax" or "None"')
    }
    for (const flag of ['secure', 'httpOnly'] as const) {
      if (c[flag] !== undefined && typeof c[flag] !== 'boolean') throw new FST_ERR_CF_INVALID_OPTION(`cookie.${flag}`, 'expected true or false')
    }
    if (c.sameSite === 'None' && c.secure === false) throw new FST_ERR_CF_INVALID_OPTION('cookie.sameSite', 'SameSite=None requires secure: true')
    this.cookieAttrs = { domain: c.domain, secure: c.secure ?? true, httpOnly: c.httpOnly ?? true, sameSite: c.sameSite ?? 'Lax' }

    const st = options.statuses
    if (st === undefined) this.statusOk = (s) => s >= 200 && s < 300
    else if (typeof st === 'function') this.statusOk = st
    else if (Array.isArray(st) && st.every((n) => Number.isInteger(n) && n >= 100 && n < 600)) {
      const set = new Set(st)
      if (st.some((n) => n >= 400)) throw new FST_ERR_CF_INVALID_OPTION('statuses', 'error statuses (4xx, 5xx) never carry grants')
      this.statusOk = (s) => set.has(s)
    } else throw new FST_ERR_CF_INVALID_OPTION('statuses', 'expected a list of HTTP statuses or a function (status) => boolean')

    const eh = options.expiresHeader
    if (eh !== undefined && eh !== false && (typeof eh !== 'string' || !/^[A-Za-z0-9-]+$/.test(eh))) {
      throw new FST_ERR_CF_INVALID_OPTION('expiresHeader', 'expected a header name or false')
    }
    this.expiresHeader = eh === undefined ? 'cloudfront-grant-expires' : eh

    const cacheOpts = options.cache ?? {}
    const max = positive(cacheOpts.max, 'cache.max', 10_000)
    const maxBytes = positive(cacheOpts.maxBytes, 'cache.maxBytes', 32 * 1024 * 1024)
    this.cache = new LRUCache<string, UserSets>({
      max,
      maxSize: maxBytes,
      // Strings are counted at one byte a character: every value here is ASCII.
      sizeCalculation: (held, user) => {
        let size = user.length + 64
        for (const e of setsOf(held)) size += e.setCookie.reduce((n, s) => n + s.length, 0) + e.slot.length + 64
        return size
      },
      dispose: (held) => { this.setCount -= countOf(held) }
    })

    if (options.rules !== undefined && !Array.isArray(options.rules)) throw new FST_ERR_CF_INVALID_OPTION('rules', 'expected an array of { match, resource }')
    ;(options.rules ?? []).forEach((rule, i) => {
      if (typeof rule !== 'object' || rule === null) throw new FST_ERR_CF_INVALID_OPTION(`rules[${i}]`, 'expected { match, resource }')
      const match = compilePattern(rule.match, `rules[${i}].match`)
      const compiled = this.compileRule(rule, `rules[${i}]`, match.params)
      compiled.match = match
      this.rules.push(compiled)
    })
  }

  /** Compiles rule settings (a rule, or a route's `config.cloudfront`). `params` are those the route provides. */
  compileRule (settings: GrantRuleSettings<Req>, where: string, params: string[] | null): CompiledRule<Req> {
    if (typeof settings !== 'object' || settings === null) throw new FST_ERR_CF_INVALID_OPTION(where, 'expected { resource, ttl?, ipBound?, authorize? } or false')
    const template = compileResourceTemplate(settings.resource, `${where}.resource`)
    if (params !== null) {
      for (const p of template.params) {
        if (!params.includes(p)) throw new FST_ERR_CF_INVALID_OPTION(`${where}.resource`, `uses ":${p}", which the path does not capture`)
      }
    }
    for (const other of this.templates) {
      if (templatesOverlap(template, other)) {
        throw new FST_ERR_CF_OVERLAPPING_RULES(`"${template.source}" and "${other.source}" grant prefixes that can nest, so a browser would send two cookie sets; make them disjoint`)
      }
    }
    this.templates.push(template)
    const ttl = settings.ttl === undefined ? this.defaults.ttl : parseDuration(settings.ttl, `${where}.ttl`)
    const refreshBefore = settings.refreshBefore === undefined ? Math.min(this.defaults.refreshBefore, Math.max(1, Math.floor(ttl / 3))) : parseDuration(settings.refreshBefore, `${where}.refreshBefore`)
    if (refreshBefore >= ttl) throw new FST_ERR_CF_INVALID_OPTION(`${where}.refreshBefore`, `must be shorter than ttl (${ttl}s)`)
    if (settings.ipBound !== undefined && typeof settings.ipBound !== 'boolean') throw new FST_ERR_CF_INVALID_OPTION(`${where}.ipBound`, 'expected true or false')
    optionalFunction(settings.authorize, `${where}.authorize`)
    optionalFunction(settings.checkParam, `${where}.checkParam`)
    return {
      match: null,
      template,
      ttl,
      refreshBefore,
      ipBound: settings.ipBound ?? this.defaults.ipBound,
      authorize: settings.authorize ?? this.authorizeFn,
      checkParam: settings.checkParam ?? defaultParamCheck
    }
  }

  /** Whether any path rule exists (adapters skip matching entirely when not). */
  get hasRules (): boolean {
    return this.rules.length > 0
  }

  /**
   * Matches a raw request path (query removed) against the path rules, first match wins.
   * Throws FST_ERR_CF_INVALID_PARAM (400) when a captured value is unsafe.
   */
  match (path: string, rules: ReadonlyArray<CompiledRule<Req>> = this.rules): PendingGrant<Req> | null {
    // A pending grant depends only on the path (and the rules, fixed per caller): players and pages
    // ask for the same few paths over and over, so checked results are kept, bounded.
    const memo = this.matched.get(rules)
    const known = memo?.get(path)
    if (known !== undefined) return known
    let found: PendingGrant<Req> | null = null
    for (const rule of rules) {
      const params = matchPattern(rule.match as PathPattern, path)
      if (params !== null) {
        found = this.pending(rule, params, false)
        break
      }
    }
    if (memo === undefined) this.matched.set(rules, new Map([[path, found]]))
    else {
      if (memo.size >= MATCH_MEMO_SIZE) memo.clear()
      memo.set(path, found)
    }
    return found
  }

  /** The path rules that requests to a router template could match (none: the route needs no matching). */
  rulesFor (routeUrl: string): Array<CompiledRule<Req>> {
    return this.rules.filter((rule) => patternCouldMatchRoute(rule.match as PathPattern, routeUrl))
  }

  /** A pending grant for a compiled rule with parameters from the framework's router. */
  pending (rule: CompiledRule<Req>, params: Record<string, unknown>, explicit: boolean): PendingGrant<Req> {
    const checked: Record<string, string> = {}
    for (const name of rule.template.params) checked[name] = checkParam(name, params[name], rule.checkParam)
    const path = fillTemplate(rule.template, checked)
    return { rule, path, params: checked, explicit, slot: flat(slotOf(path, '', rule.ttl)) }
  }

  /** A pending grant for an explicit prefix (`grant('/courses/42/')` in a handler). */
  explicit (prefix: unknown, settings: ExplicitGrantOptions = {}): PendingGrant<Req> {
    if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix) || prefix.split('/').some((s) => s === '.' || s === '..')) {
      throw new FST_ERR_CF_INVALID_PARAM('prefix', 'a grant prefix is a CDN path that starts and ends with "/", such as "/courses/42/", without wildcards or dot segments')
    }
    const ttl = settings.ttl === undefined ? this.defaults.ttl : parseDuration(settings.ttl, 'ttl')
    const rule: CompiledRule<Req> = {
      match: null,
      template: { source: prefix + '*', parts: [prefix], params: [], segments: [] },
      ttl,
      refreshBefore: Math.min(this.defaults.refreshBefore, Math.max(1, Math.floor(ttl / 3))),
      ipBound: settings.ipBound ?? this.defaults.ipBound,
      authorize: undefined,
      checkParam: defaultParamCheck
    }
    return { rule, path: prefix, params: {}, explicit: true, slot: flat(slotOf(prefix, '', ttl)) }
  }

  statusAllowed (status: number): boolean {
    return status >= 200 && status < 400 && this.statusOk(status)
  }

  /**
   * Decides and prepares what a response carries for a pending grant: asks for the user (and
   * authorisation, for rule grants), then serves the set from the cache or signs it. Synchronous
   * when every step is (the cached path); a Promise otherwise. Resolves to null when nothing is granted.
   */
  issue (request: Req, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    const user = this.getUserFn(request)
    if (isThenable(user)) return Promise.resolve(user).then((u) => this.issueFor(request, u, pending, client))
    return this.issueFor(request, user, pending, client)
  }

  private issueFor (request: Req, user: UserId | null | undefined | false, pending: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    if (user === null || user === undefined || user === false || user === '') return null
    if (typeof user !== 'string' && typeof user !== 'number') return null
    return this.one(request, typeof user === 'string' ? user : String(user), pending, client)
  }

  private one (request: Req, user: string, p: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    const authorize = p.explicit ? undefined : p.rule.authorize
    if (authorize === undefined) return this.deliver(user, p, client)
    const ok = authorize(request, p.params, p.path)
    if (isThenable(ok)) {
      return Promise.resolve(ok).then((v) => (v === true ? this.deliver(user, p, client) : this.refuse()))
    }
    return ok === true ? this.deliver(user, p, client) : this.refuse()
  }

  private refuse (): null {
    this.counters.refused++
    return null
  }

  private deliver (user: string, p: PendingGrant<Req>, client: ClientInfo): MaybePromise<Issued | null> {
    let ip: string | undefined
    if (p.rule.ipBound) {
      const v4 = normaliseClientIp(client.ip)
      if (v4 === null && this.ipv6 === 'refuse') return this.refuse()
      if (v4 !== null) ip = v4
    }
    const signer = this.active
    const slot = ip === undefined ? p.slot : slotOf(p.path, ip, p.rule.ttl)
    const held = this.cache.get(user)
    let entry = held === undefined ? undefined : held instanceof Map ? held.get(slot) : held.slot === slot ? held : undefined
    // A set of a key that no longer signs is not served again (rotation).
    if (entry !== undefined && entry.keyPairId !== signer.keyPairId) entry = undefined
    const nowSec = nowSeconds(this.now)
    if (entry !== undefined && entry.expires - nowSec > p.rule.refreshBefore) {
      this.counters.hits++
      return this.present(entry, client)
    }
    const key = `${signer.keyPairId}\u0000${user}\u0000${slot}`
    const running = this.inflight.get(key)
    if (running !== undefined) {
      this.counters.coalesced++
      return running.then((e) => this.present(e, client))
    }
    if (entry === undefined) {
      const held = this.clientHolds(p, client, ip, nowSec)
      if (held !== null) return held
      this.counters.misses++
    } else {
      this.counters.reissues++
    }
    const signing = this.signSet(signer, user, slot, p, ip).finally(() => this.inflight.delete(key))
    this.inflight.set(key, signing)
    return signing.then((e) => this.present(e, client))
  }

  /** The client already holds a valid, fresh set for this prefix, signed by the active key: send nothing. */
  private clientHolds (p: PendingGrant<Req>, client: ClientInfo, ip: string | undefined, nowSec: number): Issued | null {
    if (this.verifier === null || client.cookieHeader === undefined || !client.cookieHeader.includes('CloudFront-Signature=')) return null
    const result = this.verifier.verify({ url: this.distribution + p.path, cookieHeader: client.cookieHeader, clientIp: client.ip })
    if (!result.ok || result.keyPairId !== this.active.keyPairId) return null
    const pol = result.policy
    if (pol.resource !== this.distribution + p.path + '*' || pol.ipAddress !== (ip === undefined ? undefined : `${ip}/32`)) return null
    if (pol.expires - nowSec <= p.rule.refreshBefore) return null
    this.counters.clientFresh++
    return { setCookie: [], expires: pol.expires }
  }

  private async signSet (signer: Signer, user: string, slot: string, p: PendingGrant<Req>, ip: string | undefined): Promise<CacheEntry> {
    // Policies hold no user: users granted the same prefix in the same second get byte-identical
    // policies, so one signature (and one set of prepared strings) serves them all.
    const nowSec = nowSeconds(this.now)
    if (nowSec !== this.sharedSecond) {
      this.shared.clear()
      this.sharedSecond = nowSec
    }
    const expires = nowSec + p.rule.ttl
    const sharedKey = `${signer.keyPairId}\u0000${p.path}\u0000${expires}\u0000${ip ?? ''}`
    let made = this.shared.get(sharedKey)
    if (made === undefined) {
      made = this.makeEntry(signer, p.path, slot, expires, ip)
      const pending = made
      this.shared.set(sharedKey, pending)
      pending.catch(() => { if (this.shared.get(sharedKey) === pending) this.shared.delete(sharedKey) })
    } else {
      this.counters.shared++
    }
    const entry = await made
    this.store(user, entry)
    return entry
  }

  /** Keeps an entry as the user's set for its slot, replacing the one there. */
  private store (user: string, entry: CacheEntry): void {
    const held = this.cache.peek(user)
    let next: UserSets = entry
    if (held !== undefined && (held instanceof Map || held.slot !== entry.slot)) {
      next = new Map(held instanceof Map ? held : [[held.slot, held]])
      next.set(entry.slot, entry)
    }
    // A user id read from a request may be a slice of a larger string: the cache keeps its own copy.
    this.put(held === undefined ? flat(user) : user, next)
  }

  /** Sets a user's sets. The LRU counts the ones it replaces or evicts out (dispose); these are counted in once stored. */
  private put (user: string, sets: UserSets): void {
    this.cache.set(user, sets)
    // (The LRU keeps nothing larger than its byte bound.)
    if (this.cache.peek(user) === sets) this.setCount += countOf(sets)
  }

  private async makeEntry (signer: Signer, path: string, slot: string, expires: number, ip: string | undefined): Promise<CacheEntry> {
    const opts: SignCookiesOptions = { expires }
    if (ip !== undefined) opts.ipAddress = ip
    const cookies = await signer.signCookies(this.distribution + path + '*', opts)
    this.counters.signatures++
    // Prepared once per set: every response that carries this set reuses these strings.
    // The same list goes out on many responses: adapters copy it (mergeSetCookie) before anything
    // can append to it. (Not frozen: V8 copies frozen arrays on a slow path, on every response.)
    const setCookie = serializeCookieSet(cookies, { ...this.cookieAttrs, path, expires })
    const signatureEnd = (setCookie[SIGNATURE] as string).indexOf(';')
    const signatureTail = flat((setCookie[SIGNATURE] as string).slice(signatureEnd - TAIL, signatureEnd))
    // An unbound slot is the pending grant's own string: a cache hit then compares one pointer.
    return { setCookie, signatureEnd, signatureTail, expires, keyPairId: signer.keyPairId, slot: ip === undefined ? slot : flat(slot), path }
  }

  private present (entry: CacheEntry, client: ClientInfo): Issued {
    // The client sent back the very set we would send: it holds it already.
    if (client.cookieHeader !== undefined && sentBack(client.cookieHeader, entry)) {
      this.counters.clientFresh++
      return { setCookie: NOTHING, expires: entry.expires }
    }
    // The entry is an Issued itself: the cached path allocates nothing.
    return entry
  }

  /**
   * Revokes a user's grants: drops their cached sets and returns the `Set-Cookie` strings that
   * clear the cookies in the browser (for `prefix`, or for every prefix cached for the user).
   * CloudFront cannot revoke a signed set before it expires; keep ttl short.
   */
  revoke (user: UserId | null | undefined | false, prefix?: string): string[] {
    const paths = new Set<string>()
    if (prefix !== undefined) paths.add(this.explicit(prefix).path)
    if (user !== null && user !== undefined && user !== false && user !== '') {
      const id = String(user)
      const held = this.cache.peek(id)
      if (held !== undefined) {
        const kept = new Map<string, CacheEntry>()
        for (const e of setsOf(held)) {
          if (prefix === undefined || e.path === prefix) paths.add(e.path)
          else kept.set(e.slot, e)
        }
        if (kept.size === 0) this.cache.delete(id)
        else if (held instanceof Map && kept.size < held.size) this.put(id, kept.size === 1 ? kept.values().next().value as CacheEntry : kept)
      }
    }
    const out: string[] = []
    // Exactly the names this engine's sets have: every signer shares the hash algorithm.
    const names = grantCookieNames(this.active.hashAlgorithm)
    for (const path of paths) out.push(...serializeClearCookies({ ...this.cookieAttrs, path }, names))
    return out
  }

  /** The user for a request (for adapters that revoke). */
  user (request: Req): MaybePromise<UserId | null | undefined | false> {
    return this.getUserFn(request)
  }

  /** Makes another configured key the one that signs. Cached sets of the old key are no longer served. */
  rotate (keyPairId: string): void {
    const next = this.signers.get(keyPairId)
    if (!next) throw new FST_ERR_CF_INVALID_OPTION('keyPairId', `"${String(keyPairId)}" is not one of the configured keys`)
    this.active = next
  }

  get activeKeyPairId (): string {
    return this.active.keyPairId
  }

  /** Signs a URL with the active key. */
  signUrl (url: string, options: SignUrlOptions): Promise<string> {
    return this.active.signUrl(url, options)
  }

  /** Signs a cookie set with the active key (no cache: for scripts and special cases). */
  signCookies (resource: string, options: SignCookiesOptions): Promise<CloudFrontCookies> {
    return this.active.signCookies(resource, options)
  }

  stats (): GrantStats {
    return { ...this.counters, size: this.setCount, users: this.cache.size, bytes: this.cache.calculatedSize }
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

/** Joins the grants of one response: all their cookies, the earliest expiry. */
export function combineIssued (results: Array<Issued | null>): Issued | null {
  let out: Issued | null = null
  for (const r of results) {
    if (r === null) continue
    if (out === null) out = { setCookie: [...r.setCookie], expires: r.expires }
    else {
      out.setCookie.push(...r.setCookie)
      out.expires = Math.min(out.expires, r.expires)
    }
  }
  return out
}

/**
 * Adds our `Set-Cookie` strings to what the response already has, keeping cookies set by the app
 * and other plugins; one of ours replaces an earlier cookie with the same name and Path.
 */
export function mergeSetCookie (existing: unknown, add: string[]): string[] {
  // Always a new list: `add` is the cached set, and whoever appends to the header later
  // (Node's appendHeader, older Fastify) pushes into the stored array.
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
