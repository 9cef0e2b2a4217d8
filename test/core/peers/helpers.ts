// The other projects' CloudFront test cases (test/fixtures/peers), loaded once, with the few helpers
// every replay needs. Expected values come from the fixtures, never from src/core.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto'

export const PEERS_DIR = join(__dirname, '..', '..', 'fixtures', 'peers')

export interface PeerCase {
  id: string
  kind: 'url' | 'cookies' | 'policy' | 'verify'
  key: string | null
  keyPairId: string | null
  hashAlgorithm: 'SHA1' | 'SHA256'
  input: Record<string, any>
  expected: Record<string, any>
  notes: string
}

export interface PeerFile {
  name: string
  source: string
  license: string
  keys: Record<string, string>
  now?: number
  cases: PeerCase[]
}

export const SDK_FILES = [
  'aws-cli-sep', 'smithy-rs', 'aws-sdk-ruby', 'aws-sdk-net', 'aws-sdk-go', 'aws-sdk-go-v2',
  'aws-sdk-js-v3', 'aws-sdk-java-v2', 'aws-sdk-php', 'botocore'
] as const
export const EMULATOR_FILES = ['floci', 'kumo'] as const

export function load (name: string): PeerFile {
  return { name, ...JSON.parse(readFileSync(join(PEERS_DIR, `${name}.json`), 'utf8')) }
}

export const sdkFiles: PeerFile[] = SDK_FILES.map(load)

/** Every signing-side case of every SDK file, with the file it came from. */
export const sdkCases: Array<{ file: PeerFile, c: PeerCase }> = sdkFiles.flatMap((file) => file.cases.map((c) => ({ file, c })))

/** The published private key of a case, or null when the source publishes none (or it is not RSA/ECDSA). */
export function privateKeyOf (file: PeerFile, c: PeerCase): string | null {
  if (c.key === null || c.key.includes('dsa-unsupported')) return null
  return file.keys[c.key] ?? null
}

export function publicKeyOf (file: PeerFile, name: string): KeyObject {
  const pem = file.keys[name] as string
  return pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem)
}

export const nodeHash = (hash: string): string => (hash.toUpperCase() === 'SHA256' ? 'sha256' : 'sha1')

export function fromCfB64 (text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/~/g, '/').replace(/_/g, '='), 'base64')
}

export function toCfB64 (data: Buffer | string): string {
  return Buffer.from(data).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')
}

/** RSA PKCS#1 v1.5 is deterministic: what a peer's test computes at run time, computed here the same way. */
export function peerSign (key: KeyObject | string, hash: string, policy: string): string {
  return toCfB64(cryptoSign(nodeHash(hash), Buffer.from(policy, 'utf8'), key))
}

export function verifies (key: KeyObject, hash: string, policy: string, signature: string): boolean {
  return cryptoVerify(nodeHash(hash), Buffer.from(policy, 'utf8'), key, fromCfB64(signature))
}

/** The query of a URL split on `&` and the first `=`, raw (not decoded), in order. */
export function queryPairs (url: string): Array<[string, string]> {
  const q = url.indexOf('?')
  if (q === -1) return []
  return url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    return eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
  })
}

export function queryMap (url: string): Record<string, string> {
  return Object.fromEntries(queryPairs(url))
}

export function cookieHeader (cookies: Record<string, unknown>): string {
  return Object.entries(cookies).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`).join('; ')
}

/** A signed URL assembled the way a peer does: its own parameter order, its own markers. */
export function assemble (base: string, params: Array<[string, string]>): string {
  return base + (base.includes('?') ? '&' : '?') + params.map(([k, v]) => `${k}=${v}`).join('&')
}

/** An address inside an IPv4 CIDR (the first host), for replaying IP-bound grants. */
export function addressIn (cidr: string): string {
  const [ip, bits] = cidr.split('/') as [string, string | undefined]
  if (bits === '32' || bits === undefined) return ip
  const parts = ip.split('.').map(Number)
  parts[3] = (parts[3] as number) + 1
  return parts.join('.')
}

/** A URL under a Resource pattern: its wildcards filled with plain characters. */
export function urlUnder (resource: string): string {
  return resource.replace(/\*/g, 'photo.jpg')
}

/** The same URL on a host no peer vector grants. */
export function elsewhere (url: string): string {
  return url.replace(/^(\w+:\/\/)[^/?]+/, '$1elsewhere.example.net')
}

/** What a case asks a signer for, in this library's terms: a URL, or a cookie set for a resource. */
export interface SignCall {
  kind: 'url' | 'cookies'
  /** The URL signed (URL cases) or the cookie resource (cookie and policy cases). */
  target: string | undefined
  opts: Record<string, unknown>
}

export function callOf (c: PeerCase): SignCall {
  const i = c.input
  const opts: Record<string, unknown> = {}
  if (typeof i.policy === 'string') {
    opts.policy = i.policy
  } else {
    if (i.dateLessThan !== undefined && i.dateLessThan !== null) opts.expires = i.dateLessThan
    if (i.dateGreaterThan !== undefined) opts.notBefore = i.dateGreaterThan
    if (i.ipAddress !== undefined) opts.ipAddress = i.ipAddress
  }
  if (c.kind === 'url') {
    // smithy-rs names the signed URL `resource`; the CLI and .NET give a wildcard `resource` and the URL it is applied to.
    const target = c.expected.applyTo ?? i.url ?? i.resource
    if (typeof i.resource === 'string' && i.resource !== target && opts.policy === undefined) opts.resource = i.resource
    return { kind: 'url', target, opts }
  }
  return { kind: 'cookies', target: i.resource ?? i.url ?? undefined, opts }
}

/** A signing clock ten minutes before the case's expiry (the vectors expire in the past). */
export function signNowMs (c: PeerCase): number {
  const expires = typeof c.input.dateLessThan === 'number' ? c.input.dateLessThan : 1767290400
  return (expires - 600) * 1000
}
