// Property tests against @aws-sdk/cloudfront-signer: for every input the SDK handles correctly, our policy bytes,
// signatures (RSA is deterministic) and cookie sets must equal its output. ECDSA signatures differ on every call,
// so there both signatures are checked with the public key over the same policy bytes.
import t from 'tap'
import fc from 'fast-check'
import { verify as cryptoVerify } from 'node:crypto'
import { getSignedCookies, getSignedUrl } from '@aws-sdk/cloudfront-signer'
import { createSigner, type Signer } from '../../src/index.js'
import { rsaKey, ecKey, fixedNow, NOW_S, splitSigned, fromCloudFrontBase64, type TestKey } from './helpers.js'
import { urlPartsArb, urlOf } from './arbitraries.js'

const MAX = 2147483647
const KEY_PAIR_ID = 'K2JCJMDEHXQW5F'
const RUNS = 150

type KeyKind = 'rsa' | 'ec'
type Hash = 'SHA1' | 'SHA256'

const keys: Record<KeyKind, TestKey> = { rsa: rsaKey(2048), ec: ecKey('P-256') }
const signers = {} as Record<KeyKind, Record<Hash, Signer>>
for (const kind of ['rsa', 'ec'] as const) {
  signers[kind] = {} as Record<Hash, Signer>
  for (const hash of ['SHA1', 'SHA256'] as const) {
    signers[kind][hash] = createSigner({ keyPairId: KEY_PAIR_ID, privateKey: keys[kind].privatePem, hashAlgorithm: hash, now: fixedNow })
  }
}

// ---- Inputs ----

interface Times { expires: number, notBefore: number | undefined, form: 'seconds' | 'date' | 'date-ms', jitter: number }
const timesArb: fc.Arbitrary<Times> = fc.integer({ min: NOW_S + 1, max: MAX }).chain((expires) => fc.record({
  expires: fc.constant(expires),
  notBefore: fc.option(fc.integer({ min: 1, max: expires - 1 }), { nil: undefined, freq: 2 }),
  form: fc.constantFrom('seconds' as const, 'date' as const, 'date-ms' as const),
  // A Date with milliseconds rounds to the nearest second, as the SDK rounds it.
  jitter: fc.integer({ min: -500, max: 499 })
}))

const ipArb = fc.option(
  fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }))
    .map(([octets, mask]) => octets.join('.') + (mask === undefined ? '' : `/${mask}`)),
  { nil: undefined, freq: 2 }
)

const keyKindArb = fc.constantFrom<KeyKind>('rsa', 'ec')
const hashArb = fc.constantFrom<Hash>('SHA1', 'SHA256')

/** What we hand our signer: seconds or a Date; what we hand the SDK: always a Date (it reads numbers as milliseconds). */
function timeInputs (times: Times): { ours: { expires: number | Date, notBefore?: number | Date }, sdk: { dateLessThan: Date, dateGreaterThan?: Date } } {
  const toDate = (s: number): Date => new Date(s * 1000 + (times.form === 'date-ms' ? times.jitter : 0))
  const ours: { expires: number | Date, notBefore?: number | Date } = { expires: times.form === 'seconds' ? times.expires : toDate(times.expires) }
  const sdk: { dateLessThan: Date, dateGreaterThan?: Date } = { dateLessThan: ours.expires instanceof Date ? ours.expires : toDate(times.expires) }
  if (times.notBefore !== undefined) {
    ours.notBefore = times.form === 'seconds' ? times.notBefore : toDate(times.notBefore)
    sdk.dateGreaterThan = ours.notBefore instanceof Date ? ours.notBefore : toDate(times.notBefore)
  }
  return { ours, sdk }
}

// ---- Expected values written independently of src/core ----

function cidrText (ip: string): string {
  return ip.includes('/') ? ip : `${ip}/32`
}

function expectedCannedPolicy (resource: string, expires: number): string {
  return JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] })
}

function expectedCustomPolicy (resource: string, expires: number, notBefore?: number, ip?: string): string {
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': expires } }
  if (notBefore !== undefined) condition.DateGreaterThan = { 'AWS:EpochTime': notBefore }
  if (ip !== undefined) condition.IpAddress = { 'AWS:SourceIp': cidrText(ip) }
  return JSON.stringify({ Statement: [{ Resource: resource, Condition: condition }] })
}

/** A resource is a wildcard when it has `*`, or a `?` other than the one that starts the query. */
function isWildcard (resource: string): boolean {
  return resource.includes('*') || resource.indexOf('?') !== resource.lastIndexOf('?')
}

function sigValid (kind: KeyKind, hash: Hash, policyJson: string, signature: string): boolean {
  return cryptoVerify(hash === 'SHA256' ? 'sha256' : 'sha1', Buffer.from(policyJson), keys[kind].publicKey, fromCloudFrontBase64(signature))
}

/** A cookie set with string values (the SDK returns CloudFront-Expires as a number). */
function flat (out: object): Record<string, string> {
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, String(v)]))
}

function expectedCookieNames (canned: boolean, hash: Hash): string[] {
  const names = [canned ? 'CloudFront-Expires' : 'CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id']
  if (hash === 'SHA256') names.push('CloudFront-Hash-Algorithm')
  return names
}

/** Compares a cookie set with the SDK's: equal for RSA; for ECDSA equal but for the signatures, which must both verify. */
function sameAsSdk (kind: KeyKind, hash: Hash, policyJson: string, ours: Record<string, string>, sdk: Record<string, string>): string | null {
  if (kind === 'rsa') {
    if (JSON.stringify(Object.entries(ours).sort()) !== JSON.stringify(Object.entries(sdk).sort())) {
      return `differs from the SDK:\n ours ${JSON.stringify(ours)}\n sdk  ${JSON.stringify(sdk)}`
    }
  } else {
    const strip = (c: Record<string, string>): string => JSON.stringify(Object.entries(c).filter(([k]) => !/Signature$/.test(k)).sort())
    if (strip(ours) !== strip(sdk)) return `differs from the SDK:\n ours ${strip(ours)}\n sdk  ${strip(sdk)}`
    const sdkSig = sdk['CloudFront-Signature'] ?? sdk.Signature as string
    if (!sigValid(kind, hash, policyJson, sdkSig)) return 'the SDK signature does not verify (oracle broken)'
  }
  const ourSig = ours['CloudFront-Signature'] ?? ours.Signature as string
  if (!sigValid(kind, hash, policyJson, ourSig)) return 'our signature does not verify with the public key'
  return null
}

// ---- Cookies ----

// A resource for cookies: an exact URL, or a wildcard made from one (a `*` tail, a `?` in the query, or `*://`).
const cookieResourceArb = fc.tuple(urlPartsArb, fc.constantFrom('exact', 'star-tail', 'star-segment', 'any-scheme', 'query-qmark'))
  .map(([u, shape]) => {
    switch (shape) {
      case 'star-tail': return `${u.scheme}://${u.host}${u.path.endsWith('/') ? u.path : u.path + '/'}*`
      case 'star-segment': return `${u.scheme}://${u.host}${u.path}*${u.query === undefined ? '' : `?${u.query}`}`
      case 'any-scheme': return `*://${u.host}${u.path}${u.query === undefined ? '' : `?${u.query}`}`
      case 'query-qmark': return `${u.scheme}://${u.host}${u.path}?${u.query ?? 'v=1'}&x=?`
      default: return urlOf(u)
    }
  })

t.test('cookie sets equal the SDK for generated resources, times, IPs, keys and hashes', async (t) => {
  let sdkDirect = 0
  let sdkViaPolicy = 0
  await fc.assert(fc.asyncProperty(cookieResourceArb, timesArb, ipArb, keyKindArb, hashArb, fc.boolean(),
    async (resource, times, ip, kind, hash, useAsync) => {
      const signer = signers[kind][hash]
      const { ours: oursTimes, sdk: sdkTimes } = timeInputs(times)
      const opts = { ...oursTimes, ...(ip === undefined ? {} : { ipAddress: ip }) }
      const ours = flat(useAsync ? await signer.signCookies(resource, opts) : signer.signCookiesSync(resource, opts))

      const wildcard = isWildcard(resource)
      const canned = !wildcard && times.notBefore === undefined && ip === undefined
      const policyJson = canned
        ? expectedCannedPolicy(resource, times.expires)
        : expectedCustomPolicy(resource, times.expires, times.notBefore, ip)
      const names = expectedCookieNames(canned, hash)
      if (JSON.stringify(Object.keys(ours).sort()) !== JSON.stringify([...names].sort())) throw new Error(`cookie names ${Object.keys(ours)}`)
      if (canned && ours['CloudFront-Expires'] !== String(times.expires)) throw new Error('CloudFront-Expires')
      if (!canned && fromCloudFrontBase64(ours['CloudFront-Policy'] as string).toString() !== policyJson) throw new Error('policy bytes')
      if (hash === 'SHA256' && ours['CloudFront-Hash-Algorithm'] !== 'SHA256') throw new Error('CloudFront-Hash-Algorithm')

      // The SDK cannot take `*://`, and wrongly emits the canned set for a wildcard with only an expiry:
      // there it signs our expected policy bytes instead.
      const direct = !resource.startsWith('*://') && !(wildcard && times.notBefore === undefined && ip === undefined)
      const common = { keyPairId: KEY_PAIR_ID, privateKey: keys[kind].privatePem, algorithm: hash }
      const sdk = flat(direct
        ? getSignedCookies({ ...common, url: resource, ...sdkTimes, ...(ip === undefined ? {} : { ipAddress: ip }) })
        : getSignedCookies({ ...common, policy: policyJson }))
      if (direct) sdkDirect++
      else sdkViaPolicy++
      const diff = sameAsSdk(kind, hash, policyJson, ours, sdk)
      if (diff) throw new Error(diff)
    }), { numRuns: RUNS * 2 })
  t.ok(sdkDirect > RUNS / 2, `SDK called with the same options ${sdkDirect} times`)
  t.ok(sdkViaPolicy > RUNS / 4, `SDK called with our expected policy ${sdkViaPolicy} times`)
})

t.test('expiresIn counts from the injected clock, as the SDK counts from a Date', async (t) => {
  const durationArb = fc.oneof(
    // Bare numbers that read as milliseconds (multiples of 1000 from 100000) are refused: see the guards.
    fc.integer({ min: 1, max: 10_000_000 }).filter((n) => n < 100_000 || n % 1000 !== 0).map((n) => ({ input: n as number | string, seconds: n })),
    fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom(['s', 1], ['m', 60], ['h', 3600], ['d', 86400]))
      .map(([n, [unit, mult]]) => ({ input: `${n}${unit}`, seconds: n * (mult as number) }))
  )
  const url = 'https://d111111abcdef8.cloudfront.net/v/index.m3u8'
  await fc.assert(fc.property(durationArb, hashArb, (d, hash) => {
    const ours = flat(signers.rsa[hash].signCookiesSync(url, { expiresIn: d.input }))
    const sdk = flat(getSignedCookies({
      url, keyPairId: KEY_PAIR_ID, privateKey: keys.rsa.privatePem, algorithm: hash, dateLessThan: new Date((NOW_S + d.seconds) * 1000)
    }))
    return JSON.stringify(Object.entries(ours).sort()) === JSON.stringify(Object.entries(sdk).sort())
  }), { numRuns: 60 })
  t.pass('expiresIn signs what the SDK signs for now + duration')
})

// ---- Signed URLs ----

const OUR_ORDER_CANNED = ['Expires', 'Signature', 'Key-Pair-Id']
const OUR_ORDER_CUSTOM = ['Policy', 'Signature', 'Key-Pair-Id']

/** Byte positions of `path` where a cut does not split a %XX escape. */
function safeCuts (path: string): number[] {
  const cuts: number[] = []
  for (let i = 1; i <= path.length; i++) {
    if (path[i - 1] !== '%' && path[i - 2] !== '%') cuts.push(i)
  }
  return cuts
}

// How a URL is signed: under its own exact resource, or under a wildcard resource that covers it.
const urlCaseArb = urlPartsArb.chain((u) => fc.record({
  u: fc.constant(u),
  resource: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    fc.constantFrom(...safeCuts(u.path)).map((cut) => `${u.scheme}://${u.host}${u.path.slice(0, cut)}*`),
    fc.constant(`*://${u.host}/*`)
  )
}))

t.test('signed URLs equal the SDK and carry Expires|Policy, Signature, Key-Pair-Id, Hash-Algorithm in that order', async (t) => {
  let canned = 0
  let custom = 0
  await fc.assert(fc.asyncProperty(urlCaseArb, timesArb, ipArb, keyKindArb, hashArb, fc.boolean(),
    async ({ u, resource }, times, ip, kind, hash, useAsync) => {
      const url = urlOf(u)
      const signer = signers[kind][hash]
      const { ours: oursTimes, sdk: sdkTimes } = timeInputs(times)
      const opts = { ...oursTimes, ...(ip === undefined ? {} : { ipAddress: ip }), ...(resource === undefined ? {} : { resource }) }
      const signed = useAsync ? await signer.signUrl(url, opts) : signer.signUrlSync(url, opts)

      // A resource equal to the URL is the URL itself: canned, as when no resource is given.
      const isCanned = (resource === undefined || resource === url) && times.notBefore === undefined && ip === undefined
      if (isCanned) canned++
      else custom++
      const policyJson = isCanned
        ? expectedCannedPolicy(url, times.expires)
        : expectedCustomPolicy(resource ?? url, times.expires, times.notBefore, ip)

      const ourParts = splitSigned(signed, url)
      if (!ourParts) throw new Error(`the signed URL does not start with the URL: ${signed}`)
      const names = ourParts.params.map(([k]) => k)
      const expectedNames = [...(isCanned ? OUR_ORDER_CANNED : OUR_ORDER_CUSTOM), ...(hash === 'SHA256' ? ['Hash-Algorithm'] : [])]
      if (names.join('&') !== expectedNames.join('&')) throw new Error(`parameter order ${names.join('&')}`)
      const ourParams = Object.fromEntries(ourParts.params)
      if (isCanned && ourParams.Expires !== String(times.expires)) throw new Error('Expires')
      if (!isCanned && fromCloudFrontBase64(ourParams.Policy as string).toString() !== policyJson) throw new Error('Policy bytes')
      if (hash === 'SHA256' && ourParams['Hash-Algorithm'] !== 'SHA256') throw new Error('Hash-Algorithm')

      const common = { keyPairId: KEY_PAIR_ID, privateKey: keys[kind].privatePem, algorithm: hash, url }
      const sdkSigned = resource === undefined || resource === url
        ? getSignedUrl({ ...common, ...sdkTimes, ...(ip === undefined ? {} : { ipAddress: ip }) })
        : getSignedUrl({ ...common, policy: policyJson })
      const sdkParts = splitSigned(sdkSigned, url)
      if (!sdkParts) throw new Error(`the SDK changed the URL (generator not canonical): ${url} -> ${sdkSigned}`)
      const diff = sameAsSdk(kind, hash, policyJson, ourParams, Object.fromEntries(sdkParts.params))
      if (diff) throw new Error(diff)
    }), { numRuns: RUNS * 2 })
  t.ok(canned > RUNS / 10, `${canned} canned URLs`)
  t.ok(custom > RUNS / 2, `${custom} custom URLs`)
})

// ---- Raw policies, signed exactly as given ----

const rawPolicyArb = fc.tuple(urlPartsArb, timesArb, ipArb, fc.constantFrom(0, 2), fc.boolean()).chain(([u, times, ip, indent, starTail]) => {
  const conditions: Array<[string, unknown]> = [['DateLessThan', { 'AWS:EpochTime': times.expires }]]
  if (times.notBefore !== undefined) conditions.push(['DateGreaterThan', { 'AWS:EpochTime': times.notBefore }])
  if (ip !== undefined) conditions.push(['IpAddress', { 'AWS:SourceIp': cidrText(ip) }])
  const url = urlOf(u)
  const resource = starTail ? `${u.scheme}://${u.host}/*` : url
  return fc.record({
    url: fc.constant(url),
    // Any key order and layout is the caller's choice and must be signed as is.
    conditions: fc.shuffledSubarray(conditions, { minLength: conditions.length }),
    statementOrder: fc.boolean()
  }).map(({ url, conditions, statementOrder }) => {
    const condition = Object.fromEntries(conditions)
    const statement = statementOrder ? { Resource: resource, Condition: condition } : { Condition: condition, Resource: resource }
    return { url, policy: JSON.stringify({ Statement: [statement] }, null, indent) }
  })
})

t.test('raw policies: cookies and URLs equal the SDK, and the policy bytes are the caller\'s', async (t) => {
  await fc.assert(fc.asyncProperty(rawPolicyArb, keyKindArb, hashArb, async ({ url, policy }, kind, hash) => {
    const signer = signers[kind][hash]
    const common = { keyPairId: KEY_PAIR_ID, privateKey: keys[kind].privatePem, algorithm: hash, policy }
    const cookies = flat(await signer.signCookies({ policy }))
    if (fromCloudFrontBase64(cookies['CloudFront-Policy'] as string).toString() !== policy) throw new Error('cookie policy bytes')
    const cookieDiff = sameAsSdk(kind, hash, policy, cookies, flat(getSignedCookies(common)))
    if (cookieDiff) throw new Error(cookieDiff)

    const signed = signer.signUrlSync(url, { policy })
    const ourParts = splitSigned(signed, url)
    const sdkParts = splitSigned(getSignedUrl({ ...common, url }), url)
    if (!ourParts || !sdkParts) throw new Error('signed URL base changed')
    const names = ourParts.params.map(([k]) => k).join('&')
    if (names !== ['Policy', 'Signature', 'Key-Pair-Id', ...(hash === 'SHA256' ? ['Hash-Algorithm'] : [])].join('&')) throw new Error(`order ${names}`)
    const urlDiff = sameAsSdk(kind, hash, policy, Object.fromEntries(ourParts.params), Object.fromEntries(sdkParts.params))
    if (urlDiff) throw new Error(urlDiff)
  }), { numRuns: RUNS })
  t.pass('raw policies sign like the SDK')
})
