import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { FST_ERR_CF_INVALID_KEY, FST_ERR_CF_INVALID_OPTION } from './errors.js'
import { shown } from './guards.js'

/** A CloudFront public key ID (or key pair ID): letters, digits, `_` and `-`, at most 128. */
export const KEY_ID_RE = /^[A-Za-z0-9_-]{1,128}$/

/**
 * A key as users hold it: a PEM string or Buffer (PKCS#1, PKCS#8, SPKI; encrypted PEM with a passphrase), or a
 * `KeyObject`.
 */
export type KeyInput = string | Buffer | KeyObject

export type KeyType = 'rsa' | 'ec'

export interface LoadedKey {
  key: KeyObject
  type: KeyType
  /** RSA modulus length in bits (256 for P-256). */
  bits: number
}

function describe (key: KeyObject, want: 'private' | 'public'): LoadedKey {
  const type = key.asymmetricKeyType
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 1024 || bits > 4096) {
      throw new FST_ERR_CF_INVALID_KEY('RSA keys must have 1024 to 4096 bits (CloudFront key groups use 2048); this ' +
        `${want} key has ${bits}`)
    }
    return { key, type, bits }
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve !== 'prime256v1') {
      throw new FST_ERR_CF_INVALID_KEY('ECDSA keys must use the P-256 curve (prime256v1); ' +
        `this ${want} key uses ${curve ?? 'an unknown curve'}`)
    }
    return { key, type, bits: 256 }
  }
  throw new FST_ERR_CF_INVALID_KEY('CloudFront signs with RSA (PKCS#1 v1.5) or ECDSA P-256 keys; ' +
    `this ${want} key is ${type ?? 'of an unknown type'}`)
}

/**
 * Refuses a malformed key ID, showing what was received (a key ID is not secret) and the likely
 * cause: whitespace around it, as a value pasted into a .env file often has.
 */
export function checkKeyId (id: unknown, name: string): string {
  if (typeof id === 'string' && KEY_ID_RE.test(id)) return id
  const received = shown(id)
  if (typeof id === 'string' && id.trim() !== id && KEY_ID_RE.test(id.trim())) {
    throw new FST_ERR_CF_INVALID_OPTION(name,
      `${received} has whitespace around it (a value copied into a .env file often has): ` +
      `trim it to ${shown(id.trim())}`)
  }
  throw new FST_ERR_CF_INVALID_OPTION(name,
    `${received} is not a CloudFront key ID: expected letters, digits, "_" and "-" only, such as "K2JCJMDEHXQW5F"`)
}

// CloudFront's public key IDs are `K` and 13 upper-case letters and digits (K2JCJMDEHXQW5F); the
// legacy key pair IDs of the root account are `APKA` and 16. A little latitude on length: the
// point is to catch what is surely not one, which CloudFront only answers with a 403 on every request.
const PUBLIC_KEY_ID_RE = /^K[A-Z0-9]{11,15}$/
const KEY_PAIR_ID_RE = /^APKA[A-Z0-9]{16}$/
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Why a well-formed key ID cannot be one CloudFront knows (null when it can): a key group's ID (a
 * UUID) given for a key's, lower case, or a name of one's own. A warning, not a refusal: the
 * local edge, and tests, take any ID.
 */
export function keyIdConcern (id: string): string | null {
  if (PUBLIC_KEY_ID_RE.test(id) || KEY_PAIR_ID_RE.test(id)) return null
  const what = `The key ID ${shown(id)}`
  const cloudfront = 'CloudFront will refuse every grant signed with it (403). A CloudFront public key ID is "K" and ' +
    '13 upper-case letters and digits, such as K2JCJMDEHXQW5F (console: CloudFront, Key management, Public keys, the ' +
      'ID column)'
  if (UUID_RE.test(id)) {
    return `${what} is a UUID, the shape of a key group's ID, not of a public key's: sign with ` +
    `the ID of a public key in the group. ${cloudfront}`
  }
  if (PUBLIC_KEY_ID_RE.test(id.toUpperCase()) ||
    KEY_PAIR_ID_RE.test(id.toUpperCase())) {
    return `${what} has lower-case letters: CloudFront's key IDs are upper ` +
      `case (${shown(id.toUpperCase())}). ${cloudfront}`
  }
  return `${what} cannot be a CloudFront key ID: ${cloudfront}, or a legacy key pair ID "APKA…" (20 characters). A ` +
    'name of your own works only with the local edge.'
}

// What a key that is not PEM usually is, with the command that converts it. Checked before
// parsing: OpenSSL's own messages name none of these. Every command writes a new file and keeps
// its input: `openssl pkey -in k -out k` (and `ssh-keygen -p` on the original) empties or rewrites
// the only copy of a key, and OpenSSL 3 truncates the output before it reads the input.
function keyFormatHint (input: string | Buffer, want: 'private' | 'public'): string | null {
  const text = typeof input === 'string' ? input : input.toString('latin1', 0, Math.min(input.length, 4096))
  if (text.includes('-----BEGIN ') && text.includes('\\n') && !text.includes('\n')) {
    return `the ${want} key's PEM has literal "\\n" escapes instead of line breaks (as read from a .env file): ` +
      "turn them back into line breaks in code (key.replace(/\\\\n/g, '\\n')), " +
      `or save the text as ${want}.pem and write a clean copy with ` +
      `\`awk '{ gsub(/\\\\n/, "\\n"); print }' ${want}.pem > ${want}-clean.pem\` (${want}.pem is kept) to read instead`
  }
  if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) {
    return 'this is an OpenSSH private key, which Node cannot read: convert a copy to PEM with `cp id_rsa id_rsa.pem ' +
      '&& chmod 600 id_rsa.pem && ssh-keygen -p -m PEM -N \'\' -f id_rsa.pem` (id_rsa is kept; -N sets the copy\'s ' +
        'passphrase, \'\' for none), or make a CloudFront key with `cloudfront-cookies keygen`'
  }
  if (/^(ssh-rsa|ecdsa-sha2-nistp256) AAAA/.test(text.trim())) {
    return 'this is an OpenSSH public key: write it as PEM with `ssh-keygen -e -m PKCS8 -f id_rsa.pub > public.pem` ' +
      '(id_rsa.pub is kept)'
  }
  if (Buffer.isBuffer(input) && input[0] === 0x30 && !text.includes('-----BEGIN ')) {
    const pubin = want === 'public' ? ' -pubin' : ''
    return `the ${want} key is DER bytes, not PEM text: write it as PEM with ` +
      `\`openssl pkey -inform DER${pubin} -in ${want}.der -out ${want}.pem\` (${want}.der is kept)`
  }
  return null
}

function looksLikePem (input: string | Buffer): boolean {
  return (typeof input === 'string'
    ? input
    : input.toString('latin1', 0, Math.min(input.length,
      4096))).includes('-----BEGIN ')
}

/**
 * Parses a private key once. The message of every error names what is wrong and what to do,
 * never the key itself (OpenSSL's own messages are not passed on).
 */
export function loadPrivateKey (input: unknown, passphrase?: string | Buffer): LoadedKey {
  if (input instanceof KeyObject) {
    if (input.type !== 'private') {
      throw new FST_ERR_CF_INVALID_KEY(`a ${input.type} KeyObject was given where the private key is needed`)
    }
    return describe(input, 'private')
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    throw new FST_ERR_CF_INVALID_KEY('privateKey must be a PEM string, a Buffer or a KeyObject')
  }
  const hint = keyFormatHint(input, 'private')
  if (hint !== null) throw new FST_ERR_CF_INVALID_KEY(hint)
  if (!looksLikePem(input)) {
    throw new FST_ERR_CF_INVALID_KEY('privateKey is not PEM text (expected "-----BEGIN PRIVATE KEY-----" or ' +
      '"-----BEGIN RSA PRIVATE KEY-----"): did you pass a file path instead of the file contents?')
  }
  const text = typeof input === 'string' ? input : input.toString('latin1')
  if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text) && !/PRIVATE KEY-----/.test(text)) {
    throw new FST_ERR_CF_INVALID_KEY('a public key was given where the private key is needed (CloudFront keeps the ' +
      'public key; you sign with the private one)')
  }
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text)
  // OpenSSL 3 reports a missing passphrase as an interrupted read, not as ERR_MISSING_PASSPHRASE: check first.
  if (encrypted && passphrase === undefined) {
    throw new FST_ERR_CF_INVALID_KEY('the private key is encrypted: pass its passphrase')
  }
  let key: KeyObject
  try {
    key = createPrivateKey(passphrase === undefined
      ? { key: input, format: 'pem' }
      : { key: input, format: 'pem', passphrase })
  } catch (err) {
    const code = (err as { code?: string }).code ?? ''
    if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') {
      throw new FST_ERR_CF_INVALID_KEY('the private key is encrypted: pass its passphrase')
    }
    if (/DECRYPT|BAD_PASSWORD|PASSPHRASE/i.test(code) || (passphrase !== undefined && /ENCRYPTED/.test(text))) {
      throw new FST_ERR_CF_INVALID_KEY('the passphrase does not decrypt the private key')
    }
    throw new FST_ERR_CF_INVALID_KEY('the private key could not be parsed (expected PEM in PKCS#1 or PKCS#8)')
  }
  return describe(key, 'private')
}

/** Parses a public key (SPKI or PKCS#1 PEM, a KeyObject; a private key is reduced to its public half). */
export function loadPublicKey (input: unknown): LoadedKey {
  if (input instanceof KeyObject) {
    if (input.type === 'secret') throw new FST_ERR_CF_INVALID_KEY('a secret KeyObject is not a public key')
    return describe(input.type === 'private' ? createPublicKey(input) : input, 'public')
  }
  const hint = typeof input === 'string' || Buffer.isBuffer(input) ? keyFormatHint(input, 'public') : null
  if (hint !== null) throw new FST_ERR_CF_INVALID_KEY(hint)
  if ((typeof input !== 'string' && !Buffer.isBuffer(input)) || !looksLikePem(input)) {
    throw new FST_ERR_CF_INVALID_KEY('a public key must be PEM text ("-----BEGIN PUBLIC KEY-----"), a Buffer of it, ' +
      'or a KeyObject')
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: input, format: 'pem' })
  } catch {
    throw new FST_ERR_CF_INVALID_KEY('the public key could not be parsed (expected SPKI or PKCS#1 PEM)')
  }
  return describe(key, 'public')
}
