import { createSigner, type Signer, type SignCookiesOptions } from '../core/signer.js'
import { checkCookieDomain, serializeCookieSet, type SameSite } from '../core/cookies.js'
import { splitUrl } from '../core/url.js'
import {
  absoluteUrl, parse, parseTime, readFile, required, str, usage, type Command, type Io,
  type Parsed
} from './args.js'

const SIGNING_OPTIONS = {
  'key-id': { type: 'string' },
  'private-key': { type: 'string' },
  'passphrase-env': { type: 'string' },
  expires: { type: 'string' },
  'expires-in': { type: 'string' },
  'not-before': { type: 'string' },
  ip: { type: 'string' },
  sha256: { type: 'boolean' }
} as const

const SIGNING_FLAGS = {
  keyPairId: '--key-id',
  privateKey: '--private-key',
  passphrase: '--passphrase-env',
  // The expiry computed from --expires-in is checked as `expires` too.
  expires: ['--expires', '--expires-in'],
  expiresIn: '--expires-in',
  notBefore: '--not-before',
  ipAddress: '--ip',
  hashAlgorithm: '--sha256'
}

const SIGNING_HELP = `  --key-id <id>            CloudFront public key ID (required)
  --private-key <file>     private key PEM file (required)
  --passphrase-env <var>   read the key's passphrase from this environment variable
  --expires <time>         expiry: epoch seconds or an ISO date (2030-01-01T00:00:00Z)
  --expires-in <duration>  expiry from now: 90s, 15m, 12h, 7d, or seconds
  --not-before <time>      not valid before this time (makes the policy custom)
  --ip <address|cidr>      only this IPv4 address or range (makes the policy custom)
  --sha256                 sign with SHA-256 (announced by Hash-Algorithm=SHA256)
  -h, --help               show this help`

/** A signer's warnings (a key ID CloudFront cannot know, a weak key) as lines on stderr, before the output. */
function signerFrom (p: Parsed, io: Io, command: string): Signer {
  const keyPairId = required(p, 'key-id')
  const file = required(p, 'private-key')
  const passEnv = str(p, 'passphrase-env')
  let passphrase: string | undefined
  if (passEnv !== undefined) {
    passphrase = process.env[passEnv]
    if (passphrase === undefined) usage(`--passphrase-env ${passEnv}: that environment variable is not set`)
  }
  return createSigner({
    keyPairId,
    privateKey: readFile('--private-key', file),
    passphrase,
    hashAlgorithm: p.values.sha256 === true ? 'SHA256' : 'SHA1',
    onWarning: (message) => { io.err(`cloudfront-cookies ${command}: warning: ${message}`) }
  })
}

function timesFrom (p: Parsed): SignCookiesOptions {
  const expires = parseTime('--expires', str(p, 'expires'))
  const expiresIn = str(p, 'expires-in')
  if (expires === undefined && expiresIn === undefined) usage('give --expires <time> or --expires-in <duration>')
  const opts: SignCookiesOptions = {}
  if (expires !== undefined) opts.expires = expires
  if (expiresIn !== undefined) opts.expiresIn = /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn
  const notBefore = parseTime('--not-before', str(p, 'not-before'))
  if (notBefore !== undefined) opts.notBefore = notBefore
  const ip = str(p, 'ip')
  if (ip !== undefined) opts.ipAddress = ip
  return opts
}

/**
 * The cookie Path for a resource: the path up to its first wildcard, cut after the last `/`
 * (`https://cdn/courses/42/*` gives `/courses/42/`), or the exact path of a URL without one.
 * A browser sends a cookie to the paths under its Path, so each prefix gets its own set.
 */
export function cookiePathFor (resource: string): string {
  const path = splitUrl(resource)?.path ?? '/'
  const star = path.indexOf('*')
  if (star === -1) return path === '' ? '/' : path
  return path.slice(0, path.lastIndexOf('/', star) + 1) || '/'
}

/** The path of a resource that names a folder (it ends in "/") without a wildcard, else null. */
function folderWithoutWildcard (resource: string): string | null {
  const parts = splitUrl(resource)
  if (parts === null || parts.query !== null || resource.includes('*') || !parts.path.endsWith('/')) return null
  return parts.path
}

function checkedPath (given: string | undefined, resource: string): string {
  const derived = cookiePathFor(resource)
  if (given === undefined) return derived
  if (!given.startsWith('/') || /[*?;\s]/.test(given)) {
    usage(`--path ${given}: a cookie Path is a plain prefix that starts with "/", without wildcards, ` +
      `such as ${derived}`)
  }
  // The browser would never send cookies whose Path does not cover the granted files.
  if (!derived.startsWith(given)) {
    usage(`--path ${given} does not cover the resource's path ${derived}: the browser ` +
    'would not send these cookies there')
  }
  return given
}

export const signUrl: Command = {
  summary: 'sign a URL',
  help: 'Usage: cloudfront-cookies sign-url <url> --key-id <id> --private-key <file> (--expires <time> | ' +
    `--expires-in <duration>) [options]

Prints the signed URL. Give the full URL exactly as the browser will request it (percent-encoded).

Options:
  --resource <pattern>     sign under this wildcard resource (https://host/path/*) instead of the exact URL
${SIGNING_HELP}`,
  flags: { ...SIGNING_FLAGS, resource: '--resource' },
  async run (args, io) {
    const p = parse(args, { ...SIGNING_OPTIONS, resource: { type: 'string' } }, 1)
    const url = absoluteUrl(p, 'URL to sign')
    const opts = { ...timesFrom(p), ...(str(p, 'resource') !== undefined ? { resource: str(p, 'resource') } : {}) }
    io.out(signerFrom(p, io, 'sign-url').signUrlSync(url, opts))
    return 0
  }
}

export const signCookies: Command = {
  summary: 'sign a cookie set for a resource',
  help: 'Usage: cloudfront-cookies sign-cookies <resource> --key-id <id> --private-key <file> (--expires <time> | ' +
    `--expires-in <duration>) [options]

Prints the CloudFront cookie set for <resource>: an exact URL (canned policy) or a wildcard
such as https://media.example.com/courses/42/* (custom policy).

Options:
  --format json|header|set-cookie
                           json: the cookie map (default); header: one Cookie header, for
                           curl -H or verify --cookie; set-cookie: one Set-Cookie line per cookie
  --path <path>            set-cookie: the cookie Path (default: the resource's prefix, such as
                           /courses/42/ for https://media.example.com/courses/42/*)
  --domain <domain>        set-cookie: the cookie Domain (default: host-only)
  --same-site <value>      set-cookie: Strict, Lax or None (default Lax); Secure and HttpOnly are always set
${SIGNING_HELP}`,
  flags: { ...SIGNING_FLAGS, 'cookie.domain': '--domain' },
  async run (args, io) {
    const p = parse(args, {
      ...SIGNING_OPTIONS,
      format: { type: 'string' },
      path: { type: 'string' },
      domain: { type: 'string' },
      'same-site': { type: 'string' }
    }, 1)
    const resource = absoluteUrl(p, 'resource')
    const format = str(p, 'format') ?? 'json'
    if (format !== 'json' && format !== 'header' &&
      format !== 'set-cookie') usage(`--format ${format}: expected json, header or set-cookie`)
    for (const flag of ['path', 'domain', 'same-site']) {
      if (format !== 'set-cookie' && str(p, flag) !== undefined) {
        usage(`--${flag} is a cookie attribute: it applies to --format set-cookie only`)
      }
    }
    const sameSite = str(p, 'same-site') ?? 'Lax'
    if (sameSite !== 'Strict' && sameSite !== 'Lax' &&
      sameSite !== 'None') usage(`--same-site ${sameSite}: expected Strict, Lax or None`)
    const path = format === 'set-cookie' ? checkedPath(str(p, 'path'), resource) : '/'
    const domain = checkCookieDomain(str(p, 'domain'), 'cookie.domain')
    const signer = signerFrom(p, io, 'sign-cookies')
    // Fix the expiry once, so the Expires attribute and the policy agree to the second.
    const times = timesFrom(p)
    const prepared = signer.preparePolicy(resource, times)
    const fixed = { ...times, expires: prepared.expires }
    delete fixed.expiresIn
    const cookies = signer.signCookiesSync(resource, fixed)
    const folder = folderWithoutWildcard(resource)
    if (folder !== null) {
      io.err(`cloudfront-cookies sign-cookies: warning: ${resource} names a folder without "*": these cookies open ` +
        `that one URL (exactly ${folder}), not the files under it. For the whole folder, sign '${resource}*'`)
    }
    if (format === 'json') {
      io.out(JSON.stringify(cookies, null, 2))
    } else if (format === 'header') {
      io.out(Object.entries(cookies).map(([k, v]) => `${k}=${v as string}`).join('; '))
    } else {
      const lines = serializeCookieSet(cookies, {
        path,
        domain,
        secure: true,
        httpOnly: true,
        sameSite: sameSite as SameSite,
        expires: prepared.expires
      })
      for (const line of lines) io.out(`Set-Cookie: ${line}`)
    }
    return 0
  }
}
