// The verifier judges requests as CloudFront does: it must accept every grant the signer makes, refuse every
// single-character change to one, answer with CloudFront's codes, and never throw on request input.
import t from 'tap'
import fc from 'fast-check'
import { sign as cryptoSign } from 'node:crypto'
import { createSigner, createVerifier, type VerifyResult } from '../../src/index.js'
import { rsaKey, ecKey, fixedNow, NOW_MS, NOW_S, caught, asRecord, type TapTest } from './helpers.js'
import { urlPartsArb, urlOf } from './arbitraries.js'

const MAX = 2147483647
const RSA_ID = 'K2JCJMDEHXQW5F'
const EC_ID = 'KECDSAP256TEST'
const rsa = rsaKey(2048)
const ec = ecKey('P-256')
const stranger = rsaKey(2048)

const signers = {
  rsa: {
    SHA1: createSigner({ keyPairId: RSA_ID, privateKey: rsa.privateKey, now: fixedNow }),
    SHA256: createSigner({ keyPairId: RSA_ID, privateKey: rsa.privateKey, now: fixedNow, hashAlgorithm: 'SHA256' })
  },
  ec: {
    SHA1: createSigner({ keyPairId: EC_ID, privateKey: ec.privateKey, now: fixedNow }),
    SHA256: createSigner({ keyPairId: EC_ID, privateKey: ec.privateKey, now: fixedNow, hashAlgorithm: 'SHA256' })
  }
}
const rsaSigner = signers.rsa.SHA1
const keys = { [RSA_ID]: rsa.publicPem, [EC_ID]: ec.publicPem }
const verifierAt = (ms: number, cacheSize?: number) => createVerifier({ keys, now: () => ms, ...(cacheSize === undefined ? {} : { cacheSize }) })
const verifier = verifierAt(NOW_MS)

// CloudFront's texts, written out here rather than read from the source.
const CF_MESSAGES = {
  MissingKey: 'Missing Key-Pair-Id query parameter or cookie value',
  InvalidKey: 'Unknown Key',
  MalformedSignature: 'Could not unencode Signature',
  MalformedPolicy: 'Malformed Policy',
  AccessDenied: 'Access denied'
} as const
type Code = keyof typeof CF_MESSAGES
function expectDenied (t: TapTest, r: VerifyResult, code: Code, msg: string): void {
  const got = r.ok ? { ok: true } : { ok: r.ok, status: r.status, code: r.code, message: r.message }
  t.strictSame(got, { ok: false, status: 403, code, message: CF_MESSAGES[code] }, msg)
}

function expectOk (t: TapTest, r: VerifyResult, mode: 'url' | 'cookie', msg: string): void {
  t.strictSame(r.ok ? { ok: true, mode: r.mode } : { ok: false, code: r.code, reason: r.reason }, { ok: true, mode }, msg)
}

const header = (cookies: object): string => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ')

/** CloudFront's URL-safe Base64 of a string, written independently of the encoder under test. */
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')

/** A policy signed directly with node:crypto, for policies our signer refuses to make. */
function rawSign (policy: string, hash: 'sha1' | 'sha256' = 'sha1', key = rsa.privateKey): string {
  return b64(cryptoSign(hash, Buffer.from(policy), key))
}

// ---- IPv4 oracle: bit strings, independent of src/core/ip.ts ----

const bitsOf = (ip: string): string => ip.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('')
const ipOfBits = (bits: string): string => [0, 8, 16, 24].map((i) => parseInt(bits.slice(i, i + 8), 2)).join('.')

const cidrArb = fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
  .map(([o, m]) => `${o.join('.')}/${m}`)

/** A CIDR and an address inside it. */
const cidrAndInsideArb = fc.tuple(cidrArb, fc.array(fc.boolean(), { minLength: 32, maxLength: 32 })).map(([cidr, rnd]) => {
  const [base, mask] = cidr.split('/') as [string, string]
  const m = Number(mask)
  const bits = bitsOf(base).slice(0, m) + rnd.slice(m).map((b) => (b ? '1' : '0')).join('')
  return { cidr, inside: ipOfBits(bits) }
})

// ---- Everything the signer makes is accepted ----

const hostFiller = fc.stringMatching(/^[a-z0-9]{1,6}$/)
const pathFiller = fc.stringMatching(/^[A-Za-z0-9._~-]{0,6}$/)

/** A resource and a URL it covers. */
const coveredArb = fc.tuple(urlPartsArb, pathFiller, hostFiller, fc.constantFrom('exact', 'star-tail', 'star-segment', 'any-scheme', 'query-qmark', 'host-star'))
  .map(([u, f, h, shape]) => {
    const q = u.query === undefined ? '' : `?${u.query}`
    const origin = `${u.scheme}://${u.host}`
    const dir = u.path.endsWith('/') ? u.path : u.path + '/'
    switch (shape) {
      case 'star-tail': return { resource: `${origin}${dir}*`, url: `${origin}${dir}${f}/${f}${q}` }
      case 'star-segment': return { resource: `${origin}${u.path}*${q}`, url: `${origin}${u.path}${f}${q}` }
      case 'any-scheme': return { resource: `*://${u.host}${u.path}${q}`, url: urlOf(u) }
      case 'query-qmark': return { resource: `${origin}${u.path}?${u.query ?? 'v=1'}&x=?`, url: `${origin}${u.path}?${u.query ?? 'v=1'}&x=${h[0]}` }
      case 'host-star': return { resource: `${u.scheme}://*.${u.host}${u.path}${q}`, url: `${u.scheme}://${h}.${u.host}${u.path}${q}` }
      default: return { resource: urlOf(u), url: urlOf(u) }
    }
  })

const grantArb = fc.record({
  covered: coveredArb,
  expires: fc.integer({ min: NOW_S + 1, max: MAX }),
  notBefore: fc.option(fc.integer({ min: 1, max: NOW_S - 1 }), { nil: undefined, freq: 2 }),
  ip: fc.option(cidrAndInsideArb, { nil: undefined, freq: 2 }),
  kind: fc.constantFrom('rsa' as const, 'ec' as const),
  hash: fc.constantFrom('SHA1' as const, 'SHA256' as const),
  ipv4Mapped: fc.boolean()
})

t.test('accepts every cookie set and signed URL the signer makes', async (t) => {
  let cookies = 0
  let urls = 0
  fc.assert(fc.property(grantArb, ({ covered, expires, notBefore, ip, kind, hash, ipv4Mapped }) => {
    const signer = signers[kind][hash]
    const opts = { expires, ...(notBefore === undefined ? {} : { notBefore }), ...(ip === undefined ? {} : { ipAddress: ip.cidr }) }
    const clientIp = ip === undefined ? undefined : (ipv4Mapped ? `::ffff:${ip.inside}` : ip.inside)
    const id = kind === 'rsa' ? RSA_ID : EC_ID

    const set = signer.signCookiesSync(covered.resource, opts)
    const cookieHeader = `theme=dark; ${header(set)}; CloudFrontX=1`
    const r1 = verifier.verify({ url: covered.url, cookieHeader, clientIp })
    if (!r1.ok) throw new Error(`cookie grant for ${covered.resource} refused at ${covered.url}: ${r1.code} ${r1.reason}`)
    if (r1.mode !== 'cookie' || r1.keyPairId !== id || r1.policy.expires !== expires || r1.policy.notBefore !== notBefore) {
      throw new Error(`wrong result ${JSON.stringify(r1)}`)
    }
    cookies++

    if (covered.resource.startsWith('*://')) return
    const signed = signer.signUrlSync(covered.url, { ...opts, resource: covered.resource })
    const r2 = verifier.verify({ url: signed, clientIp, cookieHeader: 'CloudFront-Key-Pair-Id=nobody' })
    if (!r2.ok) throw new Error(`signed URL ${signed} refused: ${r2.code} ${r2.reason}`)
    if (r2.mode !== 'url' || r2.keyPairId !== id) throw new Error(`wrong result ${JSON.stringify(r2)}`)
    urls++
  }), { numRuns: 300 })
  t.ok(cookies === 300, `${cookies} cookie sets accepted`)
  t.ok(urls > 150, `${urls} signed URLs accepted`)
})

t.test('the async signing path makes grants the verifier accepts', async (t) => {
  const url = 'https://media.example.com/courses/42/index.m3u8'
  for (const kind of ['rsa', 'ec'] as const) {
    for (const hash of ['SHA1', 'SHA256'] as const) {
      const s = signers[kind][hash]
      expectOk(t, verifier.verify({ url: await s.signUrl(url, { expiresIn: '15m' }) }), 'url', `${kind} ${hash} URL`)
      const set = await s.signCookies('https://media.example.com/courses/42/*', { expiresIn: 900 })
      expectOk(t, verifier.verify({ url, cookieHeader: header(set) }), 'cookie', `${kind} ${hash} cookies`)
    }
  }
})

// ---- Every single-character change is refused ----

const SUBSTITUTES = ['A', 'z', '0', '9', '-', '_', '~', '%', '&', '=', '?', '/', '.', '*', ' ', ';', '"', '+']
const INSERTS = ['A', '0', '&', '%', '*', '_']

/** Every string one deletion, substitution or insertion away from `s`, changing only positions in [from, to). */
function * singleChanges (s: string, from = 0, to = s.length): Generator<string> {
  for (let i = from; i < to; i++) {
    const c = s[i] as string
    yield s.slice(0, i) + s.slice(i + 1)
    const subs = new Set([...SUBSTITUTES, String.fromCharCode(c.charCodeAt(0) + 1), String.fromCharCode(c.charCodeAt(0) - 1), c.toUpperCase(), c.toLowerCase()])
    for (const r of subs) if (r !== c) yield s.slice(0, i) + r + s.slice(i + 1)
    for (const r of INSERTS) yield s.slice(0, i) + r + s.slice(i)
  }
  for (const r of INSERTS) if (to === s.length) yield s + r
}

/** An `&` inserted next to another (or at the end) adds an empty parameter: the same request under a wildcard that covers any query. */
function addsEmptyParameter (original: string, changed: string): boolean {
  if (changed.length !== original.length + 1) return false
  for (let i = 0; i < changed.length; i++) {
    if (changed[i] === '&' && changed.slice(0, i) + changed.slice(i + 1) === original &&
      (changed[i - 1] === '&' || changed[i + 1] === '&' || i === changed.length - 1)) return true
  }
  return false
}

/** Host names are case-insensitive: a case-only change there is the same request. */
function sameRequest (original: string, changed: string): boolean {
  const hostEnd = original.indexOf('/', original.indexOf('://') + 3)
  return changed.length === original.length &&
    changed.slice(0, hostEnd).toLowerCase() === original.slice(0, hostEnd).toLowerCase() &&
    changed.slice(hostEnd) === original.slice(hostEnd)
}

t.test('every single-character change to a signed URL is refused', async (t) => {
  const samples: Array<{ name: string, signed: string, clientIp?: string, from?: number, customPolicy: boolean, wildcard?: boolean }> = []
  const base = 'https://d111111abcdef8.cloudfront.net/videos/intro%20part.mp4?lang=en'
  samples.push({ name: 'canned, RSA, SHA-1', signed: rsaSigner.signUrlSync(base, { expires: NOW_S + 600 }), customPolicy: false })
  samples.push({
    name: 'custom (notBefore, IP), RSA, SHA-256',
    signed: signers.rsa.SHA256.signUrlSync(base, { expires: NOW_S + 600, notBefore: NOW_S - 60, ipAddress: '198.51.100.0/24' }),
    clientIp: '198.51.100.23',
    customPolicy: true
  })
  samples.push({ name: 'canned, ECDSA, SHA-256', signed: signers.ec.SHA256.signUrlSync(base, { expires: NOW_S + 600 }), customPolicy: false })
  // Under a wildcard the URL itself may vary: only the signing parameters are changed.
  const wild = rsaSigner.signUrlSync(base, { expires: NOW_S + 600, resource: 'https://d111111abcdef8.cloudfront.net/videos/*' })
  samples.push({ name: 'wildcard resource, parameters only', signed: wild, from: base.length + 1, customPolicy: true, wildcard: true })

  for (const s of samples) {
    const v = verifierAt(NOW_MS)
    expectOk(t, v.verify({ url: s.signed, clientIp: s.clientIp }), 'url', `${s.name}: the original is accepted`)
    const accepted: string[] = []
    let tried = 0
    for (const changed of singleChanges(s.signed, s.from ?? 0)) {
      if (changed === s.signed || (s.customPolicy && sameRequest(s.signed, changed))) continue
      if (s.wildcard && addsEmptyParameter(s.signed, changed)) continue
      tried++
      const r = v.verify({ url: changed, clientIp: s.clientIp })
      if (r.ok) accepted.push(changed)
    }
    t.strictSame(accepted, [], `${s.name}: all ${tried} changed URLs refused`)
    t.ok(tried > 5000, `${s.name}: ${tried} changes tried`)
  }
})

t.test('every single-character change to a cookie policy, signature, expiry or key id is refused', async (t) => {
  const url = 'https://media.example.com/courses/42/seg-001.ts'
  const sets = [
    { name: 'canned, RSA, SHA-1', url, set: asRecord(rsaSigner.signCookiesSync(url, { expires: NOW_S + 600 })) },
    { name: 'custom wildcard, ECDSA, SHA-256', url, set: asRecord(signers.ec.SHA256.signCookiesSync('https://media.example.com/courses/42/*', { expires: NOW_S + 600 })) },
    { name: 'custom IP, RSA, SHA-256', url, set: asRecord(signers.rsa.SHA256.signCookiesSync('https://media.example.com/courses/*', { expires: NOW_S + 600, ipAddress: '198.51.100.7' })) }
  ]
  for (const { name, url, set } of sets) {
    const v = verifierAt(NOW_MS)
    const clientIp = '198.51.100.7'
    expectOk(t, v.verify({ url, cookieHeader: header(set), clientIp }), 'cookie', `${name}: the original is accepted`)
    for (const cookie of Object.keys(set)) {
      const value = set[cookie] as string
      const accepted: string[] = []
      let tried = 0
      for (const changed of singleChanges(value)) {
        if (changed === value) continue
        tried++
        const r = v.verify({ url, cookieHeader: header({ ...set, [cookie]: changed }), clientIp })
        if (r.ok) accepted.push(changed)
      }
      t.strictSame(accepted, [], `${name}: ${tried} changes to ${cookie} refused`)
    }
  }
})

t.test('every single-character change to the policy JSON is refused', async (t) => {
  const url = 'https://media.example.com/courses/42/seg-001.ts'
  for (const [name, signer] of [['RSA', signers.rsa.SHA1], ['ECDSA', signers.ec.SHA256]] as const) {
    const set = signer.signCookiesSync('https://media.example.com/courses/42/*', { expires: NOW_S + 600, notBefore: NOW_S - 60 })
    const json = Buffer.from((set['CloudFront-Policy'] as string).replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64').toString()
    t.equal(json, `{"Statement":[{"Resource":"https://media.example.com/courses/42/*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW_S + 600}},"DateGreaterThan":{"AWS:EpochTime":${NOW_S - 60}}}}]}`, `${name}: the policy signed`)
    const v = verifierAt(NOW_MS)
    expectOk(t, v.verify({ url, cookieHeader: header(set) }), 'cookie', `${name}: the original is accepted`)
    const accepted: string[] = []
    let tried = 0
    for (const changed of singleChanges(json)) {
      if (changed === json) continue
      tried++
      const r = v.verify({ url, cookieHeader: header({ ...set, 'CloudFront-Policy': b64(changed) }) })
      if (r.ok) accepted.push(changed)
    }
    t.strictSame(accepted, [], `${name}: ${tried} changed policies refused`)
  }
})

// ---- CloudFront's codes ----

t.test('answers with CloudFront\'s codes and texts', async (t) => {
  const url = 'https://media.example.com/v/a.ts'
  const expires = NOW_S + 600
  const canned = rsaSigner.signUrlSync(url, { expires })
  const sig = new URL(canned).searchParams.get('Signature') as string
  const good = `Signature=${sig}&Key-Pair-Id=${RSA_ID}`
  const withPolicy = (policy: string, signature = rawSign(policy)) => `${url}?Policy=${b64(policy)}&Signature=${signature}&Key-Pair-Id=${RSA_ID}`
  const policyOf = (condition: object, extra: object = {}) => JSON.stringify({ Statement: [{ Resource: url, Condition: condition, ...extra }] })

  expectOk(t, verifier.verify({ url: canned }), 'url', 'the unchanged URL')

  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig}` }), 'MissingKey', 'no Key-Pair-Id in the URL')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig}&Key-Pair-Id=` }), 'MissingKey', 'an empty Key-Pair-Id')
  expectDenied(t, verifier.verify({ url, cookieHeader: `CloudFront-Expires=${expires}; CloudFront-Signature=${sig}` }), 'MissingKey', 'no CloudFront-Key-Pair-Id cookie')
  expectDenied(t, verifier.verify({ url }), 'MissingKey', 'no credentials at all')

  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig}&Key-Pair-Id=KUNKNOWN` }), 'InvalidKey', 'an unknown key id')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig}&Key-Pair-Id=${RSA_ID.toLowerCase()}` }), 'InvalidKey', 'key ids are case-sensitive')

  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'no Signature')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'an empty Signature')
  const standardB64 = cryptoSign('sha1', Buffer.from(`{"Statement":[{"Resource":"${url}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`), rsa.privateKey).toString('base64')
  t.match(standardB64, /[+/=]/, 'the standard Base64 form differs from CloudFront\'s')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${encodeURIComponent(standardB64)}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'standard Base64 (+, /, =)')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig.slice(0, -1)}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'a length that is not a multiple of 4')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig.slice(0, 10)}!${sig.slice(11)}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'a character outside the alphabet')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${sig.slice(0, 4)}_${sig.slice(5)}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'padding in the middle')
  // A 2048-bit signature is 256 bytes: its last Base64 character before the padding carries 2 bits and 4 zero bits.
  const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~'
  t.equal(sig.slice(-2), '__', 'a 256-byte signature ends in two padding characters')
  const lastData = sig.length - 3
  const nonCanonical = sig.slice(0, lastData) + ALPHA[ALPHA.indexOf(sig[lastData] as string) | 1] + sig.slice(lastData + 1)
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Signature=${nonCanonical}&Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'non-zero trailing bits')
  expectDenied(t, verifier.verify({ url, cookieHeader: `CloudFront-Expires=${expires}; CloudFront-Signature=abc; CloudFront-Key-Pair-Id=${RSA_ID}` }), 'MalformedSignature', 'a malformed signature cookie')

  expectDenied(t, verifier.verify({ url: `${url}?${good}` }), 'MalformedPolicy', 'neither Expires nor Policy')
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${expires}&Policy=${b64(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } }))}&${good}` }), 'MalformedPolicy', 'both Expires and Policy')
  for (const bad of ['abc', '-1', '1.5', '+1700000600', '2147483648', '99999999999', ' 1700000600', '']) {
    expectDenied(t, verifier.verify({ url: `${url}?Expires=${encodeURIComponent(bad)}&${good}` }), 'MalformedPolicy', `Expires=${JSON.stringify(bad)}`)
  }
  expectDenied(t, verifier.verify({ url: `${url}?Policy=not*base64&${good}` }), 'MalformedPolicy', 'a Policy outside the alphabet')
  expectDenied(t, verifier.verify({ url: `${url}?Policy=${b64('{"Statement":')}&${good}` }), 'MalformedPolicy', 'a Policy that is not JSON')
  const badPolicies: Array<[string, string]> = [
    ['two statements', JSON.stringify({ Statement: [JSON.parse(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } })).Statement[0], JSON.parse(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } })).Statement[0]] })],
    ['no statement', '{"Statement":[]}'],
    ['Statement not a list', JSON.stringify({ Statement: { Resource: url, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } } })],
    ['a fractional DateLessThan', policyOf({ DateLessThan: { 'AWS:EpochTime': expires + 0.5 } })],
    ['a DateLessThan given as a string', policyOf({ DateLessThan: { 'AWS:EpochTime': String(expires) } })],
    ['a DateLessThan past 2147483647', policyOf({ DateLessThan: { 'AWS:EpochTime': 2147483648 } })],
    ['no DateLessThan', policyOf({ DateGreaterThan: { 'AWS:EpochTime': 1 } })],
    ['a fractional DateGreaterThan', policyOf({ DateLessThan: { 'AWS:EpochTime': expires }, DateGreaterThan: { 'AWS:EpochTime': 1.5 } })],
    ['an unknown condition', policyOf({ DateLessThan: { 'AWS:EpochTime': expires }, StringLike: { 'aws:Referer': '*' } })],
    ['an IPv6 source', policyOf({ DateLessThan: { 'AWS:EpochTime': expires }, IpAddress: { 'AWS:SourceIp': '2001:db8::/32' } })],
    ['a bad CIDR', policyOf({ DateLessThan: { 'AWS:EpochTime': expires }, IpAddress: { 'AWS:SourceIp': '10.0.0.0/33' } })],
    ['an unknown statement field', policyOf({ DateLessThan: { 'AWS:EpochTime': expires } }, { Effect: 'Allow' })],
    ['an unknown top-level field', JSON.stringify({ Version: '2012-10-17', ...JSON.parse(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } })) })]
  ]
  for (const [what, policy] of badPolicies) {
    expectDenied(t, verifier.verify({ url: withPolicy(policy) }), 'MalformedPolicy', `a policy with ${what}`)
  }
  expectDenied(t, verifier.verify({ url, cookieHeader: `CloudFront-Policy=e30_; CloudFront-Signature=${sig}; CloudFront-Key-Pair-Id=${RSA_ID}` }), 'MalformedPolicy', 'a cookie policy "{}"')

  expectDenied(t, verifier.verify({ url: withPolicy(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } }), rawSign('x', 'sha1', stranger.privateKey)) }), 'AccessDenied', 'a signature by another key')
  expectDenied(t, verifier.verify({ url: withPolicy(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } }), rawSign(policyOf({ DateLessThan: { 'AWS:EpochTime': expires } }), 'sha256')) }), 'AccessDenied', 'a SHA-256 signature without the marker')
  expectDenied(t, verifier.verify({ url: `${canned}&Hash-Algorithm=SHA256` }), 'AccessDenied', 'a SHA-1 signature with the SHA-256 marker')
  expectDenied(t, verifier.verify({ url: `${canned}&Hash-Algorithm=sha256` }), 'AccessDenied', 'a lower-case marker')
  expectDenied(t, verifier.verify({ url: `${canned}&Hash-Algorithm=SHA512` }), 'AccessDenied', 'an unknown marker')
  expectDenied(t, verifier.verify({ url: `${canned}&Expires=${expires}` }), 'AccessDenied', 'a repeated parameter')
  expectDenied(t, verifier.verify({ url: canned.replace('/v/a.ts', '/v/b.ts') }), 'AccessDenied', 'another URL')
  expectDenied(t, verifier.verify({ url: '/v/a.ts?' + canned.split('?')[1] }), 'AccessDenied', 'a URL that is not absolute')
  expectDenied(t, verifierAt((expires + 1) * 1000).verify({ url: canned }), 'AccessDenied', 'an expired grant')
})

t.test('a policy without Resource is honoured for every URL, as CloudFront does (the signer never makes one)', async (t) => {
  const policy = JSON.stringify({ Statement: [{ Condition: { DateLessThan: { 'AWS:EpochTime': NOW_S + 60 } } }] })
  t.throws(() => rsaSigner.signCookiesSync({ policy }), { code: 'FST_ERR_CF_INVALID_POLICY' })
  const cookieHeader = header({ 'CloudFront-Policy': b64(policy), 'CloudFront-Signature': rawSign(policy), 'CloudFront-Key-Pair-Id': RSA_ID })
  const r = verifier.verify({ url: 'https://anything.example.net/any/file', cookieHeader })
  expectOk(t, r, 'cookie', 'accepted')
  t.equal(r.ok && r.policy.resource, undefined, 'reported without a resource')
})

// ---- Precedence ----

t.test('URL parameters take precedence over cookies', async (t) => {
  const url = 'https://media.example.com/courses/42/seg-001.ts'
  const cookies = header(rsaSigner.signCookiesSync('https://media.example.com/courses/42/*', { expires: NOW_S + 600 }))
  expectOk(t, verifier.verify({ url, cookieHeader: cookies }), 'cookie', 'the cookies alone are accepted')
  for (const name of ['Expires', 'Policy', 'Signature', 'Key-Pair-Id']) {
    const r = verifier.verify({ url: `${url}?${name}=x`, cookieHeader: cookies })
    t.equal(r.ok, false, `a lone ${name} parameter makes it a signed URL: good cookies are ignored`)
  }
  expectDenied(t, verifier.verify({ url: `${url}?Expires=${NOW_S + 600}&Signature=AAAA`, cookieHeader: cookies }), 'MissingKey', 'the URL is judged, not the cookies')
  const withOwnQuery = `${url}?quality=720p&hls=1`
  expectOk(t, verifier.verify({ url: withOwnQuery, cookieHeader: cookies }), 'cookie', 'other query parameters leave the cookies in charge')
  // Hash-Algorithm is not one of the four names that make a signed URL.
  expectOk(t, verifier.verify({ url: `${url}?Hash-Algorithm=SHA256`, cookieHeader: cookies }), 'cookie', 'a lone Hash-Algorithm parameter leaves the cookies in charge')

  const signed = rsaSigner.signUrlSync(url, { expires: NOW_S + 600 })
  const junk = 'CloudFront-Policy=junk; CloudFront-Signature=junk; CloudFront-Key-Pair-Id=KUNKNOWN'
  expectOk(t, verifier.verify({ url: signed, cookieHeader: junk }), 'url', 'a good signed URL wins over bad cookies')
  const otherSigned = rsaSigner.signUrlSync('https://media.example.com/other.ts', { expires: NOW_S + 600 })
  expectDenied(t, verifier.verify({ url: `${url}?${otherSigned.split('?')[1]}`, cookieHeader: cookies }), 'AccessDenied', 'bad URL parameters are not rescued by good cookies')
})

t.test('duplicate cookies: identical values count once, differing ones are refused', async (t) => {
  const url = 'https://media.example.com/courses/42/a/seg.ts'
  const a = rsaSigner.signCookiesSync('https://media.example.com/courses/42/*', { expires: NOW_S + 600 })
  const b = rsaSigner.signCookiesSync('https://media.example.com/courses/42/a/*', { expires: NOW_S + 600 })
  expectOk(t, verifier.verify({ url, cookieHeader: `${header(a)}; ${header(a)}` }), 'cookie', 'the same set twice')
  expectDenied(t, verifier.verify({ url, cookieHeader: `${header(b)}; ${header(a)}` }), 'AccessDenied', 'two different sets (overlapping Paths)')
  expectOk(t, verifier.verify({ url, cookieHeader: header(a).split('; ').map((c) => c.replace('=', '="') + '"').join('; ') }), 'cookie', 'quoted cookie values')
})

// ---- Wildcards, section by section, on the raw URL ----

const MATCHES: Array<[string, Array<[string, boolean]>]> = [
  ['https://h.example.com/a/*', [
    ['https://h.example.com/a/', true],
    ['https://h.example.com/a/b/c.ts', true],
    ['https://h.example.com/a/x?q=1&r=2', true],
    ['https://H.EXAMPLE.COM/a/x', true],
    ['https://h.example.com/a', false],
    ['https://h.example.com/b/a/x', false],
    ['https://h.example.com/A/x', false],
    ['http://h.example.com/a/x', false],
    ['https://h.example.com.evil.net/a/x', false],
    ['https://h.example.com:8443/a/x', false]
  ]],
  ['https://h/a%20b/*', [
    ['https://h/a%20b/x', true],
    ['https://h/a%2520b/x', false],
    ['https://h/a+b/x', false],
    ['https://h/a b/x', false]
  ]],
  ['https://h/a%2Fb', [
    ['https://h/a%2Fb', true],
    ['https://h/a/b', false],
    ['https://h/a%2fb', false]
  ]],
  ['https://h/x/../secret/*', [
    ['https://h/x/../secret/file', true],
    ['https://h/secret/file', false]
  ]],
  ['https://h/it%27s/*', [
    ['https://h/it%27s/a', true],
    ['https://h/it\'s/a', false]
  ]],
  ['*://h/p', [
    ['https://h/p', true],
    ['http://h/p', true],
    ['ftp://h/p', false],
    ['https://h/p?x=1', false]
  ]],
  ['https://*.example.com/p', [
    ['https://a.example.com/p', true],
    ['https://a.b.example.com/p', true],
    ['https://example.com/p', false],
    ['https://a.example.com/x/p', false]
  ]],
  ['https://h*/p', [
    ['https://hq/p', true],
    ['https://hq/y/p', false]
  ]],
  ['https://h/p?v=?', [
    ['https://h/p?v=1', true],
    ['https://h/p?v=', false],
    ['https://h/p?v=12', false]
  ]],
  ['https://h/p?a=*', [
    ['https://h/p?a=1&b=2', true],
    ['https://h/p?a=', true],
    ['https://h/p', false],
    ['https://h/p?b=1', false]
  ]],
  ['https://h/p*', [
    ['https://h/p', true],
    ['https://h/pq', true],
    ['https://h/p/q?x=1', true],
    ['https://h/q', false]
  ]],
  ['https://h/p', [
    ['https://h/p', true],
    ['https://h/p?x=1', false],
    ['https://h/p/', false],
    ['https://h/P', false]
  ]],
  ['https://h/*?a=1', [
    ['https://h/x?a=1', true],
    ['https://h/x/y?a=1', true],
    ['https://h/x?b=2&a=1', false],
    ['https://h/x?a=1&b=2', false],
    ['https://h/x', false]
  ]],
  ['https://h/*.ts', [
    ['https://h/x/y.ts', true],
    ['https://h/x.ts?z=1', false],
    ['https://h/x.tsx', false]
  ]],
  // A literal `*` in the request does not stop the pattern's `*` from being a wildcard.
  ['https://h/a*', [
    ['https://h/a*', true],
    ['https://h/a*b/c', true],
    ['https://h/b*', false]
  ]],
  ['https://h/*/x*', [
    ['https://h/*/x', true],
    ['https://h/a/b/x/y', true],
    ['https://h/a/b/y', false]
  ]],
  // In the path, `?` starts the query: this Resource is path /a with query c.
  ['https://h/a?c', [
    ['https://h/a?c', true],
    ['https://h/abc', false]
  ]]
]

t.test('wildcards match section by section on the raw, percent-encoded URL', async (t) => {
  for (const [resource, cases] of MATCHES) {
    // notBefore forces a custom policy, so the Resource is matched as written even when it has no wildcard.
    const set = rsaSigner.signCookiesSync(resource, { expires: NOW_S + 600, notBefore: NOW_S - 60 })
    for (const [url, expected] of cases) {
      const r = verifier.verify({ url, cookieHeader: header(set) })
      if (expected) expectOk(t, r, 'cookie', `${resource} covers ${url}`)
      else expectDenied(t, r, 'AccessDenied', `${resource} does not cover ${url}`)
    }
  }
})

t.test('a canned grant opens exactly the URL it was made for', async (t) => {
  const url = 'https://h/p?x=1'
  const set = rsaSigner.signCookiesSync(url, { expires: NOW_S + 600 })
  t.ok('CloudFront-Expires' in set, 'the canned set')
  expectOk(t, verifier.verify({ url, cookieHeader: header(set) }), 'cookie', 'the URL itself')
  for (const other of ['https://h/p?x=2', 'https://h/p', 'https://h/p?x=1&y=2', 'http://h/p?x=1']) {
    expectDenied(t, verifier.verify({ url: other, cookieHeader: header(set) }), 'AccessDenied', other)
  }
})

// ---- Time bounds ----

t.test('strict time bounds: valid while notBefore < now < expires, in whole seconds', async (t) => {
  const url = 'https://media.example.com/v/a.ts'
  const expires = NOW_S + 600
  const notBefore = NOW_S - 600
  const signedUrl = rsaSigner.signUrlSync(url, { expires, notBefore })
  const cookieHeader = header(rsaSigner.signCookiesSync(url, { expires, notBefore }))
  const at: Array<[number, boolean, string]> = [
    [notBefore * 1000 - 1, false, 'before notBefore'],
    [notBefore * 1000, false, 'at notBefore'],
    [notBefore * 1000 + 999, false, 'within the notBefore second'],
    [(notBefore + 1) * 1000, true, 'one second after notBefore'],
    [NOW_MS, true, 'between'],
    [expires * 1000 - 1, true, 'the last millisecond before expires'],
    [expires * 1000, false, 'at expires'],
    [expires * 1000 + 1, false, 'after expires']
  ]
  for (const [ms, valid, what] of at) {
    // A cached verification must not outlive the time checks: each clock shares one verifier.
    const v = verifierAt(ms)
    for (const [mode, req] of [['url', { url: signedUrl }], ['cookie', { url, cookieHeader }]] as const) {
      const r1 = v.verify(req)
      const r2 = v.verify(req)
      if (valid) expectOk(t, r1, mode, `${mode}: ${what}`)
      else expectDenied(t, r1, 'AccessDenied', `${mode}: ${what}`)
      t.strictSame(r2, r1, `${mode}: ${what}, again from the cache`)
    }
  }
})

t.test('a cached verification does not outlive the grant', async (t) => {
  let clock = NOW_MS
  const v = createVerifier({ keys, now: () => clock })
  const signed = rsaSigner.signUrlSync('https://media.example.com/v/a.ts', { expires: NOW_S + 10 })
  expectOk(t, v.verify({ url: signed }), 'url', 'first check')
  expectOk(t, v.verify({ url: signed }), 'url', 'second check')
  t.strictSame(v.stats(), { verifications: 1, cacheHits: 1 }, 'the second came from the cache')
  clock = (NOW_S + 10) * 1000
  expectDenied(t, v.verify({ url: signed }), 'AccessDenied', 'refused once expired, cache or not')

  const uncached = verifierAt(NOW_MS, 0)
  uncached.verify({ url: signed })
  uncached.verify({ url: signed })
  t.strictSame(uncached.stats(), { verifications: 2, cacheHits: 0 }, 'cacheSize 0 verifies every time')
  t.throws(() => createVerifier({ keys, cacheSize: -1 }), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => createVerifier({ keys, cacheSize: 1.5 }), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => createVerifier({ keys, now: 5 as unknown as () => number }), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => createVerifier({} as unknown as Parameters<typeof createVerifier>[0]), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => createVerifier({ keys: { K: 'not a key' } }), { code: 'FST_ERR_CF_INVALID_KEY' })
})

// ---- Client addresses ----

t.test('IPv4 CIDR conditions, IPv4-mapped IPv6 normalised, other IPv6 refused', async (t) => {
  const url = 'https://media.example.com/v/a.ts'
  const cases: Array<[string, Array<[string | undefined, boolean]>]> = [
    ['203.0.113.0/24', [
      ['203.0.113.7', true],
      ['203.0.113.0', true],
      ['203.0.113.255', true],
      ['203.0.114.7', false],
      ['203.0.112.255', false],
      ['::ffff:203.0.113.7', true],
      ['::FFFF:203.0.113.7', true],
      ['::ffff:203.0.114.7', false],
      ['2001:db8::1', false],
      ['::1', false],
      ['203.0.113.07', false],
      [' 203.0.113.7', false],
      ['203.0.113.7:443', false],
      ['', false],
      [undefined, false]
    ]],
    ['203.0.113.7', [
      ['203.0.113.7', true],
      ['203.0.113.8', false]
    ]],
    ['0.0.0.0/0', [
      ['1.2.3.4', true],
      ['255.255.255.255', true],
      ['::ffff:1.2.3.4', true],
      ['2001:db8::1', false],
      [undefined, false]
    ]],
    ['128.0.0.0/1', [
      ['128.0.0.1', true],
      ['255.0.0.1', true],
      ['127.255.255.255', false]
    ]]
  ]
  for (const [cidr, ips] of cases) {
    const signedUrl = rsaSigner.signUrlSync(url, { expires: NOW_S + 600, ipAddress: cidr })
    const cookieHeader = header(rsaSigner.signCookiesSync(url, { expires: NOW_S + 600, ipAddress: cidr }))
    for (const [clientIp, allowed] of ips) {
      for (const req of [{ url: signedUrl, clientIp }, { url, cookieHeader, clientIp }]) {
        const r = verifier.verify(req)
        const what = `${cidr} ${allowed ? 'admits' : 'refuses'} ${JSON.stringify(clientIp)} (${req.url === url ? 'cookie' : 'url'})`
        if (allowed) t.equal(r.ok, true, what)
        else expectDenied(t, r, 'AccessDenied', what)
      }
    }
  }
})

t.test('CIDR membership agrees with a bitwise oracle', async (t) => {
  const cidrs = new Map<string, string>()
  fc.assert(fc.property(cidrArb, fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (cidr, octets) => {
    const ip = octets.join('.')
    const [base, mask] = cidr.split('/') as [string, string]
    const expected = bitsOf(ip).slice(0, Number(mask)) === bitsOf(base).slice(0, Number(mask))
    let cookieHeader = cidrs.get(cidr)
    if (cookieHeader === undefined) {
      cookieHeader = header(rsaSigner.signCookiesSync('https://h/*', { expires: NOW_S + 600, ipAddress: cidr }))
      cidrs.set(cidr, cookieHeader)
    }
    return verifier.verify({ url: 'https://h/x', cookieHeader, clientIp: ip }).ok === expected
  }), { numRuns: 300 })
  fc.assert(fc.property(cidrAndInsideArb, ({ cidr, inside }) => {
    const cookieHeader = header(rsaSigner.signCookiesSync('https://h/*', { expires: NOW_S + 600, ipAddress: cidr }))
    return verifier.verify({ url: 'https://h/x', cookieHeader, clientIp: inside }).ok
  }), { numRuns: 200 })
  t.pass('membership matches the bit-string oracle')
})

// ---- Arbitrary bytes ----

const CODES = new Set(Object.keys(CF_MESSAGES))
/** The reason the verifier gives when its own code threw: it must never be reached from request input. */
const INTERNAL = 'the request could not be judged'

function wellFormed (r: VerifyResult): boolean {
  if (r.ok) return r.mode === 'url' || r.mode === 'cookie'
  return r.status === 403 && CODES.has(r.code) && r.message === CF_MESSAGES[r.code as Code] && r.reason !== INTERNAL
}

t.test('never throws on request input, whatever the bytes', async (t) => {
  const signed = rsaSigner.signUrlSync('https://media.example.com/v/a.ts', { expires: NOW_S + 600 })
  const cookies = header(signers.ec.SHA256.signCookiesSync('https://media.example.com/v/*', { expires: NOW_S + 600, notBefore: NOW_S - 5, ipAddress: '10.0.0.0/8' }))
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'binary-ascii', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(...'%?&=/:*~-_.;" CloudFront-PolicySignatureExpiresKey-Pair-IdHash-Algorithm'.split('')), maxLength: 120 })
  )
  // Arbitrary text, alone or spliced into real signed requests.
  const urlArb = fc.oneof(
    anyText,
    anyText.map((s) => `https://media.example.com/${s}`),
    fc.tuple(fc.nat({ max: signed.length }), anyText).map(([i, s]) => signed.slice(0, i) + s + signed.slice(i)),
    fc.tuple(fc.nat({ max: signed.length }), fc.nat({ max: 20 })).map(([i, n]) => signed.slice(0, i) + signed.slice(i + n))
  )
  const cookieArb = fc.oneof(
    fc.constant(undefined),
    anyText,
    fc.tuple(fc.nat({ max: cookies.length }), anyText).map(([i, s]) => cookies.slice(0, i) + s + cookies.slice(i))
  )
  const ipArb = fc.oneof(fc.constant(undefined), anyText, fc.ipV4(), fc.ipV6(), fc.ipV4().map((ip) => `::ffff:${ip}`))
  fc.assert(fc.property(urlArb, cookieArb, ipArb, (url, cookieHeader, clientIp) => {
    const r = verifier.verify({ url, cookieHeader, clientIp })
    if (!wellFormed(r)) throw new Error(`malformed result ${JSON.stringify(r)}`)
  }), { numRuns: 3000 })

  // Values of the wrong type reach a verifier when it is called from JavaScript.
  fc.assert(fc.property(fc.anything(), fc.anything(), fc.anything(), (url, cookieHeader, clientIp) => {
    const r = verifier.verify({ url, cookieHeader, clientIp } as never)
    if (r.ok || r.status !== 403 || !CODES.has(r.code)) throw new Error(`malformed result ${JSON.stringify(r)}`)
  }), { numRuns: 500 })
  for (const request of [undefined, null, 42, 'https://h/p', {}, []]) {
    const r = verifier.verify(request as never)
    t.equal(caught(() => verifier.verify(request as never)), undefined, `does not throw on ${JSON.stringify(request)}`)
    t.match(r, { ok: false, status: 403, code: 'AccessDenied' }, `refuses ${JSON.stringify(request)}`)
  }
})
