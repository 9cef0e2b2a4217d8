// The checks on what reaches CloudFront: the signing parameters of one request (signed URL or
// cookies), read with the verifier's own readers and judged step by step, each failure in words.
import { readCloudFrontCookies } from '../cookies.js'
import { decodeBase64 } from '../encoding.js'
import { ipInCidr, normaliseClientIp, tryParseCidr } from '../ip.js'
import { parsePolicy, type PolicyStatement } from '../policy.js'
import { MAX_EPOCH_SECONDS } from '../time.js'
import { resourceMatches, splitUrl, type UrlParts } from '../url.js'
import { fromCookies, fromQuery, type SigningParameters } from '../verifier.js'
import { finding, when, type Finding } from './findings.js'
import { explainMismatch, otherFolder } from './mismatch.js'
import { checkSignature, type DoctorKeys } from './signature.js'

export interface GrantCheck {
  /** The URL as the browser sends it (host in lower case). */
  url: string
  cookieHeader: string | undefined
  keys: DoctorKeys | null
  /** Epoch ms. */
  now: number
  clientIp: string | undefined
  /** The host as it was given, when it had capitals (the browser sends it in lower case). */
  givenUrl?: string | undefined
}

const KEY_ID_RE = /^[A-Za-z0-9_-]{1,128}$/
const URL_NAMES: Array<[keyof SigningParameters, string]> = [['keyPairId', 'Key-Pair-Id'], ['signature', 'Signature']]
const COOKIE_NAMES: Array<[keyof SigningParameters, string]> = [
  ['keyPairId', 'CloudFront-Key-Pair-Id'], ['signature', 'CloudFront-Signature'], ['policy', 'CloudFront-Policy']
]

function base64Hint (text: string): string {
  if (/[+/=]/.test(text)) return 'it uses standard Base64 (+ / =): CloudFront wants - ~ _ instead'
  if (text.includes('%')) return 'it is percent-encoded: the cookie was written with URL encoding, set it raw'
  if (/["\s]/.test(text)) return 'it carries quotes or whitespace'
  if (text.length % 4 !== 0) return `its length (${text.length}) is not a multiple of 4: it was cut`
  return 'it is not CloudFront\'s URL-safe Base64'
}

function looksLikeMs (value: number): boolean {
  return value >= 1e11
}

/** The decoded statement, or the findings that stop the checks. */
function readPolicy (creds: SigningParameters, where: string): {
  statement: PolicyStatement,
  json: string | null
} | Finding[] {
  if (creds.policy !== undefined && creds.expires !== undefined) {
    return [finding('MALFORMED_POLICY', 'error', `${where} carries both a Policy and an Expires`,
      'Send one: Policy (custom policy, for a prefix) or Expires (canned, one exact URL); clear the other cookie.')]
  }
  if (creds.expires !== undefined) {
    if (/^\d+$/.test(creds.expires) && looksLikeMs(Number(creds.expires))) {
      return [finding('EXPIRES_IN_MILLISECONDS', 'error',
        `Expires is ${creds.expires}: that is milliseconds, CloudFront reads seconds`, 'Divide by 1000: ' +
          'Math.floor(Date.now() / 1000) + ttlSeconds.')]
    }
    if (!/^\d{1,10}$/.test(creds.expires) || Number(creds.expires) > MAX_EPOCH_SECONDS) {
      return [finding('MALFORMED_POLICY', 'error',
        `Expires is not an integer epoch time in seconds (${creds.expires.slice(0, 24)})`,
        'Send integer Unix seconds, at most 2147483647.')]
    }
    return { statement: { resource: undefined, expires: Number(creds.expires) }, json: null }
  }
  if (creds.policy === undefined) return []
  const bytes = decodeBase64(creds.policy)
  if (!bytes) {
    return [finding('MALFORMED_POLICY', 'error', `the Policy cannot be decoded: ${base64Hint(creds.policy)}`,
      'Send the policy as CloudFront\'s URL-safe Base64 of the JSON, unchanged (the signer\'s output).')]
  }
  const json = bytes.toString('utf8')
  const parsed = parsePolicy(json, false)
  if (typeof parsed === 'string') {
    const ms = /"AWS:EpochTime"\s*:\s*(\d{11,})/.exec(json)
    if (ms && looksLikeMs(Number(ms[1]))) {
      return [finding('EXPIRES_IN_MILLISECONDS', 'error',
        `the Policy has AWS:EpochTime ${ms[1] as string}: that is milliseconds, CloudFront reads seconds`,
        'Divide by 1000 when building DateLessThan / DateGreaterThan.')]
    }
    return [finding('MALFORMED_POLICY', 'error', `the Policy is not one CloudFront accepts: ${parsed}`,
      'Build the policy with the signer (one Statement, Resource, DateLessThan in integer seconds, optional ' +
        'DateGreaterThan and IpAddress).')]
  }
  return { statement: parsed, json }
}

/** The findings for the credentials a request carries to `url`. */
export function checkGrant (input: GrantCheck): Finding[] {
  const { url, now } = input
  const parts = splitUrl(url) as NonNullable<ReturnType<typeof splitUrl>>
  const out: Finding[] = []
  const creds = readParameters(input, parts, out)
  if (creds === null) return out
  const where = creds.mode === 'url' ? 'the signed URL' : 'the cookie set'
  const absent = missingParameter(creds, input.cookieHeader, parts, where)
  if (absent !== null) return [...out, absent]
  const keyPairId = creds.keyPairId as string
  out.push(...checkKeyAndEncoding(creds, input.keys))
  const read = readPolicy(creds, where)
  if (Array.isArray(read)) return [...out, ...read]
  const { statement } = read
  out.push(...checkTimes(statement, Math.floor(now / 1000), where))
  out.push(...checkResource(input, creds, read, parts.host))
  if (statement.ipAddress !== undefined) out.push(...checkIp(statement.ipAddress, input.clientIp))
  const stopped = out.some((f) => f.severity === 'error' && f.code !== 'CANNED_POLICY_FOR_PREFIX')
  if (input.keys !== null && input.keys.has(keyPairId) && !stopped) {
    const { givenUrl, keys, clientIp } = input
    return checkSignature(out, { creds, statement, json: read.json, url, givenUrl, keys, keyPairId, clientIp, now })
  }
  return out
}

/**
 * The signing parameters CloudFront reads for the request: the URL's, else the first cookie of each name.
 * Null when the signed URL cannot be read; what CloudFront ignores or sees twice is added to `out`.
 */
function readParameters (input: GrantCheck, parts: UrlParts, out: Finding[]): SigningParameters | null {
  const jar = readCloudFrontCookies(input.cookieHeader)
  const fromUrl = parts.query === null ? null : fromQuery(input.url, parts.query)
  if (fromUrl !== null && jar.size > 0) {
    out.push(finding('URL_PARAMS_OVERRIDE_COOKIES', 'error',
      'the URL carries signing parameters (Expires, Policy, Signature or Key-Pair-Id), so CloudFront ignores the ' +
        'cookies',
      'Remove those parameters from the media URL (a stale signed URL, or a player appending them) so the cookies ' +
        'are read.'))
  }
  if (typeof fromUrl === 'string') {
    out.push(finding('MALFORMED_SIGNATURE', 'error', `the signed URL cannot be read: ${fromUrl}`,
      'Sign the URL once and send it unchanged.'))
    return null
  }
  if (fromUrl !== null) return fromUrl
  for (const [name, values] of jar) {
    if (values.length < 2) continue
    const differ = values.some((v) => v !== values[0])
    out.push(finding('DUPLICATE_COOKIES', differ ? 'error' : 'warning',
      `the request carries ${values.length} ${name} cookies${differ ? ' with different values' : ''}: ` +
      'cookie sets with overlapping Paths (or Domains) reach this URL',
      'Grant prefixes that do not overlap (/courses/42/ and /courses/43/, not / and /courses/42/), ' +
      'and clear a set at its old Path and Domain before setting it elsewhere.'))
  }
  // Past duplicates, the first of each (the longest Path, which browsers send first) is judged.
  const firsts = [...jar].map(([name, values]) => `${name}=${values[0] as string}`).join('; ')
  return fromCookies(firsts, input.url) as SigningParameters
}

/** The finding that stops the checks when a parameter is missing, or the key ID is not one. */
function missingParameter (creds: SigningParameters, cookieHeader: string | undefined, parts: UrlParts,
  where: string): Finding | null {
  const missing = creds.mode === 'url'
    ? URL_NAMES.filter(([f]) => creds[f] === undefined).map(([, n]) => n)
    : COOKIE_NAMES.filter(([f]) => f !== 'policy' && creds[f] === undefined).map(([, n]) => n)
  if (creds.policy === undefined && creds.expires === undefined) {
    missing.push(creds.mode === 'url' ? 'Expires or Policy' : 'CloudFront-Policy (or CloudFront-Expires)')
  }
  if (creds.mode === 'cookie' && readCloudFrontCookies(cookieHeader).size === 0) {
    return finding('MISSING_COOKIES', 'error',
      `no CloudFront-* cookie is sent to ${parts.host}${parts.path} (CloudFront answers MissingKey)`,
      'Grant the prefix before the player starts: the page or API response that opens the player must set the ' +
      'cookie set, for a Path and Domain that cover this URL.')
  }
  if (missing.length > 0) {
    return finding(creds.mode === 'cookie' ? 'MISSING_COOKIES' : 'MALFORMED_SIGNATURE', 'error',
      `${where} lacks ${missing.join(', ')}`,
      'Set the whole set, every cookie with the same Path and Domain (a proxy or a cookie size limit may have ' +
        'dropped one).')
  }
  const keyPairId = creds.keyPairId as string
  if (!KEY_ID_RE.test(keyPairId)) {
    return finding('UNKNOWN_KEY', 'error',
      `the Key-Pair-Id ${JSON.stringify(keyPairId.slice(0, 40))} is not a key ID (letters, digits, - and _ only)`,
      'Send the CloudFront public key ID exactly, without spaces or quotes.')
  }
  return null
}

/** A key ID the keys given do not hold, a hash algorithm CloudFront does not know, a signature it cannot decode. */
function checkKeyAndEncoding (creds: SigningParameters, keys: DoctorKeys | null): Finding[] {
  const out: Finding[] = []
  const keyPairId = creds.keyPairId as string
  if (keys !== null && !keys.has(keyPairId)) {
    out.push(finding('UNKNOWN_KEY', 'error',
      `the Key-Pair-Id ${keyPairId} is not among the keys given (${[...keys.ids()].join(', ')}) (CloudFront answers ` +
        'InvalidKey)',
      'Sign with a key whose public key is in a key group trusted by the cache behaviour of this path, or add it to ' +
        'that key group.'))
  }
  // An explicit SHA1 marker (the .NET SDK sends one) reads as SHA-1, like none.
  if (creds.hashAlgorithm !== undefined && creds.hashAlgorithm !== 'SHA256' && creds.hashAlgorithm !== 'SHA1') {
    const name = creds.mode === 'url' ? 'Hash-Algorithm=SHA256' : 'CloudFront-Hash-Algorithm=SHA256'
    out.push(finding('HASH_ALGORITHM', 'error',
      `the Hash-Algorithm is ${JSON.stringify(creds.hashAlgorithm.slice(0, 20))}: ` +
      'CloudFront knows SHA256 and SHA1 (and SHA-1 when it is absent)',
      `Send ${name} with SHA-256 signatures and nothing with SHA-1 ones.`))
  }
  const signature = creds.signature as string
  if (!decodeBase64(signature)) {
    out.push(finding('MALFORMED_SIGNATURE', 'error',
      `the Signature cannot be decoded: ${base64Hint(signature)} (CloudFront answers MalformedSignature)`,
      'Send the signature exactly as the signer made it, in CloudFront\'s URL-safe Base64.'))
  }
  return out
}

function checkTimes (statement: PolicyStatement, t: number, where: string): Finding[] {
  const out: Finding[] = []
  if (!(t < statement.expires)) {
    out.push(finding('EXPIRED', 'error', `${where} expired at ${when(statement.expires, t)}`,
      'Renew the grant before it ends (the player\'s progress reports renew it), and check that the signing ' +
        'server\'s clock is right.'))
  }
  if (statement.notBefore !== undefined && !(t > statement.notBefore)) {
    out.push(finding('NOT_YET_VALID', 'error', `${where} is valid only after ${when(statement.notBefore, t)}`,
      'Leave DateGreaterThan out, or set it in the past: the signing server\'s clock may be ahead.'))
  }
  return out
}

/** Whether the policy's Resource covers the URL: a canned set for a folder, no Resource, another folder, host case. */
function checkResource (input: GrantCheck, creds: SigningParameters, read: {
  statement: PolicyStatement,
  json: string | null
},
sentHost: string): Finding[] {
  const out: Finding[] = []
  const { statement } = read
  const canned = read.json === null
  const url = input.url
  if (canned && creds.mode === 'cookie') {
    // With the key, the signature tells whether it was signed for this one URL (a warning) or a folder.
    out.push(finding('CANNED_POLICY_FOR_PREFIX', input.keys?.has(creds.keyPairId as string) === true
      ? 'warning'
      : 'error',
    'the cookie set is canned (CloudFront-Expires): CloudFront rebuilds its policy from each request\'s URL, ' +
      'so it opens only the one URL it was signed for, not a folder',
    'Sign a custom policy for the prefix (Resource https://host/courses/42/*, sent as CloudFront-Policy): ' +
      'the plugin does for every grant.'))
  }
  if (!canned && statement.resource === undefined) {
    out.push(finding('POLICY_WITHOUT_RESOURCE', 'warning',
      'the Policy has no Resource: it opens every file of every distribution that trusts the key',
      'Always give a Resource limited to the granted prefix.'))
  }
  if (!canned && statement.resource !== undefined && !resourceMatches(statement.resource, url)) {
    out.push(resourceMismatch(statement.resource, url, creds.mode))
  }
  if (canned && input.givenUrl !== undefined) {
    out.push(finding('RESOURCE_MISMATCH', input.keys === null ? 'warning' : 'info',
      `host case: the URL was given as ${splitUrl(input.givenUrl)?.host ?? ''} and a browser sends ${sentHost}; ` +
      'a canned policy is rebuilt from what is sent',
      'Sign URLs with the host in lower case, exactly as the browser will request them.'))
  }
  return out
}

function resourceMismatch (resource: string, url: string, mode: SigningParameters['mode']): Finding {
  const other = otherFolder(resource, url)
  const why = `the policy does not cover this URL: ${explainMismatch(resource, url)}`
  if (other === null) {
    return finding('RESOURCE_MISMATCH', 'error', why,
      'Sign the Resource as the browser requests the media: same scheme (or *://), the CDN\'s host, ' +
      'the path percent-encoded as sent, ending in /* for a folder.')
  }
  // Signed right, for another folder: what is missing is the grant of this one.
  const what = mode === 'cookie' ? 'these cookies grant' : 'this signed URL grants'
  return finding('RESOURCE_MISMATCH', 'error',
    `${why}: ${what} ${other.granted}*, and the request is under ${other.needed}`,
    `The app did not grant ${other.needed} to this user: check its rules and authorize ` +
    `(authorize must return true for ${other.needed}), or call grant('${other.needed}') before the player requests ` +
      'it. ' +
    'The signing is not the cause.')
}

function checkIp (cidrText: string, clientIp: string | undefined): Finding[] {
  if (clientIp === undefined) {
    return [finding('IP_NOT_CHECKED', 'warning',
      `the grant is bound to ${cidrText}; no client address was given, so it was not compared`, 'Give the viewer\'s ' +
        'address (--ip) to check it.')]
  }
  const ip = normaliseClientIp(clientIp)
  if (ip === null) {
    return [finding(clientIp.includes(':') ? 'IPV6_CLIENT' : 'IP_MISMATCH', 'error', clientIp.includes(':')
      ? `the viewer's address ${clientIp} is IPv6 and the grant is bound to ${cidrText}: CloudFront policies hold ` +
        'IPv4 only, so an IPv6 viewer is refused'
      : `the client address ${clientIp.slice(0, 45)} is not an IP address`,
    'Sign without an IP condition, or turn IPv6 off on the distribution so viewers arrive over IPv4.')]
  }
  if (!ipInCidr(ip, tryParseCidr(cidrText) as NonNullable<ReturnType<typeof tryParseCidr>>)) {
    return [finding('IP_MISMATCH', 'error', `the grant is bound to ${cidrText} and the viewer's address is ${ip}`,
      'Bind the grant to the address CloudFront sees (behind a proxy, trust it so request.ip is the viewer\'s), or ' +
        'drop the IP condition for mobile viewers.')]
  }
  return []
}
