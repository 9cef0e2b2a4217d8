// The URLs and cookie sets the peer SDKs emit, rebuilt from their test cases exactly as each peer
// sends them (its parameter order and markers), for the verifier and edge replays.
import { createPrivateKey } from 'node:crypto'
import { privateKeyOf, peerSign, toCfB64, assemble, cookieHeader, urlUnder, queryMap, fromCfB64, type PeerCase, type PeerFile } from './helpers.js'

export interface PeerOutput { url: string, cookieHeader?: string, policy: string }

function policyOf (file: PeerFile, c: PeerCase): string | undefined {
  const given = c.expected.policyJson ?? c.input.policy ?? c.expected.signatureVerifiesOver ?? c.expected.policyJsonImplied
  // A case that states no policy signed the SEP one (Resource, DateLessThan, DateGreaterThan, IpAddress), as .NET's cases show.
  // js-v3 re-encodes its input, so only the policies its cases state are what it signed.
  if (given !== undefined || file.name === 'aws-sdk-js-v3' || typeof c.input.dateLessThan !== 'number') return given
  const i = c.input
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': i.dateLessThan } }
  if (i.dateGreaterThan !== undefined) condition.DateGreaterThan = { 'AWS:EpochTime': i.dateGreaterThan }
  if (i.ipAddress !== undefined) condition.IpAddress = { 'AWS:SourceIp': i.ipAddress }
  return JSON.stringify({ Statement: [{ Resource: i.resource ?? i.url, Condition: condition }] })
}

/** The signature the peer sent: its literal, or what its test computes (RSA PKCS#1 v1.5 is deterministic). */
function signatureOf (file: PeerFile, c: PeerCase, policy: string): string | undefined {
  const e = c.expected
  const literal = e.signature ?? e.queryParamsExact?.Signature ?? e.queryParams?.Signature ?? e.cookies?.['CloudFront-Signature'] ??
    e.cookiesExact?.['CloudFront-Signature'] ?? e.cookiesSubset?.['CloudFront-Signature']
  if (literal !== undefined) return literal
  const pem = privateKeyOf(file, c) as string
  return pem.includes('EC PRIVATE') || createPrivateKey(pem).asymmetricKeyType !== 'rsa' ? undefined : peerSign(pem, c.hashAlgorithm, policy)
}

/** Is the policy the peer signed the canned one (so it sends Expires, not Policy)? */
function isCanned (file: PeerFile, c: PeerCase): boolean {
  const e = c.expected
  if (typeof c.input.policy === 'string') return false
  // js-v3 sends a canned set whenever only an expiry is given, wildcard or not.
  if (file.name === 'aws-sdk-js-v3') return c.input.dateGreaterThan === undefined && c.input.ipAddress === undefined
  return [e.queryParams, e.queryParamsExact, e.cookies, e.cookiesExact].some((m) => m?.Expires !== undefined || m?.['CloudFront-Expires'] !== undefined)
}

/** The signed URL or cookie set as the peer emits it, or null when its test publishes no signature. */
export function peerOutput (file: PeerFile, c: PeerCase): PeerOutput | null {
  const e = c.expected
  if (privateKeyOf(file, c) === null || e.error === true || c.kind === 'verify') return null
  if (typeof e.signedUrl === 'string' && e.signedUrl.startsWith('http')) return { url: e.signedUrl, policy: policyOf(file, c) ?? fromCfB64(queryMap(e.signedUrl).Policy as string).toString() }
  const policy = policyOf(file, c)
  if (policy === undefined) return null
  const signature = signatureOf(file, c, policy)
  if (signature === undefined) return null
  const canned = isCanned(file, c)
  const expires = String(JSON.parse(policy).Statement?.[0]?.Condition?.DateLessThan?.['AWS:EpochTime'])
  const marker = file.name === 'aws-sdk-net' ? c.hashAlgorithm : c.hashAlgorithm === 'SHA256' ? 'SHA256' : undefined
  if (c.kind === 'url') {
    // js-v3 takes the URL from the policy's Resource when none is given.
    // js-v3 sends the URL it encoded, which is the canned Resource.
    const jsEncoded = file.name === 'aws-sdk-js-v3' && canned ? JSON.parse(policy).Statement[0].Resource : undefined
    const base = (e.signedUrlTemplate as string | undefined)?.split('?')[0] ?? jsEncoded ?? e.applyTo ?? c.input.url ?? c.input.resource ?? JSON.parse(policy).Statement?.[0]?.Resource
    if (typeof base !== 'string' || !base.startsWith('http')) return null
    const first: [string, string] = canned ? ['Expires', expires] : ['Policy', toCfB64(policy)]
    const params: Array<[string, string]> = file.name === 'aws-sdk-js-v3'
      ? [first, ['Key-Pair-Id', c.keyPairId as string], ['Signature', signature]]
      : [first, ['Signature', signature], ['Key-Pair-Id', c.keyPairId as string]]
    if (marker !== undefined) params.push(['Hash-Algorithm', marker])
    const ownQuery = c.input.url?.includes('?') === true && !base.includes('?') ? c.input.url.slice(c.input.url.indexOf('?')) : ''
    return { url: assemble(base + ownQuery, params), policy }
  }
  const cookies: Record<string, string> = {}
  if (canned) cookies['CloudFront-Expires'] = expires
  else cookies['CloudFront-Policy'] = toCfB64(policy)
  cookies['CloudFront-Signature'] = signature
  cookies['CloudFront-Key-Pair-Id'] = c.keyPairId as string
  if (marker !== undefined) cookies['CloudFront-Hash-Algorithm'] = marker
  const resource = JSON.parse(policy).Statement?.[0]?.Resource ?? c.input.url
  const url = typeof c.input.url === 'string' ? urlUnder(c.input.url) : typeof resource === 'string' ? urlUnder(resource) : 'https://d111111abcdef8.cloudfront.net/private-content/private.jpeg'
  return { url, cookieHeader: cookieHeader(cookies), policy }
}
