// Shared by the core tests: fixtures, keys made at test time, and the checks that an error leaks no key material.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type tap from 'tap'

/** The type of the `t` a tap subtest receives. */
export type TapTest = Parameters<Parameters<typeof tap.test>[0]>[0]

export const FIXTURES = join(__dirname, '..', 'fixtures')

export interface VectorCase {
  id: string
  kind: 'url' | 'cookies'
  input: { url?: string, dateLessThan?: number, policy?: string }
  expected: { policyJson?: string, signedUrl?: string, cookies?: Record<string, string> }
}

export const vectors: { keyPairId: string, privateKeyFile: string, cases: VectorCase[] } =
  JSON.parse(readFileSync(join(FIXTURES, 'aws-sdk-ruby.json'), 'utf8'))

/** The Ruby SDK's 1024-bit unit-test key, as PKCS#1 PEM text. */
export const rubyKeyPem = readFileSync(join(FIXTURES, vectors.privateKeyFile), 'utf8')

/** 2023-11-14T22:13:20Z: a fixed clock for the signer and the verifier. */
export const NOW_MS = 1_700_000_000_000
export const NOW_S = NOW_MS / 1000
export const fixedNow = (): number => NOW_MS

export interface TestKey {
  privateKey: KeyObject
  publicKey: KeyObject
  /** PKCS#8 PEM. */
  privatePem: string
  /** SPKI PEM. */
  publicPem: string
}

function wrap (pair: { privateKey: KeyObject, publicKey: KeyObject }): TestKey {
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string
  }
}

export function rsaKey (bits = 2048): TestKey {
  return wrap(generateKeyPairSync('rsa', { modulusLength: bits }))
}

export function ecKey (namedCurve = 'P-256'): TestKey {
  return wrap(generateKeyPairSync('ec', { namedCurve }))
}

/** The base64 lines of a PEM (everything but the BEGIN/END lines and headers): what must never be echoed. */
export function pemBodyLines (pem: string): string[] {
  return pem.split(/\r?\n/).filter((line) => line.length >= 16 && !line.startsWith('-----') && !line.includes(':'))
}

export interface Secrets {
  pems?: string[]
  passphrases?: string[]
}

/** Lists every secret fragment that appears in the error's message or stack (empty when none does). */
export function leakedSecrets (err: unknown, secrets: Secrets): string[] {
  const e = err as { message?: string, stack?: string }
  const text = `${e?.message ?? ''}\n${e?.stack ?? ''}`
  const fragments = [
    ...(secrets.pems ?? []).flatMap(pemBodyLines),
    ...(secrets.passphrases ?? [])
  ]
  return fragments.filter((f) => text.includes(f))
}

/** Runs `fn`, returning what it threw (or undefined when it did not throw). */
export function caught (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** Awaits `fn`, returning what it rejected with (or undefined when it resolved). */
export async function rejected (fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** Splits a signed URL into the URL before the signing parameters and those parameters, in order. */
export function splitSigned (signed: string, url: string): { base: string, params: Array<[string, string]> } | null {
  const sep = url.includes('?') ? '&' : '?'
  if (!signed.startsWith(url + sep)) return null
  const params = signed.slice(url.length + 1).split('&').map((pair): [string, string] => {
    const eq = pair.indexOf('=')
    return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
  })
  return { base: url, params }
}

/** CloudFront's URL-safe Base64, decoded by hand (an oracle independent of src/core/encoding.ts). */
export function fromCloudFrontBase64 (text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64')
}

/** A cookie set as a plain name-to-string map. */
export function asRecord (cookies: object): Record<string, string> {
  return Object.fromEntries(Object.entries(cookies).map(([k, v]) => [k, String(v)]))
}
