import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createSigner, type Signer, type SignCookiesOptions } from '../core/signer.js'
import { createVerifier } from '../core/verifier.js'
import { serializeCookieSet, type SameSite } from '../core/cookies.js'
import type { EdgeBehavior } from '../edge/options.js'
import { keyMap, list, parse, parseTime, readFile, required, str, usage, type Parsed } from './args.js'
import { generateKeyPair, localKeyId } from './keygen.js'
import { doctor } from './doctor.js'

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  stopped: () => Promise<void>
}

export interface Command {
  summary: string
  help: string
  run: (args: string[], io: Io) => Promise<number>
}

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

const SIGNING_HELP = `  --key-id <id>            CloudFront public key ID (required)
  --private-key <file>     private key PEM file (required)
  --passphrase-env <var>   read the key's passphrase from this environment variable
  --expires <time>         expiry: epoch seconds or an ISO date (2030-01-01T00:00:00Z)
  --expires-in <duration>  expiry from now: 90s, 15m, 12h, 7d, or seconds
  --not-before <time>      not valid before this time (makes the policy custom)
  --ip <address|cidr>      only this IPv4 address or range (makes the policy custom)
  --sha256                 sign with SHA-256 (announced by Hash-Algorithm=SHA256)
  -h, --help               show this help`

function signerFrom (p: Parsed): Signer {
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
    hashAlgorithm: p.values.sha256 === true ? 'SHA256' : 'SHA1'
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

function positional (p: Parsed, what: string): string {
  const v = p.positionals[0]
  if (v === undefined) usage(`the ${what} is missing`)
  return v
}

const keygen: Command = {
  summary: 'create a key pair (RSA-2048 or ECDSA P-256) and print its key ID',
  help: `Usage: cloudfront-cookies keygen [--type rsa|ecdsa] [--out <dir>] [--key-id <id>] [--force]

Writes <dir>/private.pem (PKCS#8, mode 0600: keep it secret, never commit it) and
<dir>/public.pem (SPKI: upload it to CloudFront, or give it to the edge with --key),
then prints the key ID. The private key is never printed.

The key ID is derived from the public key (K and 13 characters), for the local edge.
CloudFront assigns its own ID when the public key is uploaded: sign with that one there.

Options:
  --type rsa|ecdsa   key type (default rsa: RSA-2048)
  --out <dir>        where to write the files (default: the current directory)
  --key-id <id>      print this key ID instead of the derived one
  --force            overwrite existing private.pem and public.pem
  -h, --help         show this help`,
  async run (args, io) {
    const p = parse(args, { type: { type: 'string' }, out: { type: 'string' }, 'key-id': { type: 'string' }, force: { type: 'boolean' } }, 0)
    const type = str(p, 'type') ?? 'rsa'
    if (type !== 'rsa' && type !== 'ecdsa') usage(`--type ${type}: expected rsa or ecdsa`)
    const given = str(p, 'key-id')
    if (given !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(given)) usage(`--key-id ${given}: use letters, digits, "_" and "-"`)
    const dir = resolve(str(p, 'out') ?? '.')
    const privatePath = join(dir, 'private.pem')
    const publicPath = join(dir, 'public.pem')
    if (p.values.force !== true) {
      for (const file of [privatePath, publicPath]) {
        if (existsSync(file)) usage(`${file} already exists (use --force to replace it)`)
      }
    }
    const pair = generateKeyPair(type)
    mkdirSync(dir, { recursive: true })
    writeFileSync(privatePath, pair.privatePem, { mode: 0o600 })
    // writeFile keeps the mode of a file it replaces.
    chmodSync(privatePath, 0o600)
    writeFileSync(publicPath, pair.publicPem, { mode: 0o644 })
    io.err(`Wrote ${privatePath} (${type === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}, mode 0600: keep it secret) and ${publicPath}.`)
    io.out(given ?? localKeyId(pair.publicKey))
    return 0
  }
}

const signUrl: Command = {
  summary: 'sign a URL',
  help: `Usage: cloudfront-cookies sign-url <url> --key-id <id> --private-key <file> (--expires <time> | --expires-in <duration>) [options]

Prints the signed URL. Give the URL exactly as the browser will request it (percent-encoded).

Options:
  --resource <pattern>     sign under this wildcard resource (https://host/path/*) instead of the exact URL
${SIGNING_HELP}`,
  async run (args, io) {
    const p = parse(args, { ...SIGNING_OPTIONS, resource: { type: 'string' } }, 1)
    const url = positional(p, 'URL to sign')
    const opts = { ...timesFrom(p), ...(str(p, 'resource') !== undefined ? { resource: str(p, 'resource') } : {}) }
    io.out(signerFrom(p).signUrlSync(url, opts))
    return 0
  }
}

const signCookies: Command = {
  summary: 'sign a cookie set for a resource',
  help: `Usage: cloudfront-cookies sign-cookies <resource> --key-id <id> --private-key <file> (--expires <time> | --expires-in <duration>) [options]

Prints the CloudFront cookie set for <resource>: an exact URL (canned policy) or a wildcard
such as https://media.example.com/courses/42/* (custom policy).

Options:
  --format json|header|set-cookie
                           json: the cookie map (default); header: one Cookie header, for
                           curl -H or verify --cookie; set-cookie: one Set-Cookie line per cookie
  --path <path>            set-cookie: the cookie Path, the granted prefix (default /)
  --domain <domain>        set-cookie: the cookie Domain (default: host-only)
  --same-site <value>      set-cookie: Strict, Lax or None (default Lax); Secure and HttpOnly are always set
${SIGNING_HELP}`,
  async run (args, io) {
    const p = parse(args, {
      ...SIGNING_OPTIONS,
      format: { type: 'string' },
      path: { type: 'string' },
      domain: { type: 'string' },
      'same-site': { type: 'string' }
    }, 1)
    const resource = positional(p, 'resource')
    const format = str(p, 'format') ?? 'json'
    if (format !== 'json' && format !== 'header' && format !== 'set-cookie') usage(`--format ${format}: expected json, header or set-cookie`)
    const sameSite = str(p, 'same-site') ?? 'Lax'
    if (sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') usage(`--same-site ${sameSite}: expected Strict, Lax or None`)
    const signer = signerFrom(p)
    // Fix the expiry once, so the Expires attribute and the policy agree to the second.
    const times = timesFrom(p)
    const prepared = signer.preparePolicy(resource, times)
    const fixed = { ...times, expires: prepared.expires }
    delete fixed.expiresIn
    const cookies = signer.signCookiesSync(resource, fixed)
    if (format === 'json') {
      io.out(JSON.stringify(cookies, null, 2))
    } else if (format === 'header') {
      io.out(Object.entries(cookies).map(([k, v]) => `${k}=${v as string}`).join('; '))
    } else {
      const lines = serializeCookieSet(cookies, {
        path: str(p, 'path') ?? '/',
        domain: str(p, 'domain'),
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

const verify: Command = {
  summary: 'judge a URL (and cookies) as CloudFront would',
  help: `Usage: cloudfront-cookies verify <url> --key <id=public.pem> [--key ...] [--cookie <header>] [options]

Prints whether CloudFront would serve <url> (the full URL, as the browser sends it) and why.
Exit status: 0 allowed, 1 refused, 2 bad arguments.

Options:
  --key <id=file>      a trusted public key and its ID (repeatable, at least one)
  --cookie <header>    the request's Cookie header (repeatable; joined with "; ")
  --ip <address>       the viewer's IP address (for policies with an IP condition)
  --now <time>         judge at this time: epoch seconds or an ISO date (default: now)
  --json               print the verdict as JSON
  -h, --help           show this help`,
  async run (args, io) {
    const p = parse(args, {
      key: { type: 'string', multiple: true },
      cookie: { type: 'string', multiple: true },
      ip: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean' }
    }, 1)
    const url = positional(p, 'URL to verify')
    const at = parseTime('--now', str(p, 'now'))
    const nowMs = at === undefined ? undefined : typeof at === 'number' ? at * 1000 : at.getTime()
    const verifier = createVerifier({ keys: keyMap(list(p, 'key')), ...(nowMs !== undefined ? { now: () => nowMs } : {}) })
    const cookies = list(p, 'cookie')
    const result = verifier.verify({ url, cookieHeader: cookies.length > 0 ? cookies.join('; ') : undefined, clientIp: str(p, 'ip') })
    if (p.values.json === true) {
      io.out(JSON.stringify(result, null, 2))
    } else if (result.ok) {
      const pol = result.policy
      io.out(`ALLOWED by a signed ${result.mode === 'url' ? 'URL' : 'cookie set'}`)
      io.out(`key:       ${result.keyPairId}`)
      io.out(`resource:  ${pol.resource ?? '(none: every file the key can reach)'}`)
      io.out(`expires:   ${new Date(pol.expires * 1000).toISOString()} (${pol.expires})`)
      if (pol.notBefore !== undefined) io.out(`not before: ${new Date(pol.notBefore * 1000).toISOString()} (${pol.notBefore})`)
      if (pol.ipAddress !== undefined) io.out(`ip:        ${pol.ipAddress}`)
    } else {
      io.out(`REFUSED ${result.status} ${result.code}: ${result.message}`)
      io.out(`reason:    ${result.reason}`)
    }
    return result.ok ? 0 : 1
  }
}

const edge: Command = {
  summary: 'run the local CloudFront edge in front of a directory or an upstream server',
  help: `Usage: cloudfront-cookies edge (--root <dir> | --upstream <url>) --key <id=public.pem> [--key ...] [options]

Serves <dir> (or forwards to <url>) and refuses, like CloudFront, every request without a valid
signed URL or signed cookies from a trusted key. Stops on Ctrl-C.

Options:
  --root <dir>            serve files from this directory (Range supported)
  --upstream <url>        forward to this server instead: http://127.0.0.1:3000
  --key <id=file>         a trusted public key and its ID (repeatable, at least one)
  --public <pattern>      serve paths matching this pattern without a signature (repeatable),
                          e.g. --public '/index.html' --public '/assets/*'
  --port <n>              port to listen on (default 8080; 0 picks a free one)
  --host <address>        address to listen on (default 127.0.0.1)
  --cors-origin <origin>  let this origin read responses with credentials (repeatable)
  --scheme http|https     the scheme viewers use (default: the request's)
  --viewer-host <host>    the host viewers use, e.g. media.example.com (default: the Host header)
  --debug                 add the refusal reason in an x-cloudfront-edge-reason header and log it
  -h, --help              show this help`,
  async run (args, io) {
    const p = parse(args, {
      root: { type: 'string' },
      upstream: { type: 'string' },
      key: { type: 'string', multiple: true },
      public: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      scheme: { type: 'string' },
      'viewer-host': { type: 'string' },
      debug: { type: 'boolean' }
    }, 0)
    const root = str(p, 'root')
    const upstream = str(p, 'upstream')
    if ((root === undefined) === (upstream === undefined)) usage('give --root <dir> or --upstream <url>')
    const portText = str(p, 'port') ?? '8080'
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) usage(`--port ${portText}: expected 0 to 65535`)
    const scheme = str(p, 'scheme')
    if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') usage(`--scheme ${scheme}: expected http or https`)
    const behaviors: EdgeBehavior[] = list(p, 'public').map((pathPattern) => ({ pathPattern, public: true }))
    const corsOrigins = list(p, 'cors-origin')
    const debug = p.values.debug === true
    const viewerHost = str(p, 'viewer-host')
    // Loaded here only: the signing commands should not pay for loading Fastify.
    const { createEdgeServer } = await import('../edge/server.js')
    const app = await createEdgeServer({
      keys: keyMap(list(p, 'key')),
      origin: root !== undefined ? { root } : { upstream: upstream as string },
      behaviors,
      ...(corsOrigins.length > 0 ? { cors: { origins: corsOrigins } } : {}),
      ...(scheme !== undefined ? { scheme } : {}),
      ...(viewerHost !== undefined ? { host: viewerHost } : {}),
      debug,
      ...(debug ? { onDeny: (request, d) => io.err(`403 ${d.code} ${request.method} ${request.url}: ${d.reason}`) } : {})
    })
    try {
      const address = await app.listen({ port: Number(portText), host: str(p, 'host') ?? '127.0.0.1' })
      io.out(`Edge listening on ${address}`)
      io.out(`origin:  ${root !== undefined ? `directory ${resolve(root)}` : `upstream ${upstream as string}`}`)
      io.out(`keys:    ${list(p, 'key').map((k) => k.slice(0, k.indexOf('='))).join(', ')}`)
      io.out(`public:  ${behaviors.length > 0 ? behaviors.map((b) => b.pathPattern).join(', ') : '(none: every path needs a signature)'}`)
    } catch (err) {
      await app.close()
      throw err
    }
    await io.stopped()
    await app.close()
    return 0
  }
}

export const COMMANDS: Record<string, Command> = {
  keygen,
  'sign-url': signUrl,
  'sign-cookies': signCookies,
  verify,
  doctor,
  edge
}
