import { createSigner, diagnose, type DoctorInput, type DoctorReport } from '../../src/api.js'
import { rsaKey } from '../helpers/keys.js'

/** Judging time: 2030-03-17T17:46:40Z, in ms. */
export const NOW = 1_900_000_000_000
export const T = NOW / 1000
export const MEDIA = 'https://media.example.com/courses/42/seg-001.ts'
export const PREFIX = 'https://media.example.com/courses/42/*'
export const APP = 'https://app.example.com/courses/42'
export const KEYS = { [rsaKey.keyPairId]: rsaKey.publicPem }

export const signer = createSigner({ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem })

export function header (cookies: object): string {
  return Object.entries(cookies).map(([k, v]) => `${k}=${v as string}`).join('; ')
}

/** A valid custom cookie set for the prefix, as a Cookie header. */
export function validHeader (options: { expires?: number, notBefore?: number, ipAddress?: string } = {}): string {
  return header(signer.signCookiesSync(PREFIX, { expires: T + 600, ...options }))
}

/** Set-Cookie lines for the valid set, with these attributes. */
export function setCookieLines (attributes: string, cookies: object = signer.signCookiesSync(PREFIX, { expires: T + 600 })): string[] {
  return Object.entries(cookies).map(([k, v]) => `${k}=${v as string}; ${attributes}`)
}

export function run (input: Partial<DoctorInput>): DoctorReport {
  return diagnose({ url: MEDIA, now: NOW, keys: KEYS, ...input })
}

export function codes (r: DoctorReport): string[] {
  return r.findings.map((f) => f.code)
}

/** Every cookie value, signature and policy in these headers: none may appear in a finding. */
export function secretsOf (...texts: string[]): string[] {
  const out: string[] = []
  for (const text of texts) {
    for (const m of text.matchAll(/CloudFront-(?:Policy|Signature)=([^;\s]+)/g)) out.push((m[1] as string).slice(0, 16))
  }
  return out
}
