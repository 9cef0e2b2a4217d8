import { FST_ERR_CF_INVALID_IP } from './errors.js'

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`)
const MASK_RE = /^(3[0-2]|[12]?\d)$/
// Hex, `:` and `.` (IPv4-mapped), an optional zone (`%eth0`) and prefix length.
const IPV6_LIKE_RE = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?(\/\d{1,3})?$/

export interface Cidr { text: string, base: number, bits: number }

/**
 * Parses an IPv4 address into an unsigned 32-bit number, or returns null. Leading zeros are refused (octal ambiguity).
 */
export function parseIPv4 (ip: string): number | null {
  const m = IPV4_RE.exec(ip)
  if (!m) return null
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0
}

/** Parses `a.b.c.d` or `a.b.c.d/nn`; returns null when it is neither. */
export function tryParseCidr (value: string): Cidr | null {
  const slash = value.indexOf('/')
  const ip = slash === -1 ? value : value.slice(0, slash)
  const mask = slash === -1 ? '32' : value.slice(slash + 1)
  const base = parseIPv4(ip)
  if (base === null || !MASK_RE.test(mask)) return null
  return { text: `${ip}/${mask}`, base, bits: Number(mask) }
}

/** The `AWS:SourceIp` value for an option, as CloudFront wants it (`a.b.c.d/nn`), or a coded error. */
export function parseCidrOption (value: unknown, option = 'ipAddress'): Cidr {
  if (typeof value !== 'string') {
    throw new FST_ERR_CF_INVALID_IP('expected a string such as "203.0.113.7" or ' +
    '"203.0.113.0/24"', option)
  }
  const cidr = tryParseCidr(value)
  if (cidr) return cidr
  // Only what could be an IPv6 address is called one: quotes or braces around a `:` are an injection attempt.
  if (IPV6_LIKE_RE.test(value)) {
    throw new FST_ERR_CF_INVALID_IP(`"${value}" is IPv6: CloudFront policies support IPv4 addresses and CIDR ranges ` +
      'only', option)
  }
  if (!/^[0-9./]*$/.test(value)) {
    throw new FST_ERR_CF_INVALID_IP(`${JSON.stringify(value)} contains characters that are not part of an IPv4 ` +
      'address or CIDR: give one such as "203.0.113.0/24"', option)
  }
  throw new FST_ERR_CF_INVALID_IP(`"${value}" is not an IPv4 address or CIDR such as "203.0.113.0/24"`, option)
}

/**
 * Normalises a client address: IPv4 as is, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) to IPv4.
 * Returns null for any other IPv6 address or garbage.
 */
export function normaliseClientIp (ip: string | undefined): string | null {
  if (typeof ip !== 'string') return null
  const lower = ip.toLowerCase()
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower
  return parseIPv4(v4) === null ? null : v4
}

export function ipInCidr (ip: string, cidr: Cidr): boolean {
  const addr = parseIPv4(ip)
  if (addr === null) return false
  if (cidr.bits === 0) return true
  const mask = (0xffffffff << (32 - cidr.bits)) >>> 0
  return ((addr & mask) >>> 0) === ((cidr.base & mask) >>> 0)
}
