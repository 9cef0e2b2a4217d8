// CloudFront's URL-safe Base64: `+` -> `-`, `=` -> `_`, `/` -> `~`.

const TO_SAFE: Record<string, string> = { '+': '-', '=': '_', '/': '~' }
const SAFE_RE = /^[A-Za-z0-9~-]*_{0,2}$/

export function encodeBase64 (data: Buffer | string): string {
  const b64 = (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64')
  return b64.replace(/[+=/]/g, (c) => TO_SAFE[c] as string)
}

/**
 * Strict decoding: only CloudFront's alphabet, a length that is a multiple of 4, padding only at
 * the end. Returns `null` for anything else (never throws on request input).
 */
export function decodeBase64 (text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0 || !SAFE_RE.test(text)) return null
  const b64 = text.replace(/-/g, '+').replace(/~/g, '/').replace(/_/g, '=')
  const buf = Buffer.from(b64, 'base64')
  // Round-trip check: refuses non-canonical trailing bits, so one policy has one encoding.
  return buf.toString('base64') === b64 ? buf : null
}
