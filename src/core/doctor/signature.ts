// The signature, when public keys are given: does it match, and if not, what was signed instead
// (the other hash algorithm, another key, the URL before the browser lower-cased its host, the
// other scheme, another percent-encoding, or, for a canned cookie set, a folder).
import { verify, type KeyObject } from 'node:crypto'
import { decodeBase64 } from '../encoding.js'
import { loadPublicKey, type KeyInput } from '../keys.js'
import { cannedPolicy, type PolicyStatement } from '../policy.js'
import { createVerifier } from '../verifier.js'
import type { SigningParameters } from '../verifier.js'
import { splitUrl } from '../url.js'
import { finding, type Finding } from './findings.js'

export interface DoctorKeys {
  has: (id: string) => boolean
  ids: () => Iterable<string>
  get: (id: string) => KeyObject
  /** Judges like the local edge, with these keys. */
  verdict: (url: string, cookieHeader: string | undefined, clientIp: string | undefined,
    now: number) => ReturnType<ReturnType<typeof createVerifier>['verify']>
}

/** Parses the public keys once (a bad key is the caller's coded error, never a finding). */
export function loadDoctorKeys (keys: Record<string, KeyInput>): DoctorKeys {
  const map = new Map<string, KeyObject>()
  for (const [id, input] of Object.entries(keys)) map.set(id, loadPublicKey(input).key)
  const record = Object.fromEntries(map)
  return {
    has: (id) => map.has(id),
    ids: () => map.keys(),
    get: (id) => map.get(id) as KeyObject,
    verdict: (url, cookieHeader, clientIp, now) => createVerifier({
      keys: record,
      now: () => now,
      cacheSize: 0
    }).verify({ url, cookieHeader, clientIp })
  }
}

export interface SignatureCheck {
  creds: SigningParameters
  statement: PolicyStatement
  /** The decoded custom policy; null for a canned one. */
  json: string | null
  url: string
  givenUrl: string | undefined
  keys: DoctorKeys
  keyPairId: string
  clientIp: string | undefined
  now: number
}

function matches (json: string, algorithm: string, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(algorithm, Buffer.from(json, 'utf8'), key, signature)
  } catch {
    return false
  }
}

function variants (url: string, cookie: boolean, given: string | undefined): Array<[string, Finding]> {
  const out: Array<[string, Finding]> = []
  const parts = splitUrl(url) as NonNullable<ReturnType<typeof splitUrl>>
  const fix = 'Sign exactly the URL the browser requests: lower-case host, the scheme it uses, the path ' +
    'percent-encoded as sent.'
  const givenHost = given === undefined ? undefined : splitUrl(given)?.host
  if (givenHost !== undefined && givenHost !== parts.host) {
    out.push([url.replace(parts.host, givenHost),
      finding('RESOURCE_MISMATCH', 'error',
      `host case: the signature is for ${givenHost}, and a browser sends the host in lower case (${parts.host}); ` +
      'a canned policy is rebuilt from what is sent', fix)])
  }
  const other = parts.scheme === 'https' ? 'http' : 'https'
  out.push([`${other}${url.slice(parts.scheme.length)}`, finding('RESOURCE_MISMATCH', 'error',
    `scheme: the signature is for ${other}:// and the request is ${parts.scheme}://`, fix)])
  let plain = url
  try {
    plain = decodeURI(url)
  } catch {}
  for (const alt of new Set([plain, encodeURI(plain), url.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase()),
    url.replace(/%[0-9A-F]{2}/gi, (e) => e.toLowerCase())])) {
    if (alt !== url) {
      out.push([alt, finding('RESOURCE_MISMATCH', 'error',
      `encoding: the signature is for ${alt.slice(alt.indexOf(parts.host) +
        parts.host.length)}, and the request sends ${parts.path}${parts.query === null
? ''
          : `?${parts.query}`}`, fix)])
    }
  }
  if (cookie) {
    const origin = `${parts.scheme}://${parts.host}`
    let dir = parts.path
    while (dir.lastIndexOf('/') > 0 || dir.length > 1) {
      dir = dir.slice(0, dir.lastIndexOf('/', dir.length - 2) + 1)
      for (const resource of [`${origin}${dir}*`, `*://${parts.host}${dir}*`]) {
        out.push([resource, finding('CANNED_POLICY_FOR_PREFIX', 'error',
          `the cookie set was signed as a canned policy for ${resource}: CloudFront rebuilds a canned policy from ` +
            'the request URL, never a wildcard, so it is refused (MalformedPolicy or AccessDenied)',
          'Sign a custom policy for the prefix (sent as CloudFront-Policy): @aws-sdk/cloudfront-signer does so only ' +
            'when given a policy; the plugin always does.')])
      }
      if (dir === '/') break
    }
  }
  return out
}

/** Adds the signature's verdict to the findings so far. */
export function checkSignature (out: Finding[], c: SignatureCheck): Finding[] {
  const signature = decodeBase64(c.creds.signature as string) as Buffer
  const announced = c.creds.hashAlgorithm === 'SHA256' ? 'sha256' : 'sha1'
  const key = c.keys.get(c.keyPairId)
  const json = c.json ?? cannedPolicy(c.creds.resourceUrl, c.statement.expires)
  const canned = c.json === null
  const cookie = c.creds.mode === 'cookie'
  const kept = out.filter((f) => !(canned && (f.code === 'CANNED_POLICY_FOR_PREFIX' || f.code === 'RESOURCE_MISMATCH')))
  if (matches(json, announced, key, signature)) {
    if (canned && cookie) {
      kept.push(finding('CANNED_POLICY_FOR_PREFIX', 'warning',
        'the canned cookie set is signed for exactly this URL: CloudFront refuses it for every other file, ' +
        'such as the next segment', 'Sign a custom policy for the folder (CloudFront-Policy).'))
    }
    return kept
  }
  const other = announced === 'sha1' ? 'sha256' : 'sha1'
  if (matches(json, other, key, signature)) {
    return [...kept, finding('HASH_ALGORITHM', 'error', `the signature is ${other === 'sha256'
? 'SHA-256'
      : 'SHA-1'} and the request announces ${announced === 'sha256' ? 'SHA-256' : 'SHA-1 (no Hash-Algorithm)'}`,
    other === 'sha256'
      ? `Send ${cookie
? 'CloudFront-Hash-Algorithm=SHA256'
        : 'Hash-Algorithm=SHA256'} with SHA-256 signatures.`
      : 'Drop the Hash-Algorithm marker, or sign with SHA-256.')]
  }
  for (const id of c.keys.ids()) {
    if (id !== c.keyPairId && (matches(json, announced, c.keys.get(id), signature) || matches(json, other,
      c.keys.get(id), signature))) {
      return [...kept, finding('SIGNATURE_INVALID', 'error',
        `the signature was made with key ${id}, and the Key-Pair-Id says ${c.keyPairId}`, 'Send the Key-Pair-Id of ' +
          'the key that signed (after a rotation, both must change together).')]
    }
  }
  if (canned) {
    for (const [variant, found] of variants(c.creds.resourceUrl, cookie, c.givenUrl)) {
      if (matches(cannedPolicy(variant, c.statement.expires), announced, key, signature)) return [...kept, found]
    }
  }
  return [...kept, finding('SIGNATURE_INVALID', 'error', `the signature does not match the ${canned
    ? 'canned policy rebuilt from this URL'
: 'policy'} and key ${c.keyPairId}`,
  canned && cookie
    ? 'A canned cookie set opens one exact URL: sign a custom policy for the folder instead. Otherwise the set was ' +
        'changed after signing, or signed with another key.'
    : 'Send the policy and signature exactly as signed, with the key ID of the private key that signed them (and ' +
        'the public key given here must be that key\'s).')]
}
