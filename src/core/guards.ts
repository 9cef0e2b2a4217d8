import { FST_ERR_CF_INVALID_OPTION } from './errors.js'
import { parseIPv4 } from './ip.js'

// Checks shared by every part that takes options (the grant engine, the signer, the verifier, the
// edge, the mirror, the CLI): they catch the mistakes that otherwise surface as a bare 403 from
// CloudFront, at registration. Each helper and validator is written here once.

/** Throws FST_ERR_CF_INVALID_OPTION for `option` (its dotted name), saying what to change. */
export function invalid (option: string, why: string): never {
  throw new FST_ERR_CF_INVALID_OPTION(option, why)
}

/** A plain object (not null, not an array): what an options object or a JSON document must be. */
export function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Whether a value returned by user code (a hook, a loader) is a promise to wait for. */
export function isThenable<T> (v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
}

/** A count or size option: a positive whole number, or `fallback` when absent. */
export function positive (value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || (value as number) <= 0) invalid(option, 'expected a positive whole number')
  return value as number
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance (a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) rows.push([i])
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const prev = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row[j] = d
    }
  }
  return (rows[a.length] as number[])[b.length] as number
}

/** The valid name closest to a misspelt one, when it is close enough to be what was meant. */
export function closestName (name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of valid) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/**
 * Refuses keys an options object does not know (a typo would otherwise be ignored), naming the
 * closest valid one. `where` is the object's name in messages (`''` for the top level).
 */
export function refuseUnknownKeys (options: object, valid: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (valid.includes(key) || (options as Record<string, unknown>)[key] === undefined) continue
    const guess = closestName(key, valid)
    const name = where === '' ? key : `${where}.${key}`
    throw new FST_ERR_CF_INVALID_OPTION(name, `is not an option${guess === undefined
? ''
      : ` (did you mean "${guess}"?)`}; valid ${where === '' ? 'options' : `keys of ${where}`}: ${valid.join(', ')}`)
  }
}

/** A value that is not secret, shown safely in a message: quoted, escapes visible, bounded. */
export function shown (value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value)) ?? '""'
  return text.length > 80 ? text.slice(0, 77) + '…"' : text
}

// A browser's cookie rules, as far as the library and the doctor depend on them (RFC 6265bis as
// Chromium applies it).

const LOCAL_HOST_RE = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$|\.localhost(:\d+)?$/i

/** Whether browsers treat `http://<host>` as secure, so that they keep and send `Secure` cookies for it. */
export function isLocalHost (host: string): boolean {
  return LOCAL_HOST_RE.test(host)
}

/** An IP address host (`[::1]` or dotted IPv4): a cookie Domain never covers one but itself. */
export function isIpHost (host: string): boolean {
  return host.startsWith('[') || parseIPv4(host) !== null
}

/** Whether a cookie `Domain` covers a host: the host itself or, for a name, a parent of it. */
export function domainCovers (domain: string, hostWithPort: string): boolean {
  const host = hostWithPort.replace(/:\d+$/, '').toLowerCase()
  const d = domain.replace(/^\./, '').toLowerCase()
  return host === d || (!isIpHost(host) && host.endsWith('.' + d))
}

// Suffixes under which anybody can register a name: a cookie Domain there is refused, and two
// names under one of them are different sites. A few well-known entries of the Public Suffix List.
const SHARED_SUFFIXES = new Set(['cloudfront.net', 'amazonaws.com', 's3.amazonaws.com', 'github.io', 'herokuapp.com',
  'netlify.app', 'vercel.app', 'pages.dev', 'workers.dev', 'azurewebsites.net', 'web.app', 'firebaseapp.com'])
// Second-level labels under which country code domains register names (co.uk, com.au, ...):
// `example.co.uk` may be a cookie Domain, `co.uk` may not. Without the whole list this is the strict
// reading: a name of that shape is a public suffix.
const SECOND_LEVEL = /^(?:ac|co|com|edu|gov|net|org|ne|or|go|gob|mil|nic)\.[a-z]{2}$/

/** Whether browsers refuse a name as a cookie Domain: anybody may register names under it. */
export function isPublicSuffix (domain: string): boolean {
  return !domain.includes('.') || SHARED_SUFFIXES.has(domain) || SECOND_LEVEL.test(domain)
}

/**
 * The registrable domain of a host: an IP or a single label is its own; otherwise one label under its public suffix.
 */
export function registrableDomain (host: string): string {
  if (isIpHost(host) || !host.includes('.')) return host
  const labels = host.split('.')
  // The longest public suffix, then one label more.
  let suffix = labels.length - 1
  for (let i = labels.length - 2; i >= 1; i--) {
    if (isPublicSuffix(labels.slice(i).join('.'))) suffix = i
  }
  return labels.slice(suffix - 1).join('.')
}
