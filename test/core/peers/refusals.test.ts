// Every refusal case of the AWS SDKs' test suites: the same input must be refused here with a coded
// error that says what to change, on the sync and the async path. Where peers disagree (ECDSA with
// SHA-1: the CLI refuses it, Ruby and Rust sign it), the choice is this library's and is tested as such.
import t from 'tap'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { createSigner } from '../../../src/index.js'
import { checkResource } from '../../../src/core/resource.js'
import { rsaKey, type TapTest } from '../helpers.js'
import { sdkCases, callOf, signNowMs, queryMap, verifies, publicKeyOf, type PeerCase, type PeerFile } from './helpers.js'

const testKey = rsaKey(2048)
const inScope = sdkCases.filter(({ c }) => c.expected.error === true)
const FUTURE = 1767290400

/** The code a refusal must carry, from what the case gets wrong. */
function expectedCode (c: PeerCase): string {
  const i = c.input
  if (c.key?.includes('dsa-unsupported') === true) return 'FST_ERR_CF_INVALID_KEY'
  if (i.ipAddress !== undefined && !/^(\d{1,3}\.){3}\d{1,3}\/(3[0-2]|[12]?\d)$/.test(i.ipAddress)) return 'FST_ERR_CF_INVALID_IP'
  if (typeof i.policy === 'string') return 'FST_ERR_CF_INVALID_POLICY'
  if (i.dateLessThan === undefined && !isValidationOnly(c)) return 'FST_ERR_CF_INVALID_TIME'
  if (typeof i.dateGreaterThan === 'number' && i.dateGreaterThan >= i.dateLessThan) return 'FST_ERR_CF_INVALID_TIME'
  return 'FST_ERR_CF_INVALID_RESOURCE'
}

const SAYS: Record<string, RegExp> = {
  FST_ERR_CF_INVALID_KEY: /RSA.*ECDSA/,
  FST_ERR_CF_INVALID_IP: /IPv4 address or CIDR/,
  FST_ERR_CF_INVALID_POLICY: /Statement|policy/i,
  FST_ERR_CF_INVALID_TIME: /expir|notBefore/i,
  FST_ERR_CF_INVALID_RESOURCE: /resource|URL/i
}

/** Go's URL and Resource validators are called without an expiry: give one, so only the URL can fail. */
function isValidationOnly (c: PeerCase): boolean {
  return /validate-url|create-resource/.test(c.id)
}

function keyOf (file: PeerFile, c: PeerCase): string | ReturnType<typeof createPrivateKey> {
  return c.key === null ? testKey.privateKey : file.keys[c.key] as string
}

async function refused (t: TapTest, file: PeerFile, c: PeerCase): Promise<void> {
  const code = expectedCode(c)
  const make = (): ReturnType<typeof createSigner> => createSigner({
    keyPairId: c.keyPairId ?? 'KTESTPEER', privateKey: keyOf(file, c), hashAlgorithm: c.hashAlgorithm, now: () => signNowMs(c), onWarning: () => {}
  })
  if (code === 'FST_ERR_CF_INVALID_KEY') {
    const err = t.throws(make, { code }, `${c.id}: the key is refused when the signer is made`) as unknown as Error
    t.match(err.message, SAYS[code], `${c.id}: says why`)
    return
  }
  const signer = make()
  const call = callOf(c)
  if (typeof call.opts.expires !== 'number' && (isValidationOnly(c) || typeof c.input.dateLessThan === 'string')) call.opts.expires = FUTURE
  // Go's &Policy{} has no Statement at all.
  if (typeof call.opts.policy === 'string' && call.opts.policy.startsWith('{} ')) call.opts.policy = '{}'
  if (c.kind === 'policy' && c.input.scheme !== undefined) {
    t.throws(() => checkResource(c.input.url), { code }, `${c.id}: ${code}`)
    return
  }
  const { target, opts } = call
  const go = (sync: boolean): unknown => {
    if (c.kind === 'url') return sync ? signer.signUrlSync(target as string, opts) : signer.signUrl(target as string, opts)
    if (opts.policy !== undefined) return sync ? signer.signCookiesSync(opts as { policy: string }) : signer.signCookies(opts as { policy: string })
    return sync ? signer.signCookiesSync(target as string, opts) : signer.signCookies(target as string, opts)
  }
  const err = t.throws(() => go(true), { code }, `${c.id} (sync): ${code}`) as unknown as Error
  t.match(err.message, SAYS[code], `${c.id}: says what to change`)
  if (typeof c.input.ipAddress === 'string' && c.input.ipAddress.includes('"')) t.notMatch(err.message, /IPv6/, `${c.id}: an injection is not called IPv6`)
  await t.rejects(async () => { await go(false) }, { code }, `${c.id} (async): ${code}`)
}

/** The CLI refuses ECDSA with SHA-1; Ruby accepts it and Rust signs it by default. This signer signs it. */
async function ecdsaSha1Signed (t: TapTest, file: PeerFile, c: PeerCase): Promise<void> {
  const privateKey = createPrivateKey(file.keys[c.key as string] as string)
  const signer = createSigner({ keyPairId: c.keyPairId as string, privateKey, hashAlgorithm: 'SHA1', now: () => signNowMs(c) })
  const policy = JSON.stringify({ Statement: [{ Resource: c.input.url, Condition: { DateLessThan: { 'AWS:EpochTime': c.input.dateLessThan } } }] })
  const url = await signer.signUrl(c.input.url, { expires: c.input.dateLessThan })
  const cookies = signer.signCookiesSync(c.input.url, { expires: c.input.dateLessThan })
  const publicKey = c.key === null ? createPublicKey(privateKey) : publicKeyOf(file, 'sep-ecdsa-p256-public')
  t.ok(verifies(publicKey, 'SHA1', policy, queryMap(url).Signature as string), `${c.id}: the URL signature verifies with SHA-1`)
  t.ok(verifies(publicKey, 'SHA1', policy, cookies['CloudFront-Signature']), `${c.id}: the cookie signature verifies with SHA-1`)
  t.notOk('Hash-Algorithm' in queryMap(url), `${c.id}: no marker, as for every SHA-1 signature`)
}

const CHOICES: Record<string, { reason: string, check: typeof refused }> = {
  'ecdsa-canned-policy-url-sha1-reject': { reason: 'the CLI refuses ECDSA with SHA-1; Ruby and smithy-rs sign it: signed here', check: ecdsaSha1Signed },
  'cookies-ecdsa-canned-policy-url-sha1-reject': { reason: 'the same, for cookies', check: ecdsaSha1Signed }
}

export const refusalChoices = CHOICES

let replayed = 0
for (const { file, c } of inScope) {
  t.test(`${file.name}: ${c.id}`, async (t) => {
    await (CHOICES[c.id]?.check ?? refused)(t, file, c)
    replayed++
  })
}

t.test('every refusal case was replayed', async (t) => {
  t.equal(replayed, inScope.length, `${replayed} refusal cases`)
  t.comment(`${inScope.length} refusal cases pass: ${inScope.length - Object.keys(CHOICES).length} refused with a coded error, ${Object.keys(CHOICES).length} signed by choice (peers disagree)`)
})
