import type { KeyInput, KeyType } from '../keys.js'
import type {
  CustomSignFunction, HashAlgorithm, SignCookiesOptions, SignUrlOptions, CloudFrontCookies
} from '../signer.js'
import type { DurationInput } from '../time.js'
import type { SameSite } from '../cookies.js'
import type { ParamCheck } from './patterns.js'
import type { PlaylistsOptions } from '../playlists/mirror.js'

// The types users write options and handlers against. Everything the engine keeps for itself
// (compiled rules, pending grants, cache entries) lives next to the code that uses it.

/** The identity a grant is cached under. A falsy value means "nobody": nothing is issued. */
export type UserId = string | number
export type MaybePromise<T> = T | PromiseLike<T>
export type GetUserFunction<Req> = (request: Req) => MaybePromise<UserId | null | undefined | false>
/** Return `true` to grant; anything else (false, undefined, a thrown error) grants nothing. */
export type AuthorizeFunction<Req> =
  (request: Req, params: Record<string, string>, prefix: string) => MaybePromise<boolean>
/**
 * Who may have a rule's prefix: a function that decides per request, or `'any-signed-in-user'` to
 * say, in so many words, that every user getUser returns gets every prefix the rule grants.
 */
export type AuthorizeSetting<Req> = AuthorizeFunction<Req> | 'any-signed-in-user'

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
  /** Replaces the global `authorize` for this rule (`'any-signed-in-user'`: no check for this rule). */
  authorize?: AuthorizeSetting<Req>
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

/** The options of the Fastify plugin and of the Express middleware. */
export interface GrantOptions<Req = unknown> {
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
  /**
   * Who gets a rule's (or a route config's) prefix, for rules without their own, and the one asked,
   * with params `{}`, for a `grant()` prefix that no rule covers. Required when there are rules or
   * route configs: a function `(request, params, prefix) => boolean`, or `'any-signed-in-user'` when
   * every signed-in user may have every prefix the rules (and uncovered `grant()` calls) grant.
   */
  authorize?: AuthorizeSetting<Req>
  /** Default `'15m'`. */
  ttl?: DurationInput
  /** Default `'5m'`. */
  refreshBefore?: DurationInput
  /** The longest `ttl` any grant may have (rules, routes, `grant()`). Default `'7d'`. */
  maxTtl?: DurationInput
  hashAlgorithm?: HashAlgorithm
  /** Default false. */
  ipBound?: boolean
  /**
   * For IP-bound grants, what an IPv6 client gets: `'refuse'` (nothing, the default) or `'unbound'` (a grant without IP
   * condition).
   */
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
  /**
   * Response header telling the client when its grant expires (epoch seconds); `false` to omit. Default
   * `'cloudfront-grant-expires'`.
   */
  expiresHeader?: string | false
  now?: () => number
  onWarning?: (message: string) => void
  /** Serve rewritten HLS playlists for players without cookies: `{ prefix: '/hls', origin }` (see the README). */
  playlists?: PlaylistsOptions
  /**
   * Static signed manifests: `{ templates: dir }`, the folder `cloudfront-cookies manifests template`
   * wrote (its sidecar names the key the manifests ask for). Enables `manifestUrl()`.
   */
  manifests?: ManifestsOptions
  /**
   * Called when a request that matched a rule (or called `grant()`) receives nothing, with the
   * reason and the prefix (never a cookie value or key material). The Fastify plugin also logs it
   * at `debug` through `request.log`.
   */
  onDecision?: (decision: GrantDecision, request: Req) => void
}

/** Why a request that matched a rule, or called `grant()`, received no cookie set. */
export type NoGrantReason =
  'no-user' | 'not-authorized' | 'status' | 'failed' | 'revoked' | 'ipv6-refused' | 'client-fresh'

/** What `onDecision` receives. */
export interface GrantDecision {
  reason: NoGrantReason
  /**
   * The prefix that was not granted (undefined for a `grant()` whose prefix was refused: unsafe, or
   * nothing may authorise it).
   */
  prefix: string | undefined
}

/** What a grant result serialises to: `JSON.stringify`, a Fastify reply, Express `res.json`, a logger. */
export interface GrantSummary {
  /** The granted prefix (cookie Path). */
  prefix: string
  /** When the set expires, epoch seconds. */
  expires: number
}

/**
 * A granted prefix, as handlers see it. It serialises to `{ prefix, expires }` alone: returned from a
 * route, it tells the page when to ask again and nothing else, since the set's values are what the
 * HttpOnly cookies keep from page scripts. A native player's app asks for them explicitly.
 */
export interface GrantResult extends Readonly<GrantSummary> {
  /**
   * The set as a signed query, `Policy=…&Signature=…&Key-Pair-Id=…`: appended to any URL of the
   * prefix, it opens it without cookies (a native player). Whoever holds it has the grant.
   */
  signedQuery: () => string
  /** The set as a `Cookie` header value, for a native player's request headers. Whoever holds it has the grant. */
  cookieHeader: () => string
  /** `{ prefix, expires }`: never the signed values. */
  toJSON: () => GrantSummary
}

/** Settings of an explicit grant. */
export interface ExplicitGrantOptions {
  ttl?: DurationInput
  ipBound?: boolean
  /**
   * The handler has authorised this grant itself: no `authorize` is asked, and a prefix that contains
   * a rule's resource (`/courses/`) may be granted. Default false: a covered prefix is authorised as a
   * request matching the rule would be, any other by the global `authorize`.
   */
  authorized?: boolean
}

/** The option `manifests`. */
export interface ManifestsOptions {
  /** The templated folder (or its `.cloudfront-manifests.json`): read once, at registration. */
  templates: string
}

/** Settings of a manifest URL (`manifestUrl(path, options)`). */
export interface ManifestGrantOptions {
  /** The stream's length in seconds: the URL then outlives the viewing (as a mirrored playlist's grant). */
  duration?: number
  ipBound?: boolean
  /** The handler has authorised it itself: no `authorize` is asked (see ExplicitGrantOptions). */
  authorized?: boolean
}

/** What a handler can do on its response: the plugin's `reply.cloudfront`, the middleware's `req.cloudfront`. */
export interface GrantApi {
  /**
   * Grants `prefix` (a CDN path such as `/courses/42/`) to the signed-in user on this response.
   * When a rule's resource covers the prefix, that rule's `authorize` decides first (with the
   * parameters read back from the prefix); otherwise the global `authorize` (params `{}`); unless
   * `{ authorized: true }`. Rejects with FST_ERR_CF_INVALID_PARAM a prefix that contains a rule's
   * resource or that no authorize can decide (unless `{ authorized: true }`), and always one spelled
   * otherwise than a browser sends it or than a rule spells its path (`/Courses/42/`, `/c%6Furses/42/`).
   * Resolves to the grant, or null when there is no user or authorisation; rejects when it fails (never throws).
   * Nothing is sent if the response fails.
   */
  grant: (prefix: string, options?: ExplicitGrantOptions) => Promise<GrantResult | null>
  /**
   * The signed URL of the templated manifest at `path` (a raw CDN path under a rule's resource), for
   * the signed-in user, without cookies: the same user, authorize, IP binding, refusals and cached
   * set as a grant of the rule's prefix. Resolves to null when there is no user or authorisation;
   * rejects with FST_ERR_CF_MANIFEST_PATH (400) a path outside the prefix in any spelling, and when
   * the option `manifests` is not set.
   */
  manifestUrl: (path: string, options?: ManifestGrantOptions) => Promise<string | null>
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

/** What the adapter knows of the client. */
export interface ClientInfo {
  cookieHeader: string | undefined
  ip: string | undefined
}

/** A user's set for a prefix, as a response carries it. */
export interface Issued {
  /** `Set-Cookie` strings to add (empty when the client already holds the set). */
  setCookie: string[]
  /** When the set expires (epoch seconds). */
  expires: number
  /** The granted prefix: the cookies' Path. */
  path: string
  /** The set's values as a signed query (kept when it was signed). */
  signedQuery: string
  /** The set's values as a `Cookie` header (kept when it was signed). */
  cookieHeader: string
}
