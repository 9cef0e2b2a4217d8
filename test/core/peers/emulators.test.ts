// The accept/deny matrices of two CloudFront emulators (floci, kumo), replayed through this verifier
// with keys made here. They are each one emulator's reading of AWS's documentation: where this
// verifier reads it otherwise, the case is listed in AGAINST with the reason.
import t from 'tap'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createVerifier, type VerifyResult } from '../../../src/index.js'
import type { TapTest } from '../helpers.js'
import { load, peerSign, toCfB64, cookieHeader, assemble, type PeerCase } from './helpers.js'

const floci = load('floci')
const kumo = load('kumo')
const KEYS = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
  ec: generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
}
const KID = 'APKAEXAMPLEKEYID'

/** floci's deny reasons, as the CloudFront error code this verifier answers with. */
const FLOCI_CODES: Array<[RegExp, string]> = [
  [/^Missing CloudFront signature/, 'MissingKey'],
  [/is not a trusted signer/, 'InvalidKey'],
  [/not valid CloudFront base64|exactly one statement|missing a DateLessThan|cannot both be supplied/, 'MalformedPolicy'],
  [/hash algorithm|expired|does not match|not yet valid|Source IP/, 'AccessDenied']
]

/** Where this verifier reads the documentation otherwise than the emulator. */
const AGAINST: Record<string, string> = {
  'floci-rsa-1024-key-rejected': 'CloudFront still accepts legacy 1024-bit key pairs (the SEP vectors use one); the signer warns, the verifier accepts',
  'floci-cookie-custom-resource-star-rejected': 'CloudFront documents Resource "*" for custom policies; floci refuses it for cookies only',
  'floci-wildcard-47': 'a Resource must begin with http://, https:// or *:// (or be "*"); "*d123.cloudfront.net" matches nothing here',
  'floci-ipincidr-56': 'a bare address is one address (/32), as the SEP and Java v2 send it; floci matches nothing',
  'floci-strip-params-59': 'parameter names are compared as sent (nothing is decoded): %45xpires stays an application parameter',
  'kumo-verify-signature-sha256-algo-case-insensitive': 'CloudFront documents the markers SHA1 and SHA256 as written; "sha256" is refused, as floci does',
  'kumo-edge-sha256-cookie-accepted': 'CloudFront caps epoch times at 2147483647: a DateLessThan of 9999999999 is a malformed policy (replayed below with 2147483647)',
  'kumo-edge-sha1-cookie-no-hash-accepted': 'the same epoch cap'
}

function keyFor (c: PeerCase): { privateKey: KeyObject, publicKey: KeyObject } {
  const trusted = String(c.input.trustedKey ?? '')
  return trusted.includes('EC') ? KEYS.ec : trusted.includes('1024') ? KEYS.rsa1024 : KEYS.rsa
}

function verifierAt (nowSeconds: number, publicKey: KeyObject): ReturnType<typeof createVerifier> {
  return createVerifier({ keys: { [KID]: publicKey }, now: () => nowSeconds * 1000, cacheSize: 0 })
}

/** A custom policy for `resource`, signed with the RSA key, as a cookie header. */
function signedCookies (policy: string, hash = 'SHA1', signedPolicy = policy): string {
  const cookies: Record<string, string> = { 'CloudFront-Policy': toCfB64(policy), 'CloudFront-Signature': peerSign(KEYS.rsa.privateKey, hash, signedPolicy), 'CloudFront-Key-Pair-Id': KID }
  if (hash === 'SHA256') cookies['CloudFront-Hash-Algorithm'] = 'SHA256'
  return cookieHeader(cookies)
}

const policyFor = (resource: string | undefined, condition: object): string =>
  JSON.stringify({ Statement: [{ ...(resource === undefined ? {} : { Resource: resource }), Condition: condition }] })

/** floci's signed requests: placeholders filled with a real signature and policy. */
function flociRequest (c: PeerCase): { url: string, cookieHeader?: string, clientIp?: string, publicKey: KeyObject } {
  const i = c.input
  const { privateKey, publicKey } = keyFor(c)
  const policy = i.signedPolicy ?? policyFor('https://d123.cloudfront.net/private/*', { DateLessThan: { 'AWS:EpochTime': 1767229200 } })
  const hash = String(i.signAlg ?? 'SHA1').startsWith('SHA256') ? 'SHA256' : 'SHA1'
  const fillIn = (v: string): string => v.startsWith('<sign') ? peerSign(privateKey, hash, policy) : v.startsWith('<b64') ? toCfB64(policy) : v
  const query = Object.entries(i.query ?? {}).map(([k, v]) => [k, fillIn(String(v))] as [string, string])
  const url = query.length > 0 ? assemble(i.resourceUrl, query) : i.resourceUrl
  const cookies = i.cookies === undefined ? undefined : Object.fromEntries(Object.entries(i.cookies).map(([k, v]) => [k, fillIn(String(v))]))
  return { url, cookieHeader: cookies === undefined ? undefined : cookieHeader(cookies), clientIp: i.sourceIp ?? undefined, publicKey }
}

function expectVerdict (t: TapTest, c: PeerCase, result: VerifyResult, want: boolean, code?: string): void {
  if (want) t.match(result, { ok: true }, `${c.id}: accepted`)
  else t.match(result, code === undefined ? { ok: false, status: 403 } : { ok: false, status: 403, code }, `${c.id}: refused${code === undefined ? '' : ` (${code})`}`)
}

function flociCode (c: PeerCase): string | undefined {
  return FLOCI_CODES.find(([re]) => re.test(String(c.expected.code ?? '')))?.[1]
}

/** floci's helper functions, through the verifier: a policy with the pattern (or the CIDR) signed here. */
function flociFunction (t: TapTest, c: PeerCase, want: boolean): void {
  const i = c.input
  const now = 1767225600
  const dlt = { DateLessThan: { 'AWS:EpochTime': now + 3600 } }
  const verifier = verifierAt(now, KEYS.rsa.publicKey)
  if (i.function === 'wildcardMatches') {
    const policy = policyFor(i.pattern, dlt)
    expectVerdict(t, c, verifier.verify({ url: i.url, cookieHeader: signedCookies(policy) }), want, want ? undefined : 'AccessDenied')
    const signed = assemble(i.url, [['Policy', toCfB64(policy)], ['Signature', peerSign(KEYS.rsa.privateKey, 'SHA1', policy)], ['Key-Pair-Id', KID]])
    expectVerdict(t, c, verifier.verify({ url: signed }), want, want ? undefined : 'AccessDenied')
  } else if (i.function === 'ipInCidr') {
    const policy = policyFor('https://d123.cloudfront.net/*', { ...dlt, IpAddress: { 'AWS:SourceIp': i.cidr } })
    expectVerdict(t, c, verifier.verify({ url: 'https://d123.cloudfront.net/a.jpg', cookieHeader: signedCookies(policy), clientIp: i.ip }), want)
  } else {
    // stripCloudFrontSigningParams: a canned signature over the URL with what is kept must pass.
    const base = 'https://d123.cloudfront.net/file.jpg'
    const kept = want ? c.expected.value : 'color=blue&encoded=a%2Fb&%45xpires=123'
    const policy = i.rawQuery.includes('Policy=')
      ? policyFor(`${base}?${kept as string}`, dlt)
      : JSON.stringify({ Statement: [{ Resource: `${base}?${kept as string}`, Condition: { DateLessThan: { 'AWS:EpochTime': now + 3600 } } }] })
    const hash = i.rawQuery.includes('Hash-Algorithm=SHA256') ? 'SHA256' : 'SHA1'
    let query = String(i.rawQuery).replace('Signature=sig', `Signature=${peerSign(KEYS.rsa.privateKey, hash, policy)}`)
      .replace('Key-Pair-Id=key', `Key-Pair-Id=${KID}`).replace('Policy=opaque', `Policy=${toCfB64(policy)}`)
    if (!query.includes('Policy=')) query += `&Expires=${now + 3600}&Key-Pair-Id=${KID}`
    t.match(verifier.verify({ url: `${base}?${query}` }), { ok: true }, `${c.id}: kept "${kept as string}" of "${i.rawQuery as string}"`)
  }
}

for (const c of floci.cases) {
  t.test(`floci: ${c.id}`, async (t) => {
    const against = AGAINST[c.id]
    const want = against === undefined ? c.expected.ok === true : c.expected.ok !== true
    if (c.input.function !== undefined) return flociFunction(t, c, want)
    const req = flociRequest(c)
    const verifier = verifierAt(c.input.now, req.publicKey)
    const result = verifier.verify({ url: req.url, cookieHeader: req.cookieHeader, clientIp: req.clientIp })
    expectVerdict(t, c, result, want, want ? undefined : flociCode(c))
    if (against !== undefined) t.comment(`against floci: ${against}`)
  })
}

/** kumo's cases carry no URL: a CloudFront one stands in. */
const KUMO_URL = 'https://d123.cloudfront.net/file.txt'

function kumoCase (t: TapTest, c: PeerCase, want: boolean): void {
  const i = c.input
  if (i.function === 'evaluatePolicy') {
    const verifier = verifierAt(i.now, KEYS.rsa.publicKey)
    const clientIp = String(i.remoteAddr).replace(/:\d+$/, '')
    expectVerdict(t, c, verifier.verify({ url: KUMO_URL, cookieHeader: signedCookies(i.policyJson), clientIp }), want, want ? undefined : 'AccessDenied')
  } else if (i.function === 'verifySignature') {
    const now = 1_700_000_000
    const policy = policyFor('*', { DateLessThan: { 'AWS:EpochTime': now + 600 } })
    const signature = peerSign(KEYS.rsa.privateKey, i.signedWith.endsWith('SHA256') ? 'SHA256' : 'SHA1', policy)
    // kumo reads an absent marker as an empty value.
    const params: Array<[string, string]> = [['Policy', toCfB64(policy)], ['Signature', signature], ['Key-Pair-Id', KID]]
    if (i.hashAlgorithmValue !== '') params.push(['Hash-Algorithm', i.hashAlgorithmValue])
    expectVerdict(t, c, verifierAt(now, KEYS.rsa.publicKey).verify({ url: assemble(KUMO_URL, params) }), want, want ? undefined : 'AccessDenied')
  } else if (i.function !== undefined) {
    const raw = String(i.requestUrl)
    const url = raw.startsWith('/') ? `http://localhost:4566${raw}` : raw
    const expires = Number(/Expires=(\d+)/.exec(url)?.[1])
    const resource = c.expected.resourceUrl ?? url.slice(0, url.indexOf('?'))
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] })
    const signed = url.replace('Signature=sig', `Signature=${peerSign(KEYS.rsa.privateKey, 'SHA1', policy)}`).replace('Key-Pair-Id=KID', `Key-Pair-Id=${KID}`)
    const result = verifierAt(expires - 60, KEYS.rsa.publicKey).verify({ url: signed })
    t.match(result, { ok: true, mode: 'url', policy: { resource, expires } }, `${c.id}: the canned policy is rebuilt from ${resource}`)
    if (c.expected.credentials !== undefined) t.equal((result as { policy: { expires: number } }).policy.expires, c.expected.credentials.Expires, `${c.id}: Expires`)
  } else if (i.cookies !== undefined) {
    const hash = c.hashAlgorithm
    const mismatch = c.id.includes('mismatch')
    const signedOver = mismatch ? i.policyJson.replace('9999999999', '9999999998') : i.policyJson
    const verifier = verifierAt(1_700_000_000, KEYS.rsa.publicKey)
    expectVerdict(t, c, verifier.verify({ url: KUMO_URL, cookieHeader: signedCookies(i.policyJson, hash, signedOver) }), want, want ? undefined : 'MalformedPolicy')
    const capped = i.policyJson.replace('9999999999', '2147483647')
    expectVerdict(t, c, verifier.verify({ url: KUMO_URL, cookieHeader: signedCookies(capped, hash, mismatch ? signedOver : capped) }), !mismatch, mismatch ? 'AccessDenied' : undefined)
  } else {
    expectVerdict(t, c, verifierAt(1_700_000_000, KEYS.rsa.publicKey).verify({ url: `http://localhost:4566${String(i.requestUrl)}` }), want, 'MissingKey')
  }
}

for (const c of kumo.cases) {
  t.test(`kumo: ${c.id}`, async (t) => {
    const against = AGAINST[c.id]
    kumoCase(t, c, against === undefined ? c.expected.ok === true : c.expected.ok !== true)
    if (against !== undefined) t.comment(`against kumo: ${against}`)
  })
}

t.test('the emulators\' matrices, counted', async (t) => {
  const all = [...floci.cases, ...kumo.cases]
  for (const id of Object.keys(AGAINST)) t.ok(all.some((c) => c.id === id), `${id} is an emulator case`)
  t.comment(`${all.length} emulator cases pass: ${all.length - Object.keys(AGAINST).length} agree with the emulator, ${Object.keys(AGAINST).length} read otherwise on purpose`)
})
