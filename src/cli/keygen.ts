import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto'

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
