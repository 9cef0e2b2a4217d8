import { verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { decodeBase64 } from './encoding.js'
import { invalid } from './guards.js'
import { ipInCidr, normaliseClientIp, tryParseCidr } from './ip.js'
import { loadPublicKey, type KeyInput } from './keys.js'
import { cannedPolicy, parsePolicy, type PolicyStatement } from './policy.js'
import { readCloudFrontCookies } from './cookies.js'
import { queryPairName, resourceMatches, splitUrl } from './url.js'
import { MAX_EPOCH_SECONDS, nowSeconds } from './time.js'

/** CloudFront's error codes for refused signed requests. */
export type VerifyErrorCode = 'MissingKey' | 'InvalidKey' | 'MalformedSignature' | 'MalformedPolicy' | 'AccessDenied'

export interface VerifyRequest {
  /** The full URL as sent on the wire: `https://host/path?query`, percent-encoded, not decoded. */
  url: string
  /** The request's Cookie header. */
  cookieHeader?: string | undefined
  /** The viewer's address (IPv4, or IPv4-mapped IPv6). */
  clientIp?: string | undefined
}

export type VerifyResult =
  | { ok: true, mode: 'url' | 'cookie', keyPairId: string, policy: PolicyStatement }
  | { ok: false, status: 403, code: VerifyErrorCode, message: string, reason: string }

export interface VerifierOptions {
  /** Trusted public keys by key ID (PEM, Buffer or KeyObject; a private key is reduced to its public half). */
  keys: Record<string, KeyInput>
  /** Clock in milliseconds, like `Date.now`. */
  now?: () => number
  /** How many verified signatures to remember until their expiry (0 turns the cache off). Default 10,000. */
  cacheSize?: number
}

export interface Verifier {
  verify: (request: VerifyRequest) => VerifyResult
  /** Signature checks done and served from the cache, for tests and benchmarks. */
  stats: () => { verifications: number, cacheHits: number }
}

const MESSAGES: Record<VerifyErrorCode, string> = {
  MissingKey: 'Missing Key-Pair-Id query parameter or cookie value',
  InvalidKey: 'Unknown Key',
  MalformedSignature: 'Could not unencode Signature',
  MalformedPolicy: 'Malformed Policy',
  AccessDenied: 'Access denied'
}

const URL_PARAMS = new Set(['Expires', 'Policy', 'Signature', 'Key-Pair-Id'])
const SIGNING_PARAMS = new Set([...URL_PARAMS, 'Hash-Algorithm'])
const EXPIRES_RE = /^\d{1,10}$/

function deny (code: VerifyErrorCode, reason: string): Denial {
  return { ok: false, status: 403, code, message: MESSAGES[code], reason }
}

/** The signing parameters a request carries, read as CloudFront reads them. */
export interface SigningParameters {
  mode: 'url' | 'cookie'
  expires?: string | undefined
  policy?: string | undefined
  signature?: string | undefined
  keyPairId?: string | undefined
  hashAlgorithm?: string | undefined
  /** The URL a canned policy is rebuilt from (signing parameters removed). */
  resourceUrl: string
}

function safeDecode (text: string): string | null {
  try {
    return decodeURIComponent(text)
  } catch {
    return null
  }
}

/** Reads signing parameters from the query; null when the request is not a signed URL. */
export function fromQuery (url: string, query: string): SigningParameters | string | null {
  const kept: string[] = []
  const found = new Map<string, string>()
  let signed = false
  for (const pair of query.split('&')) {
    const name = queryPairName(pair)
    if (!SIGNING_PARAMS.has(name)) {
      kept.push(pair)
      continue
    }
    if (URL_PARAMS.has(name)) signed = true
    if (found.has(name)) return `the query repeats ${name}`
    const value = safeDecode(pair.slice(name.length + 1))
    if (value === null) return `the ${name} parameter is not valid percent-encoding`
    found.set(name, value)
  }
  if (!signed) return null
  const base = url.slice(0, url.indexOf('?'))
  return {
    mode: 'url',
    expires: found.get('Expires'),
    policy: found.get('Policy'),
    signature: found.get('Signature'),
    keyPairId: found.get('Key-Pair-Id'),
    hashAlgorithm: found.get('Hash-Algorithm'),
    resourceUrl: kept.length > 0 ? `${base}?${kept.join('&')}` : base
  }
}

/**
 * Duplicate CloudFront cookies arise when two cookie Paths overlap; which one CloudFront reads is
 * undocumented. Strict rule: identical duplicates count once, differing ones are refused.
 */
export function fromCookies (header: string | undefined, url: string): SigningParameters | string {
  const jar = readCloudFrontCookies(header)
  const one = (name: string): string | undefined | false => {
    const values = jar.get(name)
    if (!values) return undefined
    return values.every((v) => v === values[0]) ? values[0] : false
  }
  const creds: SigningParameters = { mode: 'cookie', resourceUrl: url }
  const fields: Array<[keyof SigningParameters, string]> = [
    ['expires', 'CloudFront-Expires'], ['policy', 'CloudFront-Policy'], ['signature', 'CloudFront-Signature'],
    ['keyPairId', 'CloudFront-Key-Pair-Id'], ['hashAlgorithm', 'CloudFront-Hash-Algorithm']
  ]
  for (const [field, name] of fields) {
    const v = one(name)
    if (v === false) return `the request carries two different ${name} cookies (overlapping cookie Paths)`
    ;(creds as unknown as Record<string, string | undefined>)[field] = v
  }
  return creds
}

/**
 * The credentials exactly as sent, length-prefixed so no two sets share a key. The policy text
 * decodes to one byte string (strict Base64), and a canned policy is rebuilt from Expires and the
 * URL, so this covers everything the signature covers and everything checked before verifying.
 */
function credentialKey (creds: SigningParameters): string {
  let key = ''
  for (const part of [creds.keyPairId, creds.hashAlgorithm, creds.signature, creds.policy, creds.expires,
    creds.policy === undefined ? creds.resourceUrl : undefined]) {
    key += part === undefined ? '-|' : `${part.length}:${part}|`
  }
  return key
}

/** The signing parameters of a request: its URL's when it has any (cookies are then ignored), else its cookies'. */
function signingParametersOf (request: VerifyRequest): SigningParameters | string {
  const url = request.url
  const parts = typeof url === 'string' ? splitUrl(url) : null
  if (!parts) return 'the request URL is not absolute'
  const fromUrl = parts.query === null ? null : fromQuery(url, parts.query)
  return fromUrl ?? fromCookies(request.cookieHeader, url)
}

/** What a signature must match: a trusted key, the decoded signature, the digest and the policy's exact bytes. */
interface SignedPolicy {
  keyPairId: string
  trusted: TrustedKey
  signature: Buffer
  algorithm: 'sha1' | 'sha256'
  json: string
  policy: PolicyStatement
}

/** Reads what was signed, in the order CloudFront reports the mistakes: key, signature, hash, policy. */
function signedPolicyOf (creds: SigningParameters, keys: Map<string, TrustedKey>): SignedPolicy | Denial {
  if (creds.keyPairId === undefined || creds.keyPairId === '') return deny('MissingKey', 'no Key-Pair-Id was sent')
  const trusted = keys.get(creds.keyPairId)
  if (!trusted) return deny('InvalidKey', `key ${creds.keyPairId} is not trusted`)
  if (creds.signature === undefined) return deny('MalformedSignature', 'no Signature was sent')
  const signature = decodeBase64(creds.signature)
  if (!signature) return deny('MalformedSignature', 'the Signature is not CloudFront Base64')
  let algorithm: 'sha1' | 'sha256'
  // The .NET SDK sends an explicit `SHA1` marker with every SHA-1 signature; absent means SHA-1 too.
  if (creds.hashAlgorithm === undefined || creds.hashAlgorithm === 'SHA1') algorithm = 'sha1'
  else if (creds.hashAlgorithm === 'SHA256') algorithm = 'sha256'
  else return deny('AccessDenied', `unsupported Hash-Algorithm ${creds.hashAlgorithm}`)
  const read = policyOf(creds)
  if ('ok' in read) return read
  return { keyPairId: creds.keyPairId, trusted, signature, algorithm, ...read }
}

/** The policy a request's signature covers: its Policy decoded, or the canned policy rebuilt from its Expires. */
function policyOf (creds: SigningParameters): { json: string, policy: PolicyStatement } | Denial {
  if (creds.policy !== undefined) {
    if (creds.expires !== undefined) return deny('MalformedPolicy', 'both Policy and Expires were sent')
    const bytes = decodeBase64(creds.policy)
    if (!bytes) return deny('MalformedPolicy', 'the Policy is not CloudFront Base64')
    const json = bytes.toString('utf8')
    const parsed = parsePolicy(json, false)
    if (typeof parsed === 'string') return deny('MalformedPolicy', parsed)
    return { json, policy: parsed }
  }
  if (creds.expires === undefined) return deny('MalformedPolicy', 'neither Policy nor Expires was sent')
  if (!EXPIRES_RE.test(creds.expires) || Number(creds.expires) > MAX_EPOCH_SECONDS) {
    return deny('MalformedPolicy', 'Expires is not an integer epoch time')
  }
  const expires = Number(creds.expires)
  // A canned policy is rebuilt from the request itself: the URL for a signed URL; for
  // cookies, the URL being requested (so a canned cookie opens exactly one URL).
  return { json: cannedPolicy(creds.resourceUrl, expires), policy: { resource: creds.resourceUrl, expires } }
}

function signatureMatches (p: SignedPolicy): boolean {
  try {
    return cryptoVerify(p.algorithm, Buffer.from(p.json, 'utf8'), p.trusted.key, p.signature)
  } catch {
    return false
  }
}

/** What a verified (or cached) policy still has to pass for this request: its times, Resource and address. */
function checkConditions (now: () => number, request: VerifyRequest, creds: SigningParameters, keyPairId: string,
  policy: PolicyStatement): VerifyResult {
  const t = nowSeconds(now)
  // Boundary seconds are undocumented; the strict reading: valid while now < DateLessThan and now > DateGreaterThan.
  if (!(t < policy.expires)) return deny('AccessDenied', `the grant expired at ${policy.expires} (now ${t})`)
  if (policy.notBefore !== undefined && !(t > policy.notBefore)) {
    return deny('AccessDenied', `the grant is not valid before ${policy.notBefore} (now ${t})`)
  }
  if (policy.resource !== undefined && !resourceMatches(policy.resource, creds.resourceUrl)) {
    return deny('AccessDenied', `the policy resource ${policy.resource} does not cover this URL`)
  }
  if (policy.ipAddress !== undefined) {
    const ip = normaliseClientIp(request.clientIp)
    const cidr = tryParseCidr(policy.ipAddress)
    if (ip === null || cidr === null || !ipInCidr(ip, cidr)) {
      return deny('AccessDenied', `the client address ${String(request.clientIp)} is not in ${policy.ipAddress}`)
    }
  }
  // A copy: the cached statement must not change with what a caller does to its result.
  return { ok: true, mode: creds.mode, keyPairId, policy: { ...policy } }
}

type Denial = Extract<VerifyResult, { ok: false }>
interface TrustedKey { key: KeyObject, ec: boolean }

/** Creates a verifier that judges requests the way CloudFront does. Public keys are parsed once. */
export function createVerifier (options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null || typeof options.keys !== 'object' || options.keys === null) {
    invalid('keys', 'expected an object of { [keyPairId]: publicKeyPem }')
  }
  const keys = new Map<string, TrustedKey>()
  for (const [id, input] of Object.entries(options.keys)) {
    const loaded = loadPublicKey(input)
    keys.set(id, { key: loaded.key, ec: loaded.type === 'ec' })
  }
  const now = options.now ?? Date.now
  if (typeof now !== 'function') invalid('now', 'expected a function returning milliseconds')
  const cacheSize = options.cacheSize ?? 10_000
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    invalid('cacheSize',
      'expected a whole number of entries (0 turns the cache off)')
  }
  // Verified signatures, keyed by everything the signature covers, with their decoded policy; kept
  // until the grant expires. A hit skips decoding and verifying, never the time, resource and IP checks.
  const verified = cacheSize > 0 ? new LRUCache<string, PolicyStatement>({ max: cacheSize, ttlAutopurge: false }) : null
  let verifications = 0
  let cacheHits = 0

  function judge (request: VerifyRequest): VerifyResult {
    const creds = signingParametersOf(request)
    if (typeof creds === 'string') return deny('AccessDenied', creds)
    const cacheKey = credentialKey(creds)
    const cached = verified?.get(cacheKey)
    if (cached !== undefined) {
      cacheHits++
      return checkConditions(now, request, creds, creds.keyPairId as string, cached)
    }
    const checked = signedPolicyOf(creds, keys)
    if ('ok' in checked) return checked
    verifications++
    if (!signatureMatches(checked)) return deny('AccessDenied', 'the signature does not match the policy and key')
    const ttl = checked.policy.expires * 1000 - now()
    if (verified && ttl > 0) verified.set(cacheKey, checked.policy, { ttl })
    return checkConditions(now, request, creds, checked.keyPairId, checked.policy)
  }

  return {
    verify (request) {
      try {
        return judge(request)
      } catch {
        // Request input must never throw; a bug here still answers like CloudFront would.
        return deny('AccessDenied', 'the request could not be judged')
      }
    },
    stats: () => ({ verifications, cacheHits })
  }
}
