import { FST_ERR_CF_INVALID_OPTION } from './errors.js'

// Checks shared by every part that takes options (the grant engine, the signer, the verifier, the
// edge): they catch the mistakes that otherwise surface as a bare 403 from CloudFront, at registration.

function distance (a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1))
      prev = row[j] as number
      row[j] = next
    }
  }
  return row[b.length] as number
}

/** The valid name closest to a misspelt one, when it is close enough to be what was meant. */
export function closestName (name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of valid) {
    const d = distance(name, candidate)
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
    throw new FST_ERR_CF_INVALID_OPTION(name, `is not an option${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; valid ${where === '' ? 'options' : `keys of ${where}`}: ${valid.join(', ')}`)
  }
}

/** A value that is not secret, shown safely in a message: quoted, escapes visible, bounded. */
export function shown (value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value)) ?? '""'
  return text.length > 80 ? text.slice(0, 77) + '…"' : text
}

const LOCAL_HOST_RE = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$|\.localhost(:\d+)?$/i

/** Whether browsers treat `http://<host>` as secure, so that they keep and send `Secure` cookies for it. */
export function isLocalHost (host: string): boolean {
  return LOCAL_HOST_RE.test(host)
}

/** Whether a cookie `Domain` covers a host: the host itself or a parent of it. */
export function domainCovers (domain: string, hostWithPort: string): boolean {
  const host = hostWithPort.replace(/:\d+$/, '').toLowerCase()
  const d = domain.replace(/^\./, '').toLowerCase()
  return host === d || host.endsWith('.' + d)
}
