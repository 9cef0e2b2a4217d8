import { sign as cryptoSign, type KeyObject } from 'node:crypto'
import {
  FST_ERR_CF_INVALID_KEY, FST_ERR_CF_INVALID_RESOURCE, FST_ERR_CF_INVALID_TIME,
  FST_ERR_CF_SIGN_FAILED
} from './errors.js'
import { encodeBase64 } from './encoding.js'
import { parseCidrOption } from './ip.js'
import { checkKeyId, keyIdConcern, loadPrivateKey, type KeyInput, type KeyType } from './keys.js'
import { invalid, refuseUnknownKeys } from './guards.js'
import { cannedPolicy, customPolicy, checkPolicy } from './policy.js'
import { checkResource, checkUrlToSign, hasWildcard, resourceMatches, MAX_URL_BYTES } from './resource.js'
import { toEpochSeconds, parseDuration, nowSeconds, type TimeInput, type DurationInput } from './time.js'

export type HashAlgorithm = 'SHA1' | 'SHA256'

/** Signs `data` with a key kept elsewhere (KMS, an HSM). Returns the raw signature bytes (DER for ECDSA). */
export type CustomSignFunction = (data: Buffer,
  algorithm: HashAlgorithm) => Buffer | Uint8Array | Promise<Buffer | Uint8Array>

const SIGNER_OPTION_KEYS = ['keyPairId', 'privateKey', 'passphrase', 'sign', 'keyType', 'hashAlgorithm', 'now',
  'onWarning'] as const

export interface SignerOptions {
  /** The CloudFront public key ID (key group key), e.g. `K2JCJMDEHXQW5F`. */
  keyPairId: string
  /** The private key: PEM (PKCS#1 or PKCS#8, optionally encrypted), a Buffer of it, or a `KeyObject`. */
  privateKey?: KeyInput
  /** Passphrase of an encrypted PEM. */
  passphrase?: string | Buffer
  /** Instead of `privateKey`: a function that signs (for KMS or an HSM). */
  sign?: CustomSignFunction
  /** With `sign`: the key type behind it, for callers that need to know (default `'rsa'`). */
  keyType?: KeyType
  /** `'SHA1'` (CloudFront's default) or `'SHA256'` (adds `Hash-Algorithm=SHA256`). */
  hashAlgorithm?: HashAlgorithm
  /** Clock in milliseconds, like `Date.now` (injected by tests). */
  now?: () => number
  /**
   * Receives warnings: a weak key, a key ID CloudFront cannot know (default: `process.emitWarning`, once per key ID).
   */
  onWarning?: (message: string) => void
}

export interface TimeOptions {
  /** Expiry: a `Date` or integer epoch seconds. Give this or `expiresIn`. */
  expires?: TimeInput
  /** Expiry relative to now: seconds or a duration string (`'15m'`). */
  expiresIn?: DurationInput
  /** Not valid before this time (DateGreaterThan): a `Date` or epoch seconds. */
  notBefore?: TimeInput
  /** Only this IPv4 address or CIDR may use the grant. */
  ipAddress?: string
}

export interface SignUrlOptions extends TimeOptions {
  /** Sign the URL under this (wildcard) resource instead of the URL itself; it must cover the URL. */
  resource?: string
  /** A raw policy JSON string, validated and signed exactly as given. */
  policy?: string
}

export interface SignCookiesOptions extends TimeOptions {
  /** A raw policy JSON string, validated and signed exactly as given (then `resource` may be omitted). */
  policy?: string
}

/** The CloudFront cookie set: names to values, in the order they should be set. */
export interface CloudFrontCookies {
  'CloudFront-Policy'?: string
  'CloudFront-Expires'?: string
  'CloudFront-Signature': string
  'CloudFront-Key-Pair-Id': string
  'CloudFront-Hash-Algorithm'?: 'SHA256'
}

/** What a signature covers: the exact policy bytes, and whether it is canned. */
export interface PreparedPolicy {
  json: string
  canned: boolean
  expires: number
  resource: string
}

export interface Signer {
  readonly keyPairId: string
  readonly hashAlgorithm: HashAlgorithm
  readonly keyType: KeyType
  /** Signs a URL on Node's thread pool. */
  signUrl: (url: string, options: SignUrlOptions) => Promise<string>
  /** Signs a cookie set on Node's thread pool. */
  signCookies: {
    (resource: string, options: SignCookiesOptions): Promise<CloudFrontCookies>
    (options: SignCookiesOptions & { policy: string }): Promise<CloudFrontCookies>
  }
  /** Blocking variant of `signUrl` for scripts. */
  signUrlSync: (url: string, options: SignUrlOptions) => string
  /** Blocking variant of `signCookies` for scripts. */
  signCookiesSync: {
    (resource: string, options: SignCookiesOptions): CloudFrontCookies
    (options: SignCookiesOptions & { policy: string }): CloudFrontCookies
  }
  /** Builds (and checks) the policy a cookie set for `resource` would sign. */
  preparePolicy: (resource: string | undefined, options: SignCookiesOptions, exactUrl?: string) => PreparedPolicy
  /** Signs policy bytes, returning CloudFront's URL-safe Base64 signature. */
  signPolicy: (policyJson: string) => Promise<string>
  signPolicySync: (policyJson: string) => string
}

/** Key IDs already warned about through process.emitWarning. */
const warnedKeyIds = new Set<string>()

/** What signs: the checked options every signature reads. */
interface SigningKey {
  keyPairId: string
  hashAlgorithm: HashAlgorithm
  keyType: KeyType
  /** Node's name of the digest (`sha1`, `sha256`). */
  algorithm: string
  /** The parsed private key, or undefined when `custom` signs. */
  key: KeyObject | undefined
  custom: CustomSignFunction | undefined
  now: () => number
}

/** Creates a signer: the key is parsed once, here, and every signature reuses it. */
export function createSigner (options: SignerOptions): Signer {
  const k = resolveSigningKey(options)
  const signPolicySync = (json: string): string => encodeBase64(signBytesSync(k, Buffer.from(json, 'utf8')))
  const signPolicy = async (json: string): Promise<string> => encodeBase64(await signBytes(k,
    Buffer.from(json, 'utf8')))
  const prepare = (resource: string | undefined, opts: SignCookiesOptions, exactUrl?: string): PreparedPolicy =>
    preparePolicy(k.now, resource, opts, exactUrl)
  return {
    keyPairId: k.keyPairId,
    hashAlgorithm: k.hashAlgorithm,
    keyType: k.keyType,
    preparePolicy: prepare,
    signPolicy,
    signPolicySync,
    async signUrl (url, opts) {
      const p = prepareUrl(k.now, url, opts)
      return urlFrom(k, url, p, await signPolicy(p.json))
    },
    signUrlSync (url, opts) {
      const p = prepareUrl(k.now, url, opts)
      return urlFrom(k, url, p, signPolicySync(p.json))
    },
    async signCookies (a: string | SignCookiesOptions, b?: SignCookiesOptions) {
      const p = prepare(...cookieArgs(a, b))
      return cookiesFrom(k, p, await signPolicy(p.json))
    },
    signCookiesSync (a: string | SignCookiesOptions, b?: SignCookiesOptions) {
      const p = prepare(...cookieArgs(a, b))
      return cookiesFrom(k, p, signPolicySync(p.json))
    }
  }
}

/** Checks the signer's options, warns about a doubtful key ID or a weak key, and parses the key. */
function resolveSigningKey (options: SignerOptions): SigningKey {
  if (typeof options !== 'object' || options === null) invalid('signer options', 'expected an object')
  refuseUnknownKeys(options, SIGNER_OPTION_KEYS, '')
  const keyPairId = checkKeyId(options.keyPairId, 'keyPairId')
  const hashAlgorithm = options.hashAlgorithm ?? 'SHA1'
  if (hashAlgorithm !== 'SHA1' && hashAlgorithm !== 'SHA256') invalid('hashAlgorithm', 'expected "SHA1" or "SHA256"')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') invalid('now', 'expected a function returning milliseconds, like Date.now')
  warnAboutKeyId(keyPairId, options.onWarning)
  const algorithm = hashAlgorithm === 'SHA256' ? 'sha256' : 'sha1'
  const custom = options.sign
  if (custom !== undefined) {
    if (typeof custom !== 'function') invalid('sign', 'expected a function (data, algorithm) => signature bytes')
    if (options.privateKey !== undefined) invalid('sign', 'give either privateKey or sign, not both')
    return { keyPairId, hashAlgorithm, keyType: options.keyType ?? 'rsa', algorithm, key: undefined, custom, now }
  }
  const loaded = loadSignerPrivateKey(options)
  if (loaded.type === 'rsa' && loaded.bits < 2048) {
    const message = `The CloudFront RSA key ${keyPairId} has ${loaded.bits} bits; CloudFront key groups require ` +
      '2048-bit keys.'
    if (options.onWarning !== undefined) options.onWarning(message)
    else process.emitWarning(message, { code: 'FST_CF_WEAK_KEY' })
  }
  return { keyPairId, hashAlgorithm, keyType: loaded.type, algorithm, key: loaded.key, custom: undefined, now }
}

function warnAboutKeyId (keyPairId: string, onWarning: ((message: string) => void) | undefined): void {
  const concern = keyIdConcern(keyPairId)
  if (concern === null) return
  if (onWarning !== undefined) onWarning(concern)
  else if (!warnedKeyIds.has(keyPairId)) {
    // Once per ID and process: a script or a test suite makes many signers with the same key.
    warnedKeyIds.add(keyPairId)
    process.emitWarning(concern, { code: 'FST_CF_KEY_ID' })
  }
}

function loadSignerPrivateKey (options: SignerOptions): ReturnType<typeof loadPrivateKey> {
  if (options.privateKey === undefined) {
    invalid('privateKey',
      'a private key (PEM or KeyObject) or a sign function is required')
  }
  try {
    return loadPrivateKey(options.privateKey, options.passphrase)
  } catch (err) {
    if (err instanceof FST_ERR_CF_INVALID_KEY) err.option = 'privateKey'
    throw err
  }
}

function signBytesSync (k: SigningKey, data: Buffer): Buffer {
  if (k.key) return cryptoSign(k.algorithm, data, k.key)
  let out
  try {
    out = (k.custom as CustomSignFunction)(data, k.hashAlgorithm)
  } catch (err) {
    throw new FST_ERR_CF_SIGN_FAILED(errorName(err))
  }
  if (out instanceof Promise) {
    out.catch(() => {})
    throw new FST_ERR_CF_SIGN_FAILED('the custom sign function returned a Promise: use the async signUrl/signCookies')
  }
  return signatureBytes(out)
}

async function signBytes (k: SigningKey, data: Buffer): Promise<Buffer> {
  const key = k.key
  if (key) {
    return new Promise((resolve, reject) => {
      // The callback form runs on libuv's thread pool: the event loop keeps serving requests.
      cryptoSign(k.algorithm, data, key, (err, sig) => {
        if (err) reject(new FST_ERR_CF_SIGN_FAILED(errorName(err)))
        else resolve(sig)
      })
    })
  }
  try {
    return signatureBytes(await (k.custom as CustomSignFunction)(data, k.hashAlgorithm))
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_ERR_CF_SIGN_FAILED') throw err
    throw new FST_ERR_CF_SIGN_FAILED(errorName(err))
  }
}

function expiryOf (opts: TimeOptions, nowSec: number): number {
  if (opts.expires !== undefined && opts.expiresIn !== undefined) {
    throw new FST_ERR_CF_INVALID_TIME('expires', 'give expires or expiresIn, not both')
  }
  let expires: number
  if (opts.expires !== undefined) expires = toEpochSeconds(opts.expires, 'expires')
  else if (opts.expiresIn !== undefined) expires = nowSec + parseDuration(opts.expiresIn, 'expiresIn')
  else {
    throw new FST_ERR_CF_INVALID_TIME('expires',
      'an expiry is required: give expires (a Date or epoch seconds) or expiresIn ("15m")')
  }
  if (expires <= nowSec) throw new FST_ERR_CF_INVALID_TIME('expires', `${expires} is not after now (${nowSec})`)
  return toEpochSeconds(expires, 'expires')
}

/** A raw policy given to sign as it is: checked, never rewritten. */
function rawPolicy (opts: SignCookiesOptions & { policy: string }): PreparedPolicy {
  if (opts.expires !== undefined || opts.expiresIn !== undefined || opts.notBefore !== undefined ||
    opts.ipAddress !== undefined) {
    invalid('policy', 'a raw policy carries its own conditions: do not also give expires, expiresIn, notBefore or ' +
      'ipAddress')
  }
  const st = checkPolicy(opts.policy)
  // A Resource no request can match (relative, another scheme) would sign a set that opens nothing.
  checkResource(st.resource, 'policy Resource')
  return { json: opts.policy, canned: false, expires: st.expires, resource: st.resource as string }
}

function preparePolicy (now: () => number, resource: string | undefined, opts: SignCookiesOptions,
  exactUrl?: string): PreparedPolicy {
  if (typeof opts !== 'object' || opts === null) invalid('sign options', 'expected an object')
  if (opts.policy !== undefined) return rawPolicy(opts as SignCookiesOptions & { policy: string })
  const res = checkResource(resource)
  const nowSec = nowSeconds(now)
  const expires = expiryOf(opts, nowSec)
  let notBefore: number | undefined
  if (opts.notBefore !== undefined) {
    // 0 is a valid DateGreaterThan (always passed): kept as given, as the PHP SDK signs it.
    notBefore = toEpochSeconds(opts.notBefore, 'notBefore', 0)
    if (notBefore >= expires) {
      throw new FST_ERR_CF_INVALID_TIME('notBefore',
      `${notBefore} is not before expires (${expires})`)
    }
  }
  const ipAddress = opts.ipAddress === undefined ? undefined : parseCidrOption(opts.ipAddress).text
  const exact = exactUrl === undefined ? !hasWildcard(res) : res === exactUrl
  const canned = exact && notBefore === undefined && ipAddress === undefined
  const json = canned ? cannedPolicy(res, expires) : customPolicy({ resource: res, expires, notBefore, ipAddress })
  return { json, canned, expires, resource: res }
}

function prepareUrl (now: () => number, url: string, opts: SignUrlOptions): PreparedPolicy {
  const u = checkUrlToSign(url)
  if (typeof opts !== 'object' || opts === null) invalid('sign options', 'expected an object')
  const resource = opts.resource ?? u
  const prepared = preparePolicy(now, resource, opts, u)
  if (prepared.resource !== undefined && !resourceMatches(prepared.resource, u)) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the policy resource "${prepared.resource}" does not cover the URL "${u}"`)
  }
  return prepared
}

function urlFrom (k: SigningKey, url: string, p: PreparedPolicy, signature: string): string {
  // Parameter order as botocore and the Ruby SDK emit it.
  let out = url + (url.includes('?') ? '&' : '?') +
    (p.canned ? `Expires=${p.expires}` : `Policy=${encodeBase64(p.json)}`) +
    `&Signature=${signature}&Key-Pair-Id=${k.keyPairId}`
  if (k.hashAlgorithm === 'SHA256') out += '&Hash-Algorithm=SHA256'
  if (Buffer.byteLength(out) > MAX_URL_BYTES) {
    throw new FST_ERR_CF_INVALID_RESOURCE(`the signed URL would be longer than CloudFront's ${MAX_URL_BYTES} bytes`)
  }
  return out
}

function cookiesFrom (k: SigningKey, p: PreparedPolicy, signature: string): CloudFrontCookies {
  const cookies: CloudFrontCookies = p.canned
    ? {
        'CloudFront-Expires': String(p.expires),
        'CloudFront-Signature': signature,
        'CloudFront-Key-Pair-Id': k.keyPairId
      }
    : {
        'CloudFront-Policy': encodeBase64(p.json),
        'CloudFront-Signature': signature,
        'CloudFront-Key-Pair-Id': k.keyPairId
      }
  if (k.hashAlgorithm === 'SHA256') cookies['CloudFront-Hash-Algorithm'] = 'SHA256'
  return cookies
}

function cookieArgs (a: string | SignCookiesOptions, b?: SignCookiesOptions): [string | undefined, SignCookiesOptions] {
  if (typeof a === 'object' && a !== null && b === undefined) {
    if (a.policy === undefined) {
      throw new FST_ERR_CF_INVALID_RESOURCE('give a resource, or { policy } with a raw ' +
      'policy')
    }
    return [undefined, a]
  }
  return [a as string, b as SignCookiesOptions]
}

function signatureBytes (out: unknown): Buffer {
  if (out instanceof Uint8Array && out.length > 0) return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  throw new FST_ERR_CF_SIGN_FAILED('the custom sign function must return the signature bytes (a Buffer or Uint8Array)')
}

// Only the error's class and code are passed on: a message from a crypto library may quote its input.
function errorName (err: unknown): string {
  const e = err as { name?: string, code?: string }
  return `${e?.name ?? 'Error'}${e?.code ? ` (${e.code})` : ''}`
}
