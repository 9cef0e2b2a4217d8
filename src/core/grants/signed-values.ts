import { readCloudFrontCookies } from '../cookies.js'
import type { CloudFrontCookies } from '../signer.js'

// One custom policy for a prefix signs every file under it: the set's values, put in a query
// string, make a signed URL of any of those files. So a user's set is also their signed query,
// for players that cannot hold cookies. The values are taken when the set is signed.

/** A set's values as a signed query and as a `Cookie` header. */
export interface SignedValues {
  /** `Policy=…&Signature=…&Key-Pair-Id=…` (and `&Hash-Algorithm=SHA256`), in the order the AWS SDKs write them. */
  signedQuery: string
  /** `CloudFront-Policy=…; CloudFront-Signature=…; CloudFront-Key-Pair-Id=…`, for a native player's request headers. */
  cookieHeader: string
}

const ORDER = [
  'CloudFront-Policy', 'CloudFront-Expires', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id',
  'CloudFront-Hash-Algorithm'
] as const

const PREFIX = 'CloudFront-'

function valuesOf (pairs: Array<[string, string]>): SignedValues {
  return {
    signedQuery: pairs.map(([name, value]) => `${name.slice(PREFIX.length)}=${value}`).join('&'),
    cookieHeader: pairs.map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** The values of a set the signer made. */
export function signedValuesOf (cookies: CloudFrontCookies): SignedValues {
  const pairs: Array<[string, string]> = []
  for (const name of ORDER) {
    const value = cookies[name]
    if (value !== undefined) pairs.push([name, value])
  }
  return valuesOf(pairs)
}

/**
 * The values of the one CloudFront set a client's `Cookie` header carries (a set it holds and that
 * was verified), or null: none, or several that differ.
 */
export function heldValuesOf (cookieHeader: string | undefined): SignedValues | null {
  const found = readCloudFrontCookies(cookieHeader)
  const pairs: Array<[string, string]> = []
  for (const name of ORDER) {
    const values = found.get(name)
    if (values === undefined) continue
    if (values.some((v) => v !== values[0])) return null
    pairs.push([name, values[0] as string])
  }
  return found.has('CloudFront-Signature') ? valuesOf(pairs) : null
}
