import { statSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import type { KeyObject } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { checkKeyId, loadPublicKey, type KeyInput } from '../core/keys.js'
import { invalid, isObject, refuseUnknownKeys } from '../core/guards.js'
import { looksLikeMilliseconds } from '../core/time.js'
import { createVerifier, type Verifier, type VerifyErrorCode } from '../core/verifier.js'
import { globMatch } from '../core/url.js'

/** A cache behaviour: which paths it covers and who may read them. */
export interface EdgeBehavior {
  /**
   * A CloudFront path pattern, matched case-sensitively against the path (without the query):
   * `*` is any run of characters (crossing `/`), `?` exactly one. `images/*.jpg` and
   * `/images/*.jpg` are the same pattern.
   */
  pathPattern: string
  /** Key IDs (from `keys`) trusted on these paths. Default: every key. */
  trustedKeyIds?: string[]
  /** Serve these paths without a signature, like a behaviour without trusted key groups. */
  public?: boolean
}

/** Serve files from a local directory (like an S3 origin), with Range support. */
export interface EdgeDirectoryOrigin {
  root: string
}

/** Forward to an HTTP server (like a custom origin), streaming, Range headers passed through. */
export interface EdgeUpstreamOrigin {
  /** `http://host:port` or `https://host:port`, without a path. */
  upstream: string
}

export type EdgeOrigin = EdgeDirectoryOrigin | EdgeUpstreamOrigin

export interface EdgeCorsOptions {
  /** Origins allowed to read responses with credentials, exactly as browsers send them: `https://app.example.com`. */
  origins: string[]
  /** How long browsers may cache a preflight answer, in seconds. Default 600. */
  maxAge?: number
}

/** What a refused request is told, for `onDeny`. */
export interface EdgeDenial {
  code: VerifyErrorCode
  message: string
  reason: string
}

export interface CloudFrontEdgeOptions {
  /** Trusted public keys by key ID: PEM text, a Buffer of it, or a `KeyObject`. */
  keys: Record<string, KeyInput>
  /** Where allowed requests are served from. */
  origin: EdgeOrigin
  /**
   * Cache behaviours, first match wins. A path no pattern matches falls to the default
   * behaviour, which trusts every key in `keys` (add `{ pathPattern: '*', public: true }` last
   * to make the rest public instead).
   */
  behaviors?: EdgeBehavior[]
  /** CORS with credentials, for a player served from another origin. Off by default. */
  cors?: EdgeCorsOptions
  /** The scheme viewers use, when the edge runs behind TLS termination. Default: the request's. */
  scheme?: 'http' | 'https'
  /** The host viewers use (`media.example.com`), when it differs from the Host header the edge receives. */
  host?: string
  /** Clock in milliseconds, like `Date.now`. */
  now?: () => number
  /**
   * Add the refusal reason in an `x-cloudfront-edge-reason` header. Off by default: CloudFront tells viewers only the
   * code.
   */
  debug?: boolean
  /** How many verified signatures to remember until they expire. Default 10,000. */
  cacheSize?: number
  /** Called for every refused request (for logs and tests). */
  onDeny?: (request: FastifyRequest, denial: EdgeDenial) => void
}

export interface ResolvedBehavior {
  pattern: string
  /** null for a public behaviour. */
  verifier: Verifier | null
}

export interface ResolvedEdgeOptions {
  behaviors: ResolvedBehavior[]
  verifiers: Verifier[]
  origin: { kind: 'root', root: string } | { kind: 'upstream', upstream: string }
  cors: { origins: Set<string>, maxAge: number } | null
  scheme: 'http' | 'https' | null
  host: string | null
  debug: boolean
  onDeny: CloudFrontEdgeOptions['onDeny'] | null
}

// eslint-disable-next-line no-control-regex
const PATTERN_BAD_RE = /[\x00-\x20\x7f]/
const ORIGIN_RE = /^https?:\/\/[^/?#\s]+$/

// The edge's options, and the register options Fastify passes to every plugin.
const EDGE_OPTION_KEYS = ['keys', 'origin', 'behaviors', 'cors', 'scheme', 'host', 'now', 'debug', 'cacheSize',
  'onDeny', 'prefix', 'logLevel', 'logSerializers'] as const

function resolveOrigin (origin: unknown): ResolvedEdgeOptions['origin'] {
  if (!isObject(origin)) invalid('origin', 'expected { root: "/path/to/dir" } or { upstream: "http://host:port" }')
  refuseUnknownKeys(origin, ['root', 'upstream'], 'origin')
  const hasRoot = origin.root !== undefined
  const hasUpstream = origin.upstream !== undefined
  if (hasRoot === hasUpstream) invalid('origin', 'give exactly one of root (a directory) or upstream (a URL)')
  if (hasRoot) {
    if (typeof origin.root !== 'string' || origin.root === '') invalid('origin.root', 'expected a directory path')
    const root = resolvePath(origin.root)
    let isDir = false
    try {
      isDir = statSync(root).isDirectory()
    } catch {}
    if (!isDir) invalid('origin.root', `${root} is not a directory`)
    return { kind: 'root', root }
  }
  const text = origin.upstream
  let url: URL | null = null
  try {
    url = typeof text === 'string' ? new URL(text) : null
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
    invalid('origin.upstream', 'expected an http:// or https:// URL such as "http://127.0.0.1:3000"')
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    invalid('origin.upstream', 'give only the scheme, host and port: the request path is forwarded as is')
  }
  return { kind: 'upstream', upstream: url.origin }
}

function resolveCors (cors: unknown): ResolvedEdgeOptions['cors'] {
  if (cors === undefined || cors === false) return null
  if (!isObject(cors) || !Array.isArray(cors.origins) || cors.origins.length === 0) {
    invalid('cors', 'expected { origins: ["https://app.example.com"] }')
  }
  refuseUnknownKeys(cors, ['origins', 'maxAge'], 'cors')
  const origins = new Set<string>()
  for (const o of cors.origins) {
    if (o === '*') {
      invalid('cors.origins',
        'credentials cannot be shared with "*": list the origins of your player pages')
    }
    if (typeof o !== 'string' || !ORIGIN_RE.test(o)) {
      invalid('cors.origins',
        `${JSON.stringify(o)} is not an origin such as "https://app.example.com" (scheme and host, no path)`)
    }
    origins.add(o)
  }
  const maxAge = cors.maxAge ?? 600
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) {
    invalid('cors.maxAge',
      'expected whole seconds')
  }
  if (looksLikeMilliseconds(maxAge)) {
    invalid('cors.maxAge',
    `${maxAge} reads as milliseconds: it is seconds, so did you mean ${maxAge / 1000}?`)
  }
  return { origins, maxAge }
}

/** Validates the options once, at registration, and prepares everything the request hook needs. */
export function resolveEdgeOptions (options: unknown): ResolvedEdgeOptions {
  if (!isObject(options)) invalid('edge options', 'expected an object')
  refuseUnknownKeys(options, EDGE_OPTION_KEYS, '')
  const keys = resolveKeys(options.keys)
  const { now, cacheSize, scheme, host } = checkEdgeSettings(options)
  const verifiers = new VerifierPool(keys, now, cacheSize)
  const behaviors = resolveBehaviors(options.behaviors, verifiers)
  return {
    behaviors,
    verifiers: verifiers.all(),
    origin: resolveOrigin(options.origin),
    cors: resolveCors(options.cors),
    scheme: scheme ?? null,
    host: host ?? null,
    debug: options.debug === true,
    onDeny: (options.onDeny as CloudFrontEdgeOptions['onDeny']) ?? null
  }
}

function resolveKeys (keys: unknown): Map<string, KeyObject> {
  if (!isObject(keys) || Object.keys(keys).length === 0) {
    invalid('keys', 'expected at least one trusted public key: { [keyId]: publicKeyPem }')
  }
  const parsed = new Map<string, KeyObject>()
  for (const [id, input] of Object.entries(keys)) {
    checkKeyId(id, 'keys')
    parsed.set(id, loadPublicKey(input as KeyInput).key)
  }
  return parsed
}

/** The options that are one value each: the clock, the cache, the flags and the URL the edge judges. */
function checkEdgeSettings (options: Record<string, unknown>): {
  now: (() => number) | undefined
  cacheSize: number | undefined
  scheme: 'http' | 'https' | undefined
  host: string | undefined
} {
  const now = options.now
  if (now !== undefined && typeof now !== 'function') {
    invalid('now',
      'expected a function returning milliseconds, like Date.now')
  }
  const cacheSize = options.cacheSize
  if (cacheSize !== undefined && (typeof cacheSize !== 'number' || !Number.isInteger(cacheSize) || cacheSize < 0)) {
    invalid('cacheSize', 'expected a whole number of entries (0 turns the cache off)')
  }
  if (options.debug !== undefined && typeof options.debug !== 'boolean') invalid('debug', 'expected a boolean')
  if (options.onDeny !== undefined && typeof options.onDeny !== 'function') {
    invalid('onDeny', 'expected a function (request, denial) => void')
  }
  const scheme = options.scheme
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') invalid('scheme', 'expected "http" or "https"')
  const host = options.host
  if (host !== undefined && (typeof host !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host))) {
    invalid('host', 'expected a host name such as "media.example.com" (optionally with :port)')
  }
  return { now: now as (() => number) | undefined, cacheSize, scheme, host }
}

/** Behaviours trusting the same keys share one verifier, so they share its cache too. */
class VerifierPool {
  readonly #byKeys = new Map<string, Verifier>()
  constructor (readonly keys: Map<string, KeyObject>, readonly now: (() => number) | undefined,
    readonly cacheSize: number | undefined) {}

  for (ids: string[]): Verifier {
    const id = [...ids].sort().join('\n')
    let verifier = this.#byKeys.get(id)
    if (!verifier) {
      verifier = createVerifier({
        keys: Object.fromEntries(ids.map((k) => [k, this.keys.get(k) as KeyObject])),
        now: this.now,
        cacheSize: this.cacheSize
      })
      this.#byKeys.set(id, verifier)
    }
    return verifier
  }

  all (): Verifier[] {
    return [...this.#byKeys.values()]
  }
}

const BEHAVIOR_SHAPE = '{ pathPattern, trustedKeyIds } or { pathPattern, public: true }'

function resolveBehaviors (option: unknown, verifiers: VerifierPool): ResolvedBehavior[] {
  const list = option ?? []
  if (!Array.isArray(list)) invalid('behaviors', `expected an array of ${BEHAVIOR_SHAPE}`)
  const behaviors: ResolvedBehavior[] = []
  const seen = new Set<string>()
  list.forEach((b: unknown, i: number) => {
    behaviors.push(resolveBehavior(b, `behaviors[${i}]`, i === list.length - 1, seen, verifiers))
  })
  // CloudFront's default behaviour: every path no pattern claims.
  if (!seen.has('*')) behaviors.push({ pattern: '*', verifier: verifiers.for([...verifiers.keys.keys()]) })
  return behaviors
}

function resolveBehavior (b: unknown, name: string, last: boolean, seen: Set<string>,
  verifiers: VerifierPool): ResolvedBehavior {
  if (!isObject(b)) invalid(name, `expected ${BEHAVIOR_SHAPE}`)
  refuseUnknownKeys(b, ['pathPattern', 'trustedKeyIds', 'public'], name)
  const p = b.pathPattern
  if (typeof p !== 'string' || p === '' || p.length > 255 || PATTERN_BAD_RE.test(p)) {
    invalid(`${name}.pathPattern`, 'expected a path pattern such as "/courses/*" (at most 255 characters, no spaces)')
  }
  const pattern = p.startsWith('/') || p.startsWith('*') ? p : '/' + p
  if (seen.has(pattern)) invalid(`${name}.pathPattern`, `"${p}" is listed twice`)
  if (pattern === '*' && !last) {
    invalid(`${name}.pathPattern`,
      '"*" matches every path: only the last behaviour may use it')
  }
  seen.add(pattern)
  if (b.public !== undefined && typeof b.public !== 'boolean') invalid(`${name}.public`, 'expected a boolean')
  if (b.public === true) {
    if (b.trustedKeyIds !== undefined) {
      invalid(name,
        'a public behaviour trusts no keys: give public or trustedKeyIds, not both')
    }
    return { pattern, verifier: null }
  }
  if (b.trustedKeyIds === undefined) return { pattern, verifier: verifiers.for([...verifiers.keys.keys()]) }
  if (!Array.isArray(b.trustedKeyIds) || b.trustedKeyIds.length === 0) {
    invalid(`${name}.trustedKeyIds`, 'expected a non-empty array of key IDs (or public: true)')
  }
  for (const id of b.trustedKeyIds) {
    if (typeof id !== 'string' || !verifiers.keys.has(id)) {
      invalid(`${name}.trustedKeyIds`,
      `${JSON.stringify(id)} is not one of the keys`)
    }
  }
  return { pattern, verifier: verifiers.for(b.trustedKeyIds as string[]) }
}

/** The first behaviour whose pattern matches the (normalised) path; the list always ends with `*`. */
export function matchBehavior (behaviors: ResolvedBehavior[], path: string): ResolvedBehavior {
  const last = behaviors.length - 1
  for (let i = 0; i < last; i++) {
    const b = behaviors[i] as ResolvedBehavior
    if (globMatch(b.pattern, path)) return b
  }
  return behaviors[last] as ResolvedBehavior
}
