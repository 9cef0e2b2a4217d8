import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse, str, usage, type Command } from './args.js'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function base32 (bytes: Buffer): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return out
}

/**
 * A stable local key ID shaped like CloudFront's (`K` and 13 upper-case characters), derived from
 * the public key. CloudFront assigns its own ID when the public key is uploaded: that is the one to
 * sign with against AWS.
 */
export function localKeyId (publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return 'K' + base32(createHash('sha256').update(der).digest()).slice(0, 13)
}

export type KeygenType = 'rsa' | 'ecdsa'

/** A key pair CloudFront accepts: RSA-2048 or ECDSA P-256, as PKCS#8 and SPKI PEM. */
export function generateKeyPair (type: KeygenType): { privatePem: string, publicPem: string, publicKey: KeyObject } {
  const { privateKey, publicKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicKey
  }
}

export const keygen: Command = {
  summary: 'create a key pair (RSA-2048 or ECDSA P-256) and print its key ID',
  help: `Usage: cloudfront-cookies keygen [--type rsa|ecdsa] [--out <dir>] [--key-id <id>] [--force]

Writes <dir>/private.pem (PKCS#8, mode 0600: keep it secret, never commit it) and
<dir>/public.pem (SPKI: upload it to CloudFront, or give it to the edge with --key),
then prints the key ID. The private key is never printed.

The key ID is derived from the public key (K and 13 characters), for the local edge.
CloudFront assigns its own ID when the public key is uploaded: sign with that one there.

Options:
  --type rsa|ecdsa   key type (default rsa: RSA-2048)
  --out <dir>        where to write the files (default: the current directory)
  --key-id <id>      print this key ID instead of the derived one
  --force            overwrite existing private.pem and public.pem
  -h, --help         show this help`,
  async run (args, io) {
    const p = parse(args, {
      type: { type: 'string' },
      out: { type: 'string' },
      'key-id': { type: 'string' },
      force: { type: 'boolean' }
    }, 0)
    const type = str(p, 'type') ?? 'rsa'
    if (type !== 'rsa' && type !== 'ecdsa') usage(`--type ${type}: expected rsa or ecdsa`)
    const given = str(p, 'key-id')
    if (given !== undefined &&
      !/^[A-Za-z0-9_-]{1,128}$/.test(given)) usage(`--key-id ${given}: use letters, digits, "_" and "-"`)
    const dir = resolve(str(p, 'out') ?? '.')
    const privatePath = join(dir, 'private.pem')
    const publicPath = join(dir, 'public.pem')
    if (p.values.force !== true) {
      for (const file of [privatePath, publicPath]) {
        if (existsSync(file)) usage(`${file} already exists (use --force to replace it)`)
      }
    }
    if (existsSync(dir) &&
      !statSync(dir).isDirectory()) usage(`--out ${dir} is a file: give a directory (it is created if missing)`)
    const pair = generateKeyPair(type)
    try {
      mkdirSync(dir, { recursive: true })
      writeFileSync(privatePath, pair.privatePem, { mode: 0o600 })
      // writeFile keeps the mode of a file it replaces.
      chmodSync(privatePath, 0o600)
      writeFileSync(publicPath, pair.publicPem, { mode: 0o644 })
    } catch (err) {
      usage(`cannot write the key pair to --out ${dir} (${(err as { code?: string }).code ?? 'error'})`)
    }
    io.err(`Wrote ${privatePath} (${type === 'rsa'
? 'RSA-2048'
      : 'ECDSA P-256'}, mode 0600: keep it secret) and ${publicPath}.`)
    io.out(given ?? localKeyId(pair.publicKey))
    return 0
  }
}
