import { generateKeyPairSync, type KeyObject } from 'node:crypto'

export interface TestKey {
  keyPairId: string
  privateKey: KeyObject
  publicKey: KeyObject
  privatePem: string
  publicPem: string
}

function make (keyPairId: string, type: 'rsa' | 'ec'): TestKey {
  const { privateKey, publicKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    keyPairId,
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

// Generated once per test process: tests never depend on a committed private key.
export const rsaKey = make('KTESTRSA000001', 'rsa')
export const rsaKey2 = make('KTESTRSA000002', 'rsa')
export const ecKey = make('KTESTEC0000001', 'ec')
