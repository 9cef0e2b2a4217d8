import { createHash, KeyObject } from 'node:crypto'
import { invalid, isPublicSuffix, refuseUnknownKeys, shown } from '../guards.js'
import { loadPublicKey, type KeyInput } from '../keys.js'

// The checks behind `cloudFrontTemplate()`: each refuses, before anything is deployed, a value
// that CloudFormation would accept and that would leave the signed cookies unusable (a domain the
// app's cookies never reach, a certificate CloudFront cannot use, a private key on its way to AWS).

export interface SetupOptions {
  /** The alternate domain name viewers request the media from, such as `media.example.com`. */
  domain: string
  /** The app's origin (or origins), such as `https://app.example.com`: CORS allows them with credentials. */
  app: string | string[]
  /** The name of the existing, private S3 bucket that holds the media. */
  bucket: string
  /** The bucket's region (default: the region the stack is deployed in). */
  bucketRegion?: string
  /** An ACM certificate in us-east-1 that covers `domain`. */
  certificateArn: string
  /** The public key (or up to 5 of them, for rotation) the app's private key pairs with: PEM (SPKI or PKCS#1). */
  publicKeys: KeyInput | KeyInput[]
  /** A Route 53 hosted zone for `domain`'s parent: adds alias records (A and AAAA) to the distribution. */
  hostedZoneId?: string
  /** The path prefix the media lives under, such as `/courses/` (default: the whole distribution). */
  prefix?: string
}

const OPTION_NAMES = ['domain', 'app', 'bucket', 'bucketRegion', 'certificateArn', 'publicKeys', 'hostedZoneId',
  'prefix'] as const

export interface SetupPublicKey {
  /** SPKI PEM, as CloudFront's EncodedKey takes it. */
  pem: string
  /** The first 16 hex digits of the SHA-256 of the key's DER: a stable name for the key in the template. */
  fingerprint: string
  type: 'RSA-2048' | 'ECDSA P-256'
}

export interface ResolvedSetup {
  domain: string
  /** Each app origin as browsers send it in `Origin` (lower-case host, no default port, no path). */
  appOrigins: string[]
  bucket: string
  bucketRegion: string | undefined
  certificateArn: string
  publicKeys: SetupPublicKey[]
  hostedZoneId: string | undefined
  /** `/` (everything) or a prefix such as `/courses/`. */
  prefix: string
  /** The parent domain shared by the media host and every app origin: the cookies' `Domain`. */
  cookieDomain: string
}

/** CloudFront accepts at most 5 public keys in a key group. */
export const MAX_KEYS_PER_GROUP = 5

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const CERTIFICATE_ARN = /^arn:aws[\w-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/[A-Za-z0-9-]+$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/
/** The command that writes a private key's public half into a new file, never over its input. */
export function publicHalfCommand (privatePath = 'private.pem'): string {
  const slash = privatePath.lastIndexOf('/')
  const dir = slash === -1 ? '' : privatePath.slice(0, slash + 1)
  const out = `${dir}public.pem` === privatePath ? `${dir}public-key.pem` : `${dir}public.pem`
  return `openssl pkey -in ${shellWord(privatePath)} -pubout -out ${shellWord(out)}`
}

function shellWord (word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`
}

function checkHost (value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') invalid(option, 'expected a host name such as "media.example.com"')
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const host = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[/?#].*$/s, '')
    invalid(option, `give the host name alone (${shown(host)}), without scheme or path`)
  }
  const host = value.toLowerCase()
  if (host.endsWith('.')) invalid(option, `drop the final dot: ${shown(host.slice(0, -1))}`)
  if (host.includes('*')) {
    invalid(option,
      'a wildcard cannot be the media host: give the exact host the player requests, such as "media.example.com"')
  }
  const labels = host.split('.')
  if (host.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    invalid(option, `${shown(value)} is not a host name such as "media.example.com"`)
  }
  if (/^\d+$/.test(labels[labels.length - 1] as string)) {
    invalid(option,
    `${shown(value)} is an IP address: give a host name such as "media.example.com"`)
  }
  return host
}

function checkDomain (value: unknown): string {
  const domain = checkHost(value, 'domain')
  if (domain === 'cloudfront.net' || domain.endsWith('.cloudfront.net')) {
    invalid('domain', `cookies set by your app never reach ${domain}: give an alternate domain name under your app's ` +
      'domain, such as "media.example.com" (the distribution\'s *.cloudfront.net name stays as the DNS target)')
  }
  if (domain === 'amazonaws.com' || domain.endsWith('.amazonaws.com')) {
    invalid('domain', `${domain} is an AWS endpoint, not a name viewers can get cookies for: give an alternate ` +
      'domain name under your app\'s domain, such as "media.example.com"')
  }
  return domain
}

function checkAppOrigin (value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') {
    invalid(option,
      'expected the app\'s origin, such as "https://app.example.com"')
  }
  if (value.trim() === '*' || value.includes('*')) {
    invalid(option, 'browsers refuse Access-Control-Allow-Origin: * on a request with credentials (cookies): give ' +
      'the app\'s exact origin, such as "https://app.example.com"')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return invalid(option,
      `${shown(value)} is not an origin: give it with its scheme, such as "https://${value.replace(/^\/+/, '')}"`)
  }
  if (url.protocol !== 'https:') {
    invalid(option, `${shown(value)} is not https: an http:// page cannot set the Secure cookies CloudFront needs, ` +
      `and the media is served over https only (serve the app over https: https://${url.host})`)
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    invalid(option, `give the origin alone, as browsers send it in the Origin header: "${url.origin}"`)
  }
  checkHost(url.hostname, option)
  return url.origin
}

/** The longest parent domain (two labels or more) that two hosts share, or undefined. */
function sharedParent (a: string, b: string): string | undefined {
  const x = a.split('.').reverse()
  const y = b.split('.').reverse()
  let n = 0
  while (n < x.length && n < y.length && x[n] === y[n]) n++
  return n < 2 ? undefined : x.slice(0, n).reverse().join('.')
}

function checkCookieDomain (domain: string, origins: string[]): string {
  let parent = domain
  for (const [i, origin] of origins.entries()) {
    const option = origins.length === 1 ? 'app' : `app[${i}]`
    const host = new URL(origin).hostname
    if (host === domain) {
      invalid(option, `${origin} is on the media host itself: give the distribution a host of its own beside the ` +
        `app's, such as "cdn.${domain.split('.').length > 2 ? domain.split('.').slice(1).join('.') : domain}"`)
    }
    const shared = sharedParent(parent, host)
    if (shared === undefined) {
      const parentOfHost = host.split('.').length > 2 ? host.split('.').slice(1).join('.') : host
      invalid(option, `${host} and ${domain} share no parent domain, so cookies the app sets never reach ${domain}: ` +
        `serve the media from a host under the app's domain, such as "media.${parentOfHost}"`)
    }
    if (isPublicSuffix(shared)) {
      invalid(option, `the only parent shared by ${domain} and ${host} is ${shared}, a public suffix that browsers ` +
        'refuse as a cookie Domain: serve the media from a host under the app\'s own domain')
    }
    parent = shared
  }
  return parent
}

function checkBucket (value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    invalid('bucket',
      'expected the S3 bucket\'s name, such as "my-media-bucket"')
  }
  const bare = /^s3:\/\/([^/]+)/.exec(value)?.[1] ??
    /^arn:aws[\w-]*:s3:::([^/]+)$/.exec(value)?.[1] ??
    /^([^/]+?)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.exec(value)?.[1]
  if (bare !== undefined && bare !== value) invalid('bucket', `give the bucket's name alone: ${shown(bare)}`)
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) || value.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    invalid('bucket', `${shown(value)} is not an S3 bucket name (3 to 63 lower-case letters, digits, "-" and ".")`)
  }
  return value
}

function checkCertificateArn (value: unknown, domain: string): string {
  if (typeof value !== 'string' || value === '') {
    invalid('certificateArn',
      'expected an ACM certificate ARN, such as "arn:aws:acm:us-east-1:123456789012:certificate/…"')
  }
  const m = CERTIFICATE_ARN.exec(value)
  if (m === null) {
    invalid('certificateArn',
      `${shown(value)} is not an ACM certificate ARN (arn:aws:acm:us-east-1:<account>:certificate/<id>)`)
  }
  if (m[1] !== 'us-east-1') {
    invalid('certificateArn',
      `the certificate is in ${m[1] as string}, and CloudFront uses certificates from us-east-1 only: request (or ` +
        `import) a certificate for ${domain} in us-east-1 (N. Virginia)`)
  }
  return value
}

function checkPublicKey (input: unknown, option: string): SetupPublicKey {
  const text = typeof input === 'string' ? input : Buffer.isBuffer(input) ? input.toString('latin1') : ''
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || (input instanceof KeyObject && input.type === 'private')) {
    invalid(option, 'this is a private key, which must never leave the app: ' +
      `give its public half, written by \`${publicHalfCommand()}\``)
  }
  let key: KeyObject
  let bits: number
  try {
    const loaded = loadPublicKey(input)
    key = loaded.key
    bits = loaded.bits
  } catch (err) {
    return invalid(option, (err as Error).message.replace(/^Invalid CloudFront key: /, ''))
  }
  if (key.asymmetricKeyType === 'rsa' && bits !== 2048) {
    invalid(option, `CloudFront key groups take RSA keys of 2048 bits only; this key has ${bits}: make a new pair ` +
      '(cloudfront-cookies keygen, or openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private.pem)')
  }
  const der = key.export({ type: 'spki', format: 'der' })
  return {
    pem: key.export({ type: 'spki', format: 'pem' }) as string,
    fingerprint: createHash('sha256').update(der).digest('hex').slice(0, 16),
    type: key.asymmetricKeyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'
  }
}

function checkPrefix (value: unknown): string {
  if (value === undefined || value === '/') return '/'
  if (typeof value !== 'string' || value === '') invalid('prefix', 'expected a path prefix such as "/courses/"')
  if (/[*?]/.test(value)) {
    invalid('prefix', `give the prefix without wildcards (${shown(value.replace(/[*?].*$/s,
    ''))}): the template adds the "*" itself`)
  }
  if (!value.startsWith('/')) invalid('prefix', `start it with "/": ${shown(`/${value}`)}`)
  if (!value.endsWith('/')) {
    const slashed = shown(`${value}/`)
    invalid('prefix', `end it with "/": ${slashed} (${value}* would also match ${value}-other/ and ${value}x)`)
  }
  if (value.includes('//') || /\/\.\.?\//.test(value) || !/^[A-Za-z0-9/_.~-]+$/.test(value)) {
    invalid('prefix', `${shown(value)} is not a plain path prefix: use letters, digits, "/", "-", "_", "." and "~", ` +
      'such as "/courses/"')
  }
  if (value.length > 250) invalid('prefix', 'CloudFront path patterns hold at most 255 characters')
  return value
}

function list<T> (value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/** Checks every option once; each error names the option and what to change. */
export function resolveSetup (options: SetupOptions): ResolvedSetup {
  if (options === null || typeof options !== 'object') invalid('options', 'expected an object')
  refuseUnknownKeys(options, OPTION_NAMES, '')
  const domain = checkDomain(options.domain)
  const apps = list(options.app)
  if (apps.length === 0) invalid('app', 'give the app\'s origin, such as "https://app.example.com"')
  const appOrigins = apps.map((a, i) => checkAppOrigin(a, apps.length === 1 ? 'app' : `app[${i}]`))
  const cookieDomain = checkCookieDomain(domain, appOrigins)
  const bucket = checkBucket(options.bucket)
  let bucketRegion: string | undefined
  if (options.bucketRegion !== undefined) {
    if (typeof options.bucketRegion !== 'string' || !REGION.test(options.bucketRegion)) {
      invalid('bucketRegion',
      `${shown(options.bucketRegion)} is not an AWS region such as "eu-west-1"`)
    }
    bucketRegion = options.bucketRegion
  }
  const certificateArn = checkCertificateArn(options.certificateArn, domain)
  const keys = list(options.publicKeys)
  if (keys.length === 0) invalid('publicKeys', 'give the public key the app\'s private key pairs with')
  if (keys.length > MAX_KEYS_PER_GROUP) {
    invalid('publicKeys',
    `a key group holds at most ${MAX_KEYS_PER_GROUP} keys; ${keys.length} were given`)
  }
  const publicKeys = keys.map((k, i) => checkPublicKey(k, keys.length === 1 ? 'publicKeys' : `publicKeys[${i}]`))
  publicKeys.forEach((k, i) => {
    if (publicKeys.findIndex((o) => o.fingerprint === k.fingerprint) !== i) {
      invalid(`publicKeys[${i}]`,
        'this key is given twice')
    }
  })
  let hostedZoneId: string | undefined
  if (options.hostedZoneId !== undefined) {
    const zone = options.hostedZoneId
    if (typeof zone !== 'string' || !/^Z[A-Z0-9]{1,31}$/.test(zone)) {
      const bare = typeof zone === 'string' ? /^\/hostedzone\/(Z[A-Z0-9]{1,31})$/.exec(zone)?.[1] : undefined
      invalid('hostedZoneId', bare === undefined
        ? `${shown(zone)} is not a Route 53 hosted zone ID such as "Z0123456789ABCDEFGHIJ"`
        : `give the ID alone: ${shown(bare)}`)
    }
    hostedZoneId = zone
  }
  return {
    domain,
    appOrigins,
    bucket,
    bucketRegion,
    certificateArn,
    publicKeys,
    hostedZoneId,
    prefix: checkPrefix(options.prefix),
    cookieDomain
  }
}
