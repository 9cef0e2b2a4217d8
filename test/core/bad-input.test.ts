// Every input the signer must refuse, each with its code, on the sync and the async path,
// and never with key material in the message or stack.
import t from 'tap'
import { createSigner, type Signer, type SignerOptions } from '../../src/index.js'
import { rsaKey, fixedNow, NOW_MS, NOW_S, caught, rejected, leakedSecrets, type TapTest } from './helpers.js'

const PASSPHRASE = 'ledger-otter-5521-quartz'
const key = rsaKey(2048)
const encryptedPem = key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string
const SECRETS = { pems: [key.privatePem, encryptedPem], passphrases: [PASSPHRASE] }
const KEY_ID = 'K2JCJMDEHXQW5F'
const signer = createSigner({ keyPairId: KEY_ID, privateKey: encryptedPem, passphrase: PASSPHRASE, now: fixedNow })

const URL_ = 'https://media.example.com/courses/42/index.m3u8'
const PREFIX = 'https://media.example.com/courses/42/*'
const LATER = NOW_S + 600
const MAX = 2147483647

type Call = (s: Signer, sync: boolean) => unknown

/** Asserts the call fails with `code` (and `pattern`) on the sync and async paths, quoting no key material. */
async function refuses (t: TapTest, what: string, code: string, call: Call, pattern?: RegExp): Promise<void> {
  const syncErr = caught(() => call(signer, true)) as { code?: string, message?: string } | undefined
  let promise: unknown
  const thrown = caught(() => { promise = call(signer, false) })
  t.equal(thrown, undefined, `${what}: the async path rejects rather than throws`)
  const asyncErr = await rejected(async () => { await promise }) as { code?: string, message?: string } | undefined
  for (const [path, err] of [['sync', syncErr], ['async', asyncErr]] as const) {
    t.equal(err?.code, code, `${what} (${path}): ${code}`)
    if (pattern) t.match(err?.message, pattern, `${what} (${path}): says why`)
    t.strictSame(leakedSecrets(err, SECRETS), [], `${what} (${path}): no key material`)
  }
}

const cookies = (resource: string, opts: object): Call => (s, sync) => sync ? s.signCookiesSync(resource, opts) : s.signCookies(resource, opts)
const url = (u: string, opts: object): Call => (s, sync) => sync ? s.signUrlSync(u, opts) : s.signUrl(u, opts)
const rawPolicy = (policy: unknown): Call => (s, sync) => sync ? s.signCookiesSync({ policy: policy as string }) : s.signCookies({ policy: policy as string })

t.test('the signer itself accepts the good inputs used below', async (t) => {
  t.ok(signer.signCookiesSync(PREFIX, { expires: LATER }), 'cookies')
  t.ok(await signer.signUrl(URL_, { expires: LATER }), 'URL')
})

t.test('times: milliseconds, fractions, out of range, not after now', async (t) => {
  const bad: Array<[string, object, RegExp?]> = [
    ['expires in milliseconds (Date.now())', { expires: NOW_MS + 600_000 }, /milliseconds/],
    ['expires one past 2147483647', { expires: MAX + 1 }, /2147483647/],
    ['expires as a Date past 2038-01-19T03:14:07Z', { expires: new Date((MAX + 1) * 1000) }, /2147483647/],
    ['a non-integer expires', { expires: LATER + 0.5 }, /not an integer/],
    ['expires equal to now', { expires: NOW_S }, /not after now/],
    ['expires in the past', { expires: NOW_S - 1 }, /not after now/],
    ['expires as a Date equal to now', { expires: new Date(NOW_MS) }, /not after now/],
    ['expires 0', { expires: 0 }],
    ['a negative expires', { expires: -5 }],
    ['expires NaN', { expires: Number.NaN }],
    ['expires Infinity', { expires: Number.POSITIVE_INFINITY }],
    ['expires as a string', { expires: String(LATER) }],
    ['an invalid Date', { expires: new Date('not a date') }],
    ['no expiry at all', {}],
    ['expires and expiresIn together', { expires: LATER, expiresIn: '5m' }],
    ['notBefore equal to expires', { expires: LATER, notBefore: LATER }, /not before expires/],
    ['notBefore after expires', { expires: LATER, notBefore: LATER + 1 }, /not before expires/],
    ['notBefore in milliseconds', { expires: LATER, notBefore: NOW_MS }, /milliseconds/],
    ['a negative notBefore', { expires: LATER, notBefore: -1 }, /before the epoch/],
    ['a non-integer notBefore', { expires: LATER, notBefore: NOW_S - 0.5 }],
    ['expiresIn in milliseconds', { expiresIn: 900_000_000_000 }, /milliseconds/],
    ['expiresIn that ends past 2147483647', { expiresIn: MAX - NOW_S + 1 }, /2147483647/],
    ['expiresIn 0', { expiresIn: 0 }],
    ['a negative expiresIn', { expiresIn: -60 }],
    ['a non-integer expiresIn', { expiresIn: 1.5 }],
    ['an unknown duration unit', { expiresIn: '15x' }],
    ['a fractional duration', { expiresIn: '1.5m' }],
    ['an empty duration', { expiresIn: '' }],
    ['a negative duration string', { expiresIn: '-5m' }],
    ['a duration of zero', { expiresIn: '0s' }]
  ]
  for (const [what, opts, pattern] of bad) {
    await refuses(t, `cookies: ${what}`, 'FST_ERR_CF_INVALID_TIME', cookies(PREFIX, opts), pattern)
    await refuses(t, `URL: ${what}`, 'FST_ERR_CF_INVALID_TIME', url(URL_, opts), pattern)
  }
})

t.test('resources: schemes, characters a browser would encode, whitespace, control characters, non-ASCII', async (t) => {
  const bad: Array<[string, unknown]> = [
    ['ftp://', 'ftp://media.example.com/a'],
    ['rtmp://', 'rtmp://media.example.com/a'],
    ['wss://', 'wss://media.example.com/a'],
    ['an upper-case scheme', 'HTTPS://media.example.com/a'],
    ['no scheme', 'media.example.com/a'],
    ['a scheme-relative URL', '//media.example.com/a'],
    ['a path only', '/courses/42/*'],
    ['a single slash', 'https:/media.example.com/a'],
    ['no host', 'https:///a'],
    ['userinfo', 'https://user:pw@media.example.com/a'],
    ['an IPv6 literal host', 'https://[::1]/a'],
    ['no path', 'https://media.example.com'],
    ['no path, a query', 'https://media.example.com?x=1'],
    ['a fragment', 'https://media.example.com/a#t=10'],
    ['a space', 'https://media.example.com/my file.mp4'],
    ['a tab', 'https://media.example.com/a\tb'],
    ['a newline', 'https://media.example.com/a\nb'],
    ['a leading space', ' https://media.example.com/a'],
    ['a trailing space', 'https://media.example.com/a '],
    ['a NUL', 'https://media.example.com/a\u0000b'],
    ['an escape character', 'https://media.example.com/a\u001bb'],
    ['DEL', 'https://media.example.com/a\u007fb'],
    ['a non-ASCII path', 'https://media.example.com/café.mp4'],
    ['a non-ASCII host', 'https://médias.example.com/a'],
    ['an emoji', 'https://media.example.com/🎬'],
    ['a double quote', 'https://media.example.com/a"b'],
    ['angle brackets', 'https://media.example.com/<a>'],
    ['a backslash', 'https://media.example.com/a\\b'],
    ['braces', 'https://media.example.com/a{b}'],
    ['a caret', 'https://media.example.com/a^b'],
    ['a backtick', 'https://media.example.com/a`b'],
    ['a pipe', 'https://media.example.com/a|b'],
    ['a quote in the query (sent as %27)', "https://media.example.com/a?name='x'"],
    ['a bad percent escape', 'https://media.example.com/%zz'],
    ['a truncated percent escape', 'https://media.example.com/a%4'],
    ['longer than 8192 bytes', `https://media.example.com/${'a'.repeat(8192)}`],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null]
  ]
  for (const [what, resource] of bad) {
    await refuses(t, `cookies: ${what}`, 'FST_ERR_CF_INVALID_RESOURCE', cookies(resource as string, { expires: LATER }))
    await refuses(t, `URL: ${what}`, 'FST_ERR_CF_INVALID_RESOURCE', url(resource as string, { expires: LATER }))
  }
  await refuses(t, 'URL: *:// (a request has one scheme)', 'FST_ERR_CF_INVALID_RESOURCE', url('*://media.example.com/a', { expires: LATER }))
  await refuses(t, 'URL: a resource that does not cover it', 'FST_ERR_CF_INVALID_RESOURCE',
    url(URL_, { expires: LATER, resource: 'https://media.example.com/courses/43/*' }), /does not cover/)
  await refuses(t, 'URL: a bad resource option', 'FST_ERR_CF_INVALID_RESOURCE', url(URL_, { expires: LATER, resource: 'https://media.example.com/a b/*' }))
  await refuses(t, 'URL: signed result over 8192 bytes', 'FST_ERR_CF_INVALID_RESOURCE',
    url(`https://media.example.com/${'a'.repeat(8192 - 200)}`, { expires: LATER }), /8192/)
  await refuses(t, 'cookies: an object without a policy', 'FST_ERR_CF_INVALID_RESOURCE',
    (s, sync) => sync ? s.signCookiesSync({ expires: LATER } as never) : s.signCookies({ expires: LATER } as never))
})

t.test('a URL to sign may not already carry a reserved parameter', async (t) => {
  const names = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']
  for (const name of names) {
    for (const variant of [name, name.toLowerCase(), name.toUpperCase()]) {
      for (const query of [`${variant}=1`, `quality=720&${variant}=x`, `${variant}`]) {
        await refuses(t, `?${query}`, 'FST_ERR_CF_INVALID_RESOURCE', url(`${URL_}?${query}`, { expires: LATER }), new RegExp(`reserved parameter "${variant}"`))
      }
    }
  }
  // Names that merely contain a reserved one are the site's own.
  t.ok(signer.signUrlSync(`${URL_}?PolicyId=1&Expiresx=2`, { expires: LATER }), 'PolicyId and Expiresx are allowed')
})

t.test('ipAddress: IPv6 refused with a clear message, bad CIDRs refused', async (t) => {
  for (const ip of ['::1', '2001:db8::/32', '::ffff:203.0.113.7', 'fe80::1%eth0', '2001:db8::1']) {
    await refuses(t, `IPv6 ${ip}`, 'FST_ERR_CF_INVALID_IP', cookies(PREFIX, { expires: LATER, ipAddress: ip }), /IPv6.*IPv4/)
  }
  const bad: unknown[] = ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0', '1.2.3.4.5', '256.1.1.1', '010.0.0.1', '10.0.0.1/',
    '10.0.0.1/8/9', '', ' 10.0.0.1', '10.0.0.1 ', 'localhost', '0x7f.0.0.1', 42, null, ['10.0.0.1']]
  for (const ip of bad) {
    await refuses(t, `CIDR ${JSON.stringify(ip)}`, 'FST_ERR_CF_INVALID_IP', cookies(PREFIX, { expires: LATER, ipAddress: ip }))
    await refuses(t, `URL CIDR ${JSON.stringify(ip)}`, 'FST_ERR_CF_INVALID_IP', url(URL_, { expires: LATER, ipAddress: ip }))
  }
})

t.test('raw policies: one statement, a non-empty Resource, integer DateLessThan, known conditions only', async (t) => {
  const statement = (condition: object, extra: object = {}) => ({ Resource: PREFIX, Condition: condition, ...extra })
  const dlt = { DateLessThan: { 'AWS:EpochTime': LATER } }
  const bad: Array<[string, unknown, RegExp?]> = [
    ['two statements', JSON.stringify({ Statement: [statement(dlt), statement(dlt)] }), /exactly one Statement/],
    ['no statement', JSON.stringify({ Statement: [] }), /exactly one Statement/],
    ['Statement not a list', JSON.stringify({ Statement: statement(dlt) }), /exactly one Statement/],
    ['no Resource', JSON.stringify({ Statement: [{ Condition: dlt }] }), /no Resource/],
    ['an empty Resource', JSON.stringify({ Statement: [statement(dlt, { Resource: '' })] }), /non-empty/],
    ['a Resource that is not a string', JSON.stringify({ Statement: [statement(dlt, { Resource: ['a', 'b'] })] }), /non-empty string/],
    ['a fractional DateLessThan', JSON.stringify({ Statement: [statement({ DateLessThan: { 'AWS:EpochTime': LATER + 0.5 } })] }), /DateLessThan/],
    ['a DateLessThan string', JSON.stringify({ Statement: [statement({ DateLessThan: { 'AWS:EpochTime': String(LATER) } })] }), /DateLessThan/],
    ['a DateLessThan in milliseconds', JSON.stringify({ Statement: [statement({ DateLessThan: { 'AWS:EpochTime': NOW_MS } })] }), /DateLessThan/],
    ['a negative DateLessThan', JSON.stringify({ Statement: [statement({ DateLessThan: { 'AWS:EpochTime': -1 } })] }), /DateLessThan/],
    ['DateLessThan with another key', JSON.stringify({ Statement: [statement({ DateLessThan: { 'AWS:EpochTime': LATER, x: 1 } })] }), /DateLessThan/],
    ['no DateLessThan', JSON.stringify({ Statement: [statement({ DateGreaterThan: { 'AWS:EpochTime': 1 } })] }), /DateLessThan/],
    ['no Condition', JSON.stringify({ Statement: [{ Resource: PREFIX }] }), /Condition/],
    ['a fractional DateGreaterThan', JSON.stringify({ Statement: [statement({ ...dlt, DateGreaterThan: { 'AWS:EpochTime': 1.5 } })] }), /DateGreaterThan/],
    ['DateGreaterThan not before DateLessThan', JSON.stringify({ Statement: [statement({ ...dlt, DateGreaterThan: { 'AWS:EpochTime': LATER } })] }), /DateGreaterThan must be before/],
    ['an unknown condition', JSON.stringify({ Statement: [statement({ ...dlt, StringLike: { 'aws:Referer': '*' } })] }), /unknown condition "StringLike"/],
    ['an IPv6 source', JSON.stringify({ Statement: [statement({ ...dlt, IpAddress: { 'AWS:SourceIp': '::1/128' } })] }), /IpAddress/],
    ['a bad CIDR', JSON.stringify({ Statement: [statement({ ...dlt, IpAddress: { 'AWS:SourceIp': '10.0.0.0/40' } })] }), /IpAddress/],
    ['two sources', JSON.stringify({ Statement: [statement({ ...dlt, IpAddress: { 'AWS:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } })] }), /IpAddress/],
    ['an unknown Statement field', JSON.stringify({ Statement: [statement(dlt, { Effect: 'Allow' })] }), /unknown Statement field "Effect"/],
    ['an unknown top-level field', JSON.stringify({ Version: '2012-10-17', Statement: [statement(dlt)] }), /unknown top-level field "Version"/],
    ['not JSON', '{"Statement":[', /not valid JSON/],
    ['a JSON list', '[]', /JSON object/],
    ['a policy object instead of a string', { Statement: [statement(dlt)] }, /JSON string/],
    ['undefined', undefined]
  ]
  for (const [what, policy, pattern] of bad) {
    const code = policy === undefined ? 'FST_ERR_CF_INVALID_RESOURCE' : 'FST_ERR_CF_INVALID_POLICY'
    await refuses(t, `cookies: ${what}`, code, rawPolicy(policy), pattern)
    if (policy !== undefined) await refuses(t, `URL: ${what}`, code, url(URL_, { policy }), pattern)
  }
  const good = JSON.stringify({ Statement: [statement(dlt)] })
  await refuses(t, 'a raw policy with expires', 'FST_ERR_CF_INVALID_OPTION', cookies(PREFIX, { policy: good, expires: LATER }), /own conditions/)
  await refuses(t, 'a raw policy with ipAddress', 'FST_ERR_CF_INVALID_OPTION', url(URL_, { policy: good, ipAddress: '10.0.0.1' }), /own conditions/)
  await refuses(t, 'a raw policy that does not cover the URL', 'FST_ERR_CF_INVALID_RESOURCE', url('https://media.example.com/other.ts', { policy: good }), /does not cover/)
})

t.test('signer and call options', async (t) => {
  const make = (opts: Partial<SignerOptions>) => () => createSigner({ keyPairId: KEY_ID, privateKey: key.privateKey, ...opts } as SignerOptions)
  const bad: Array<[string, () => unknown, string]> = [
    ['no options', () => createSigner(undefined as never), 'FST_ERR_CF_INVALID_OPTION'],
    ['an empty keyPairId', make({ keyPairId: '' }), 'FST_ERR_CF_INVALID_OPTION'],
    ['a keyPairId with a space', make({ keyPairId: 'K2J CJM' }), 'FST_ERR_CF_INVALID_OPTION'],
    ['a keyPairId with a semicolon', make({ keyPairId: 'K2J;x=1' }), 'FST_ERR_CF_INVALID_OPTION'],
    ['a keyPairId that is a number', make({ keyPairId: 42 as never }), 'FST_ERR_CF_INVALID_OPTION'],
    ['hashAlgorithm sha256 (lower case)', make({ hashAlgorithm: 'sha256' as never }), 'FST_ERR_CF_INVALID_OPTION'],
    ['hashAlgorithm SHA512', make({ hashAlgorithm: 'SHA512' as never }), 'FST_ERR_CF_INVALID_OPTION'],
    ['a now that is not a function', make({ now: NOW_MS as never }), 'FST_ERR_CF_INVALID_OPTION'],
    ['a passphrase for the wrong key', () => createSigner({ keyPairId: KEY_ID, privateKey: encryptedPem, passphrase: `${PASSPHRASE}!` }), 'FST_ERR_CF_INVALID_KEY']
  ]
  for (const [what, fn, code] of bad) {
    const err = caught(fn) as { code?: string } | undefined
    t.equal(err?.code, code, what)
    t.strictSame(leakedSecrets(err, SECRETS), [], `${what}: no key material`)
  }
  await refuses(t, 'null sign options (cookies)', 'FST_ERR_CF_INVALID_OPTION', cookies(PREFIX, null as never))
  await refuses(t, 'null sign options (URL)', 'FST_ERR_CF_INVALID_OPTION', url(URL_, null as never))
})
