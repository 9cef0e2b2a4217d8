import { createPublicKey, type KeyObject } from 'node:crypto'
import { FST_ERR_CF_INVALID_OPTION } from '../errors.js'
import { loadPrivateKey, type KeyInput } from '../keys.js'
import { createSigner, type HashAlgorithm, type Signer } from '../signer.js'
import { createVerifier, type Verifier } from '../verifier.js'
import type { SigningKey } from './types.js'

export interface KeyRingSettings {
  keys: SigningKey[]
  activeKeyPairId: string
  hashAlgorithm: HashAlgorithm | undefined
  now: () => number
  onWarning: ((message: string) => void) | undefined
}

/** The signing keys by ID, each parsed once; one of them signs (`active`) until `rotate()`. */
export class KeyRing {
  private readonly signers = new Map<string, Signer>()
  active: Signer
  /**
   * Recognises sets a client already holds (after a restart, say) without signing again; null with custom signers only.
   */
  readonly verifier: Verifier | null

  constructor (settings: KeyRingSettings) {
    const publicKeys: Record<string, KeyObject> = {}
    for (const k of settings.keys) {
      let privateKey: KeyInput | undefined = k.privateKey
      if (k.sign === undefined) {
        const loaded = loadPrivateKey(k.privateKey, k.passphrase)
        privateKey = loaded.key
        publicKeys[k.keyPairId] = createPublicKey(loaded.key)
      }
      this.signers.set(k.keyPairId, createSigner({
        keyPairId: k.keyPairId,
        ...(privateKey === undefined ? {} : { privateKey }),
        ...(k.sign === undefined ? {} : { sign: k.sign }),
        ...(k.keyType === undefined ? {} : { keyType: k.keyType }),
        ...(settings.hashAlgorithm === undefined ? {} : { hashAlgorithm: settings.hashAlgorithm }),
        ...(settings.onWarning === undefined ? {} : { onWarning: settings.onWarning }),
        now: settings.now
      }))
    }
    const active = this.signers.get(settings.activeKeyPairId)
    if (!active) {
      throw new FST_ERR_CF_INVALID_OPTION('activeKeyPairId', `"${String(settings.activeKeyPairId)}" is ` +
      'not one of the configured keys')
    }
    this.active = active
    this.verifier = Object.keys(publicKeys).length > 0
      ? createVerifier({ keys: publicKeys, now: settings.now, cacheSize: 1000 })
      : null
  }

  /** Makes another configured key the one that signs. */
  rotate (keyPairId: string): void {
    const next = this.signers.get(keyPairId)
    if (!next) {
      throw new FST_ERR_CF_INVALID_OPTION('keyPairId', `"${String(keyPairId)}" is not one of the ` +
      'configured keys')
    }
    this.active = next
  }
}
