import { readCloudFrontCookies } from '../cookies.js'

// One custom policy for a prefix signs every file under it: the cookie set's values, put in a
// query string, make a signed URL of any of those files. So a user's cached cookie set is also
// their signed query, for players that cannot hold cookies.

/** A set's values as a signed query and as a `Cookie` header. */
export interface Credentials {
  /** `Policy=…&Signature=…&Key-Pair-Id=…` (and `&Hash-Algorithm=SHA256`), in the order the AWS SDKs write them. */
  query: string
  /** `CloudFront-Policy=…; CloudFront-Signature=…; CloudFront-Key-Pair-Id=…`, for a native player's request headers. */
  cookie: string
}

const PREFIX = 'CloudFront-'

// A cached set's strings never change: its credentials are made once, on first use.
const made = new WeakMap<readonly string[], Credentials>()

function build (pairs: Array<[string, string]>): Credentials | null {
  if (!pairs.some(([name]) => name === 'CloudFront-Signature')) return null
  return {
    query: pairs.map(([name, value]) => `${name.slice(PREFIX.length)}=${value}`).join('&'),
    cookie: pairs.map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** The credentials of a set's `Set-Cookie` strings (as the engine prepares them), or null when they hold no set. */
export function credentialsOf (setCookie: readonly string[]): Credentials | null {
  const known = made.get(setCookie)
  if (known !== undefined) return known
  const pairs: Array<[string, string]> = []
  for (const line of setCookie) {
    const semi = line.indexOf(';')
    const pair = semi === -1 ? line : line.slice(0, semi)
    const eq = pair.indexOf('=')
    if (eq > 0 && pair.startsWith(PREFIX) && eq + 1 < pair.length) pairs.push([pair.slice(0, eq), pair.slice(eq + 1)])
  }
  const out = build(pairs)
  if (out !== null) made.set(setCookie, out)
  return out
}

/** The credentials of the one CloudFront set a `Cookie` header carries, or null (none, or several that differ). */
export function credentialsOfHeader (cookieHeader: string | undefined): Credentials | null {
  const pairs: Array<[string, string]> = []
  for (const [name, values] of readCloudFrontCookies(cookieHeader)) {
    if (values.some((v) => v !== values[0])) return null
    pairs.push([name, values[0] as string])
  }
  const order = ['CloudFront-Policy', 'CloudFront-Expires', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id', 'CloudFront-Hash-Algorithm']
  return build(pairs.filter(([name]) => order.includes(name)).sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])))
}
