import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import { parseDuration } from '../time.js'
import { splitUrl } from '../url.js'
import { closestName, domainCovers, isLocalHost, positive, refuseUnknownKeys } from '../guards.js'
import { checkCookieDomain, type CookieAttributes } from '../cookies.js'
import type { HashAlgorithm } from '../signer.js'
import type { PlaylistsOptions } from '../playlists/mirror.js'
import { readManifestTemplates, type ManifestTemplates } from '../manifests/sidecar.js'
import type {
  AuthorizeSetting, GetUserFunction, GrantDecision, GrantOptions, GrantRule, SigningKey
} from './types.js'

/** The settings every grant starts from; a rule or an explicit grant may change ttl, refreshBefore and ipBound. */
export interface GrantDefaults {
  ttl: number
  refreshBefore: number
  ipBound: boolean
  /** The longest lifetime a grant may have (`maxTtl`). */
  maxTtl: number
}

/** The options once checked: what the engine's parts are built from. */
export interface ResolvedGrantOptions<Req> {
  distribution: string
  keys: SigningKey[]
  activeKeyPairId: string
  hashAlgorithm: HashAlgorithm | undefined
  getUser: GetUserFunction<Req>
  authorize: AuthorizeSetting<Req> | undefined
  defaults: GrantDefaults
  ipv6: 'refuse' | 'unbound'
  cookie: Omit<CookieAttributes, 'path' | 'expires'>
  cache: { max: number, maxBytes: number }
  statusAllowed: (status: number) => boolean
  expiresHeader: string | false
  now: () => number
  onWarning: (message: string) => void
  /** The app's own onWarning alone: the key ring's warnings (a weak key) keep the signer's default without it. */
  keyWarning: ((message: string) => void) | undefined
  onDecision: ((decision: GrantDecision, request: Req) => void) | undefined
  /** The path rules as given: the rule book checks them as it compiles them. */
  rules: ReadonlyArray<GrantRule<Req>> | undefined
  /** The playlist mirror's options as given: the mirror checks them as it is built. */
  playlists: PlaylistsOptions | undefined
  /** What the static manifests were templated for, and how far a manifest URL's lifetime is stretched. */
  manifests: ResolvedManifests | undefined
}

export interface ResolvedManifests {
  templates: ManifestTemplates
  /** As the playlist mirror's defaults: a URL outlives its stream by `margin`, within `maxTtl`. */
  lifetimes: { margin: number, maxTtl: number }
}

/** Every option the plugin and the middleware take: anything else is a typo, refused with the closest name. */
export const GRANT_OPTION_KEYS = [
  'keyPairId', 'privateKey', 'passphrase', 'sign', 'keyType', 'keys', 'activeKeyPairId', 'distribution', 'rules',
  'getUser',
  'authorize', 'ttl', 'refreshBefore', 'maxTtl', 'hashAlgorithm', 'ipBound', 'ipv6', 'cookie', 'cache', 'statuses',
  'expiresHeader', 'now', 'onWarning', 'onDecision', 'playlists', 'manifests'
] as const
const KEY_KEYS = ['keyPairId', 'privateKey', 'passphrase', 'sign', 'keyType'] as const
const COOKIE_KEYS = ['domain', 'secure', 'httpOnly', 'sameSite'] as const
const CACHE_KEYS = ['max', 'maxBytes'] as const
/** A route's `config.cloudfront`, and a rule without its `match`. */
export const RULE_SETTING_KEYS = ['resource', 'ttl', 'refreshBefore', 'ipBound', 'authorize', 'checkParam'] as const
export const RULE_KEYS = ['match', ...RULE_SETTING_KEYS] as const
export const EXPLICIT_GRANT_KEYS = ['ttl', 'ipBound', 'authorized'] as const

/** Most a cached set is refreshed ahead of its expiry when the options do not say. */
const DEFAULT_REFRESH_CAP = 300

/** The default `refreshBefore` for a lifetime: a third of it, at least 1 s, at most `cap`. */
export function defaultRefreshBefore (ttl: number, cap: number): number {
  return Math.min(cap, Math.max(1, Math.floor(ttl / 3)))
}

/** Signed cookies cannot be revoked at CloudFront: a grant lives at most this long unless `maxTtl` says otherwise. */
const DEFAULT_MAX_TTL = 7 * 86400

/** Refuses a grant lifetime above the cap. */
export function checkLifetime (ttl: number, max: number, name: string): number {
  if (ttl > max) {
    throw new FST_ERR_CF_INVALID_OPTION(name, `${ttl} s is longer than the ${max} s a grant may live (signed ` +
      'cookies cannot be revoked before they expire): shorten it, or raise maxTtl')
  }
  return ttl
}

/** ttl and refreshBefore of a rule, a route or an explicit grant, checked against each other. */
export function resolveLifetime (
  ttlIn: unknown, refreshIn: unknown, defaults: GrantDefaults, where: string
): { ttl: number, refreshBefore: number } {
  const ttlName = where === '' ? 'ttl' : `${where}.ttl`
  const ttl = ttlIn === undefined
    ? defaults.ttl
    : checkLifetime(parseDuration(ttlIn, ttlName), defaults.maxTtl, ttlName)
  const refreshBefore = refreshIn === undefined
    ? defaultRefreshBefore(ttl, defaults.refreshBefore)
    : parseDuration(refreshIn, where === '' ? 'refreshBefore' : `${where}.refreshBefore`)
  if (refreshBefore >= ttl) {
    const name = where === '' ? 'refreshBefore' : `${where}.refreshBefore`
    throw new FST_ERR_CF_INVALID_OPTION(name, `must be shorter than ttl (${ttl}s)`)
  }
  return { ttl, refreshBefore }
}

export function optionalFunction (value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new FST_ERR_CF_INVALID_OPTION(name, 'expected a ' +
    'function')
  }
}

/** The opt-in that lets every signed-in user have what a rule grants. */
export const ANY_SIGNED_IN_USER = 'any-signed-in-user'

/** An `authorize` setting: absent, a function, or the explicit opt-in (a near miss is named). */
export function checkAuthorize (value: unknown, name: string): void {
  if (value === undefined || typeof value === 'function' || value === ANY_SIGNED_IN_USER) return
  const near = typeof value === 'string' && closestName(value, [ANY_SIGNED_IN_USER]) !== undefined
  throw new FST_ERR_CF_INVALID_OPTION(name, 'expected a function (request, params, prefix) => true to grant, or ' +
    `'${ANY_SIGNED_IN_USER}'${near ? ` (did you mean '${ANY_SIGNED_IN_USER}'?)` : ''}`)
}

export function optionalBoolean (value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new FST_ERR_CF_INVALID_OPTION(name, 'expected true ' +
    'or false')
  }
}

function resolveKeys<Req> (options: GrantOptions<Req>): SigningKey[] {
  const single = options.keyPairId !== undefined || options.privateKey !== undefined || options.sign !== undefined
  const keyList: SigningKey[] = options.keys ?? (single
    ? [{
        keyPairId: options.keyPairId as string,
        privateKey: options.privateKey,
        passphrase: options.passphrase,
        sign: options.sign,
        keyType: options.keyType
      } as SigningKey]
    : [])
  if (!Array.isArray(keyList) || keyList.length === 0) {
    throw new FST_ERR_CF_INVALID_OPTION('keys', 'give keyPairId and privateKey, or keys: [{ keyPairId, privateKey ' +
      '}] with activeKeyPairId')
  }
  if (options.keys !== undefined && (options.privateKey !== undefined || options.keyPairId !== undefined)) {
    throw new FST_ERR_CF_INVALID_OPTION('keys', 'give either keys or keyPairId/privateKey, not both')
  }
  const seen = new Set<string>()
  keyList.forEach((k, i) => {
    if (typeof k !== 'object' || k === null) {
      throw new FST_ERR_CF_INVALID_OPTION('keys', 'each key must be { ' +
      'keyPairId, privateKey }')
    }
    if (options.keys !== undefined) refuseUnknownKeys(k, KEY_KEYS, `keys[${i}]`)
    if (seen.has(k.keyPairId)) throw new FST_ERR_CF_INVALID_OPTION('keys', `key ${k.keyPairId} is listed twice`)
    seen.add(k.keyPairId)
  })
  return keyList
}

function resolveDistribution (value: unknown): string {
  const dist = splitUrl(typeof value === 'string' ? value : '')
  if (!dist || (dist.scheme !== 'https' && dist.scheme !== 'http') || dist.host === '' ||
    (dist.path !== '' && dist.path !== '/') ||
    dist.query !== null || /[^A-Za-z0-9.:-]/.test(dist.host)) {
    throw new FST_ERR_CF_INVALID_OPTION('distribution', 'expected the CDN base URL, such as ' +
      '"https://media.example.com" (no path)')
  }
  return `${dist.scheme}://${dist.host.toLowerCase()}`
}

function resolveCookie (value: unknown): ResolvedGrantOptions<unknown>['cookie'] {
  const c = (value ?? {}) as Record<string, unknown>
  if (typeof c !== 'object' || c === null) throw new FST_ERR_CF_INVALID_OPTION('cookie', 'expected an object')
  refuseUnknownKeys(c, COOKIE_KEYS, 'cookie')
  const domain = checkCookieDomain(c.domain, 'cookie.domain')
  if (c.sameSite !== undefined && !['Strict', 'Lax', 'None'].includes(c.sameSite as string)) {
    throw new FST_ERR_CF_INVALID_OPTION('cookie.sameSite', 'expected "Strict", "Lax" or "None"')
  }
  optionalBoolean(c.secure, 'cookie.secure')
  optionalBoolean(c.httpOnly, 'cookie.httpOnly')
  if (c.sameSite === 'None' && c.secure === false) {
    throw new FST_ERR_CF_INVALID_OPTION('cookie.sameSite', 'SameSite=None requires secure: true')
  }
  return {
    domain,
    secure: (c.secure as boolean | undefined) ?? true,
    httpOnly: (c.httpOnly as boolean | undefined) ?? true,
    sameSite: (c.sameSite as 'Strict' | 'Lax' | 'None' | undefined) ?? 'Lax'
  }
}

function resolveStatuses (st: unknown): (status: number) => boolean {
  // 4xx and 5xx never carry a grant, whatever a predicate says.
  if (st === undefined) return (s) => s >= 200 && s < 300
  if (typeof st === 'function') return (s) => s >= 200 && s < 400 && (st as (s: number) => boolean)(s)
  if (Array.isArray(st) && st.every((n) => Number.isInteger(n) && n >= 100 && n < 600)) {
    if (st.some((n) => n >= 400)) {
      throw new FST_ERR_CF_INVALID_OPTION('statuses', 'error statuses (4xx, 5xx) never ' +
      'carry grants')
    }
    const set = new Set<number>(st)
    return (s) => s >= 200 && set.has(s)
  }
  throw new FST_ERR_CF_INVALID_OPTION('statuses', 'expected a list of HTTP statuses or a function (status) => boolean')
}

/** The sidecar of the templated folder, read now: a missing or foreign one names `manifests.templates`. */
function resolveManifests (value: unknown, maxTtl: number): ResolvedManifests | undefined {
  if (value === undefined) return undefined
  const hint = 'expected { templates: dir }, the folder "cloudfront-cookies manifests template" wrote'
  if (typeof value !== 'object' || value === null) throw new FST_ERR_CF_INVALID_OPTION('manifests', hint)
  refuseUnknownKeys(value, ['templates'], 'manifests')
  const dir = (value as { templates?: unknown }).templates
  if (typeof dir !== 'string' || dir === '') throw new FST_ERR_CF_INVALID_OPTION('manifests.templates', hint)
  let templates: ManifestTemplates
  try {
    templates = readManifestTemplates(dir)
  } catch (err) {
    // The sidecar's own reason, under this option's name.
    throw new FST_ERR_CF_INVALID_OPTION('manifests.templates', (err as FST_ERR_CF_INVALID_OPTION).reason)
  }
  return { templates, lifetimes: { margin: 60, maxTtl: Math.min(12 * 3600, maxTtl) } }
}

/**
 * Validates every option now (registration time): a bad one throws FST_ERR_CF_INVALID_OPTION
 * (or a time error) that says what to change. Keys are checked for shape here and parsed by the key ring.
 */
export function resolveGrantOptions<Req> (options: GrantOptions<Req>): ResolvedGrantOptions<Req> {
  if (typeof options !== 'object' || options === null) {
    throw new FST_ERR_CF_INVALID_OPTION('options', 'expected an ' +
    'object')
  }
  refuseUnknownKeys(options, GRANT_OPTION_KEYS, '')
  optionalFunction(options.now, 'now')
  optionalFunction(options.onWarning, 'onWarning')
  optionalFunction(options.onDecision, 'onDecision')
  const keys = resolveKeys(options)
  const distribution = resolveDistribution(options.distribution)
  if (typeof options.getUser !== 'function') {
    throw new FST_ERR_CF_INVALID_OPTION('getUser', 'a function (request) => user id is required: nothing is ever ' +
      'issued to an anonymous request')
  }
  checkAuthorize(options.authorize, 'authorize')

  const maxTtl = options.maxTtl === undefined ? DEFAULT_MAX_TTL : parseDuration(options.maxTtl, 'maxTtl')
  const ttl = checkLifetime(parseDuration(options.ttl ?? '15m', 'ttl'), maxTtl, 'ttl')
  const refreshBefore = options.refreshBefore === undefined
    ? defaultRefreshBefore(ttl, DEFAULT_REFRESH_CAP)
    : parseDuration(options.refreshBefore, 'refreshBefore')
  if (refreshBefore >= ttl) throw new FST_ERR_CF_INVALID_OPTION('refreshBefore', `must be shorter than ttl (${ttl}s)`)
  optionalBoolean(options.ipBound, 'ipBound')
  if (options.ipv6 !== undefined && options.ipv6 !== 'refuse' && options.ipv6 !== 'unbound') {
    throw new FST_ERR_CF_INVALID_OPTION('ipv6', 'expected "refuse" or "unbound"')
  }
  const eh = options.expiresHeader
  if (eh !== undefined && eh !== false && (typeof eh !== 'string' || !/^[A-Za-z0-9-]+$/.test(eh))) {
    throw new FST_ERR_CF_INVALID_OPTION('expiresHeader', 'expected a header name or false')
  }
  const cacheOpts = options.cache ?? {}
  if (typeof cacheOpts === 'object' && cacheOpts !== null) refuseUnknownKeys(cacheOpts, CACHE_KEYS, 'cache')
  const cookie = resolveCookie(options.cookie)
  const host = (splitUrl(distribution) as { host: string }).host
  if (cookie.domain !== undefined && !domainCovers(cookie.domain, host)) {
    throw new FST_ERR_CF_INVALID_OPTION('cookie.domain', `"${cookie.domain}" does not cover the distribution's host ` +
      `${host}, so browsers would never send the cookies to it: use ${host} or a parent domain it shares with the app`)
  }
  const onWarning = options.onWarning ??
    ((message: string) => process.emitWarning(message, { code: 'FST_CF_OPTION_WARNING' }))
  if (distribution.startsWith('http://') && cookie.secure && !isLocalHost(host)) {
    onWarning(`The distribution ${distribution} is http:// but the cookies are Secure: browsers keep Secure cookies ` +
      'only over https (and on localhost). Use https://, or cookie: { secure: false } for a plain-http test setup.')
  }
  // cloudfront.net is a public suffix: no app can set a cookie for it, and a host-only cookie from
  // app.example.com never reaches d123.cloudfront.net. With the playlist mirror, players need none.
  if (/\.cloudfront\.net$/.test(host) && options.playlists === undefined) {
    onWarning(`The distribution ${distribution} is a *.cloudfront.net name: browsers send it no cookie set by your ` +
      'app (cloudfront.net is a public suffix), unless the app is served from that same host, so every request a ' +
        'cookie grant (a rule, a route\'s config.cloudfront, grant()) is meant to open will get 403. Give the ' +
          'distribution an alternate domain such as media.example.com, with cookie: { domain: \'example.com\' } when ' +
            'the app is app.example.com; or play without cookies: the playlist mirror (option playlists) or signed ' +
              'URLs (signUrl).')
  }
  return {
    distribution,
    keys,
    activeKeyPairId: options.activeKeyPairId ?? (keys[0] as SigningKey).keyPairId,
    hashAlgorithm: options.hashAlgorithm,
    getUser: options.getUser,
    authorize: options.authorize,
    defaults: { ttl, refreshBefore, ipBound: options.ipBound ?? false, maxTtl },
    ipv6: options.ipv6 ?? 'refuse',
    cookie,
    cache: {
      max: positive(cacheOpts.max, 'cache.max', 10_000),
      maxBytes: positive(cacheOpts.maxBytes, 'cache.maxBytes', 32 * 1024 * 1024)
    },
    statusAllowed: resolveStatuses(options.statuses),
    // Lower-cased once: the middleware compares header names lower-case (bench:express, cached).
    expiresHeader: eh === undefined ? 'cloudfront-grant-expires' : eh === false ? false : eh.toLowerCase(),
    now: options.now ?? Date.now,
    onWarning,
    keyWarning: options.onWarning,
    onDecision: options.onDecision,
    rules: options.rules,
    playlists: options.playlists,
    manifests: resolveManifests(options.manifests, maxTtl)
  }
}
