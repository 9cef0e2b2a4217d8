import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { FST_ERR_CF_CLI_USAGE, FST_ERR_CF_INVALID_KEY } from '../core/errors.js'
import { loadPublicKey } from '../core/keys.js'
import { MAX_EPOCH_SECONDS } from '../core/time.js'
import { didYouMean } from './suggest.js'

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  stopped: () => Promise<void>
}

export interface Command {
  summary: string
  help: string
  /**
   * The library's option names that come from this command's flags (`expiresIn: '--expires-in'`), so a
   * library error names the flag the user typed. Several flags: the first one given on the command line.
   */
  flags?: Record<string, string | string[]>
  run: (args: string[], io: Io) => Promise<number>
}

export function usage (message: string): never {
  throw new FST_ERR_CF_CLI_USAGE(message)
}

type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/**
 * Strict parsing: an unknown flag or a missing value is a usage error, not a silent default. The
 * tokens are checked here first, so that each mistake gets one plain sentence (and a suggestion)
 * rather than parseArgs' own text.
 */
export function parse (args: string[], options: Options, maxPositionals: number): Parsed {
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } }
  const longNames = Object.keys(all).map((n) => `--${n}`)
  const { tokens } = parseArgs({ args, options: all, allowPositionals: true, strict: false, tokens: true })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const spec = Object.hasOwn(all, token.name) ? all[token.name] : undefined
    if (spec === undefined) {
      usage(`unknown option ${token.rawName}${didYouMean(token.rawName.startsWith('--')
      ? token.rawName
: `--${token.name}`, longNames)}`)
    }
    if (spec.type === 'boolean' &&
      token.value !== undefined) usage(`${token.rawName} takes no value (got "${token.value}")`)
    if (spec.type === 'string') {
      if (token.value === undefined) usage(`${token.rawName} needs a value`)
      if (!token.inlineValue && token.value.length > 1 && token.value.startsWith('-')) {
        usage(`${token.rawName} needs a value, but the next argument is ${token.value} ` +
          `(write ${token.rawName}=${token.value} if that is the value)`)
      }
    }
  }
  let parsed
  try {
    parsed = parseArgs({ args, options: all, allowPositionals: true, strict: true })
  } catch (err) {
    // Not reached by the checks above; parseArgs' first sentence names the flag.
    usage((err as Error).message.split('. ')[0] as string)
  }
  if (parsed.values.help !== true && parsed.positionals.length > maxPositionals) {
    usage(`unexpected argument "${parsed.positionals[maxPositionals] as string}"`)
  }
  return parsed as Parsed
}

export function str (p: Parsed, name: string): string | undefined {
  const v = p.values[name]
  return typeof v === 'string' ? v : undefined
}

export function required (p: Parsed, name: string): string {
  const v = str(p, name)
  if (v === undefined || v === '') usage(`--${name} is required`)
  return v
}

export function list (p: Parsed, name: string): string[] {
  const v = p.values[name]
  return Array.isArray(v) ? v : []
}

/** The positional argument, which must be a full URL as the browser requests it, not a path. */
export function absoluteUrl (p: Parsed, what: string): string {
  const v = p.positionals[0]
  if (v === undefined) usage(`the ${what} is missing`)
  if (!/^[A-Za-z*][A-Za-z0-9+.-]*:\/\//.test(v)) {
    const path = v.startsWith('/') ? v : `/${v}`
    usage(`the ${what} ${v} is not a full URL: give it with its scheme and host, as the browser requests it, such as ` +
      `https://media.example.com${path}`)
  }
  return v
}

/** `--cookie` values, joined as one Cookie header; a pasted `Cookie: ` header name is dropped. */
export function cookieHeader (values: string[]): string | undefined {
  const parts = values.map((v) => v.replace(/^\s*cookie\s*:\s*/i, '').trim()).filter((v) => v !== '')
  return parts.length > 0 ? parts.join('; ') : undefined
}

/** Reads a file named on the command line; the message names the flag and the path, never the content. */
export function readFile (flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    return usage(`cannot read ${flag} ${path} (${(err as { code?: string }).code ?? 'error'})`)
  }
}

/** A time as given on the command line: integer epoch seconds, or an ISO 8601 date. */
export function parseTime (flag: string, text: string | undefined): number | Date | undefined {
  if (text === undefined) return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) usage(`${flag} ${text} is neither epoch seconds nor an ISO date such as 2030-01-01T00:00:00Z`)
  return new Date(ms)
}

/** `--now`: a time to judge at, which CloudFront's epoch seconds can reach (a larger number is milliseconds). */
export function parseNow (text: string | undefined): number | Date | undefined {
  const at = parseTime('--now', text)
  if (typeof at === 'number' &&
    at > MAX_EPOCH_SECONDS) {
    usage(`--now ${text as string} is past ${MAX_EPOCH_SECONDS}, the last second CloudFront ` +
      'reads: give epoch seconds, not milliseconds')
  }
  return at
}

/** `--ip`: the viewer's address, IPv4 or IPv6. */
export function clientIp (p: Parsed): string | undefined {
  const ip = str(p, 'ip')
  if (ip !== undefined &&
    isIP(ip) === 0) usage(`--ip ${ip}: expected the viewer's IPv4 or IPv6 address, such as 203.0.113.7`)
  return ip
}

/** An epoch time in seconds as an ISO date, without milliseconds. */
export function isoDate (epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z')
}

// A standalone number of 9 or 10 digits: an epoch time in seconds, not part of a URL, a path or a value.
const EPOCH_IN_TEXT = /(?<![\w/.%=&?:+~-])(\d{9,10})(?![\w/%=&?+~-]|[.:]\w)/g

/** Adds the ISO date after each epoch time (2001 to 2038) in a message: `1893456000 (2030-01-01T00:00:00Z)`. */
export function withIsoDates (text: string): string {
  return text.replace(EPOCH_IN_TEXT, (n: string, _: string, at: number) => {
    const s = Number(n)
    if (s < 1e9 || s > MAX_EPOCH_SECONDS) return n
    // Already in parentheses, as in "(now 1796115865)": no second pair.
    return text[at + n.length] === ')' ? `${n}, ${isoDate(s)}` : `${n} (${isoDate(s)})`
  })
}

/** `--key ID=FILE` pairs into a key map of PEM contents. */
export function keyMap (specs: string[]): Record<string, Buffer> {
  if (specs.length === 0) usage('give at least one --key ID=public.pem')
  const keys: Record<string, Buffer> = {}
  for (const spec of specs) {
    const eq = spec.indexOf('=')
    if (eq <= 0 || eq === spec.length - 1) usage(`--key ${spec}: expected ID=path/to/public.pem`)
    const id = spec.slice(0, eq)
    if (keys[id] !== undefined) usage(`--key ${id} is given twice`)
    const file = spec.slice(eq + 1)
    const pem = readFile('--key', file)
    // Node would take a private key and derive its public half: the private key would then sit where only the public
    // one belongs.
    if (/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem.toString('latin1'))) {
      usage(`--key ${spec}: that file holds a private key, and --key takes the public key; derive it with: openssl ` +
        `pkey -in ${shellWord(file)} -pubout -out ${shellWord(publicKeyFileFor(file))}`)
    }
    try {
      loadPublicKey(pem)
    } catch (err) {
      // Said here, where the flag that brought the file is known: the library cannot tell which --key it was.
      const reason = err instanceof FST_ERR_CF_INVALID_KEY ? err.reason : (err as Error).message
      throw new FST_ERR_CF_INVALID_KEY(`--key ${spec}: ${reason}`, '--key')
    }
    keys[id] = pem
  }
  return keys
}

/** A word the shell passes as it is: quoted when it holds anything but plain path characters. */
function shellWord (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`
}

/**
 * Where to write the public key derived from a private key file: beside it, `private` in its name
 * made `public` (private.pem: public.pem), never the file itself nor one that exists already.
 */
export function publicKeyFileFor (privateFile: string): string {
  const dir = dirname(privateFile)
  const name = basename(privateFile)
  const stem = name.replace(/\.(pem|key)$/i, '')
  const renamed = name.replace(/private/g, 'public').replace(/Private/g, 'Public').replace(/PRIVATE/g, 'PUBLIC')
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? renamed : i === 1 ? `${stem}.pub.pem` : `${stem}.pub-${i}.pem`
    const path = join(dir, candidate)
    if (candidate !== name && !existsSync(path)) return path
  }
}
