// URL parts generated in the canonical form @aws-sdk/cloudfront-signer leaves unchanged, and that a browser sends as is.
import fc from 'fast-check'

const RESERVED = new Set(['expires', 'policy', 'signature', 'key-pair-id', 'hash-algorithm'])

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/)
export const hostArb = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
  .map(([labels, port]) => labels.join('.') + (port === undefined ? '' : `:${port}`))

function tryEncode (s: string): string | null {
  try {
    return encodeURIComponent(s)
  } catch {
    return null
  }
}

// The SDK rewrites each path segment as encodeURIComponent(decodeURIComponent(segment)): an encoded segment is a fixed point.
export const segmentArb = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 })
).map(tryEncode).filter((s): s is string => s !== null)
export const pathArb = fc.array(segmentArb, { minLength: 0, maxLength: 4 }).map((segs) => '/' + segs.join('/'))

// The SDK keeps %XX (upper-cased) and `+` in the query and encodeURIComponent's everything else.
const queryKeyArb = fc.stringMatching(/^(?:[A-Za-z0-9_.~!*()-]|%[0-9A-F]{2}){1,8}$/).filter((k) => !RESERVED.has(k.toLowerCase()))
const queryValueArb = fc.stringMatching(/^(?:[A-Za-z0-9_.~!*()+-]|%[0-9A-F]{2}){0,10}$/)
export const queryArb = fc.option(
  fc.array(fc.tuple(queryKeyArb, queryValueArb), { minLength: 1, maxLength: 3 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  { nil: undefined }
)

export interface UrlInput { scheme: 'https' | 'http', host: string, path: string, query: string | undefined }
export const urlPartsArb: fc.Arbitrary<UrlInput> = fc.record({
  scheme: fc.constantFrom('https' as const, 'http' as const),
  host: hostArb,
  path: pathArb,
  query: queryArb
})
export const urlOf = (u: UrlInput): string => `${u.scheme}://${u.host}${u.path}${u.query === undefined ? '' : `?${u.query}`}`
