import { FST_ERR_CF_INVALID_TIME } from './errors.js'

/** The largest time a CloudFront policy can carry (2038-01-19T03:14:07Z). */
export const MAX_EPOCH_SECONDS = 2147483647

/** A point in time: a `Date`, or integer Unix epoch **seconds**. */
export type TimeInput = Date | number
/** A duration: integer seconds, or a string such as `'90s'`, `'15m'`, `'12h'`, `'7d'`. */
export type DurationInput = number | string

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }
const DURATION_RE = /^(\d{1,10})\s*([smhd]?)$/

/**
 * Converts a time to integer epoch seconds, refusing the common mistakes:
 * milliseconds, fractions, negative numbers, and values past 2147483647. Times below `min` are
 * refused too (0 is an epoch time, but never a usable expiry).
 */
export function toEpochSeconds (value: unknown, name: string, min = 1): number {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) throw new FST_ERR_CF_INVALID_TIME(name, 'the Date is invalid')
    // Rounded as @aws-sdk/cloudfront-signer does, so the same Date signs the same policy.
    return checkRange(Math.round(ms / 1000), name, min)
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new FST_ERR_CF_INVALID_TIME(name, 'expected a Date or integer epoch seconds')
  }
  if (!Number.isInteger(value)) {
    throw new FST_ERR_CF_INVALID_TIME(name, `${value} is not an integer number of seconds`)
  }
  return checkRange(value, name, min)
}

function checkRange (seconds: number, name: string, min: number): number {
  if (seconds > MAX_EPOCH_SECONDS) {
    // 1e11 seconds is the year 5138; anything that large is almost surely Date.now() in milliseconds.
    const hint = seconds >= 1e11 ? ' (it looks like milliseconds: divide by 1000)' : ''
    throw new FST_ERR_CF_INVALID_TIME(name, `${seconds} is past ${MAX_EPOCH_SECONDS}${hint}`)
  }
  if (seconds < min) {
    throw new FST_ERR_CF_INVALID_TIME(name, `${seconds} is ${min === 0
    ? 'before the epoch (1970-01-01)'
: 'not a positive epoch time'}`)
  }
  return seconds
}

/**
 * Whether a bare number of seconds reads as milliseconds: a whole multiple of 1000 of at least
 * 10,000. `60000` and `30000` are `setTimeout`-style for a minute and half a minute; as seconds
 * they are 16.7 and 8.3 hours, lifetimes nobody writes that way. Durations meant in seconds are
 * rarely such multiples (`900`, `3600`, `86400`, `604800` are not), and a unit (`'36000s'`, `'10h'`)
 * says a long one is meant.
 */
export function looksLikeMilliseconds (seconds: number): boolean {
  return seconds >= 10_000 && seconds % 1000 === 0
}

/** A number of seconds in the largest unit that keeps it readable: `16.7 hours`, `1000 days`. */
export function readableSeconds (seconds: number): string {
  const [unit, size] = seconds >= 2 * 86400
    ? ['days', 86400]
    : seconds >= 2 * 3600
      ? ['hours', 3600]
      : seconds >= 120
        ? ['minutes', 60]
        : ['seconds', 1]
  return `${Math.round((seconds / (size as number)) * 10) / 10} ${unit as string}`
}

/** Why a bare duration is refused as milliseconds, with the value it most likely meant. */
export function millisecondsHint (seconds: number): string {
  return `${seconds} reads as milliseconds: durations are seconds, so did you mean "${seconds / 1000}s"? If you mean ` +
    `${readableSeconds(seconds)}, write the unit ("${seconds}s")`
}

/**
 * Parses a duration into a positive integer number of seconds. A bare number (or a string without
 * unit) that reads as milliseconds is refused: see looksLikeMilliseconds.
 */
export function parseDuration (value: unknown, name: string): number {
  let seconds: number | undefined
  let bare = false
  if (typeof value === 'number') {
    if (Number.isInteger(value)) seconds = value
    bare = true
  } else if (typeof value === 'string') {
    const m = DURATION_RE.exec(value.trim())
    if (m) {
      seconds = Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] as number)
      bare = m[2] === ''
    }
  }
  if (seconds === undefined) {
    throw new FST_ERR_CF_INVALID_TIME(name, 'expected integer seconds or a duration such as "90s", "15m", "12h", "7d"')
  }
  if (bare && looksLikeMilliseconds(seconds)) throw new FST_ERR_CF_INVALID_TIME(name, millisecondsHint(seconds))
  if (seconds <= 0) throw new FST_ERR_CF_INVALID_TIME(name, 'a duration must be more than 0 seconds')
  if (seconds > MAX_EPOCH_SECONDS) {
    throw new FST_ERR_CF_INVALID_TIME(name,
    `${seconds} seconds is too long (it looks like milliseconds?)`)
  }
  return seconds
}

/** Seconds since the epoch for a clock that returns milliseconds like `Date.now`. */
export function nowSeconds (now: () => number): number {
  return Math.floor(now() / 1000)
}
