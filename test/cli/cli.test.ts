// The command line, run as users run it: the built bin in its own process.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createVerifier } from '../../src/core/verifier.js'
import { decodeBase64 } from '../../src/core/encoding.js'
import { localKeyId } from '../../src/cli/keygen.js'
import { errorCode, rawGet, tempDir } from '../edge/helpers.js'
import { builtCli, runner } from './helpers.js'

const BIN = builtCli(t, 'cli')
const outputs: string[] = []
const run = runner(BIN, outputs)

const dir = tempDir(t, 'cf-cli-')
const keysDir = join(dir, 'keys')
let keyId = ''
let privatePem = ''
const privateFile = join(keysDir, 'private.pem')
const publicFile = join(keysDir, 'public.pem')

const NAMES = ['keygen', 'sign-url', 'sign-cookies', 'verify', 'doctor', 'edge']

t.test('help', async (t) => {
  t.match(readFileSync(BIN, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the bin starts with its shebang')
  const [overview, bare, unknown, topic, badTopic, ...helps] = await Promise.all([
    run(['--help']), run([]), run(['sign']), run(['help', 'verify']), run(['help', 'nope']), ...NAMES.map((c) => run([c, '--help']))
  ])
  t.equal(overview.code, 0)
  for (const c of NAMES) t.match(overview.stdout, new RegExp(`\\n  ${c} `), `lists ${c}`)
  t.equal(bare.code, 2, 'no command is a usage error')
  t.match(bare.stderr, /Usage: cloudfront-cookies <command>/)
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /unknown command "sign"/)
  NAMES.forEach((c, i) => {
    t.equal(helps[i]?.code, 0, `${c} --help`)
    t.match(helps[i]?.stdout, new RegExp(`^Usage: cloudfront-cookies ${c} `), `${c} --help shows its usage`)
  })
  t.match(topic.stdout, /^Usage: cloudfront-cookies verify /)
  t.equal(badTopic.code, 2)
})

t.test('keygen', async (t) => {
  const made = await run(['keygen', '--out', keysDir])
  t.equal(made.code, 0)
  keyId = made.stdout.trim()
  t.match(keyId, /^K[A-Z2-7]{13}$/, 'prints a CloudFront-shaped key ID')
  privatePem = readFileSync(privateFile, 'utf8')
  t.equal(statSync(privateFile).mode & 0o777, 0o600, 'the private key is readable by its owner only')
  t.equal(createPrivateKey(privatePem).asymmetricKeyDetails?.modulusLength, 2048, 'RSA-2048 by default')
  t.equal(keyId, localKeyId(createPublicKey(readFileSync(publicFile))), 'the ID is derived from public.pem')
  t.match(made.stderr, /keep it secret/)

  const again = await run(['keygen', '--out', keysDir])
  t.equal(again.code, 2, 'existing keys are not replaced silently')
  t.match(again.stderr, /already exists \(use --force/)
  t.equal(readFileSync(privateFile, 'utf8'), privatePem, 'and are left alone')

  const ecDir = join(dir, 'ec')
  const ec = await run(['keygen', '--type', 'ecdsa', '--out', ecDir, '--key-id', 'KLOCALEC'])
  t.equal(ec.code, 0)
  t.equal(ec.stdout.trim(), 'KLOCALEC', '--key-id is printed as given')
  t.equal(createPublicKey(readFileSync(join(ecDir, 'public.pem'))).asymmetricKeyDetails?.namedCurve, 'prime256v1')
  writeFileSync(join(ecDir, 'private.pem'), 'old', { mode: 0o644 })
  const forced = await run(['keygen', '--type', 'ecdsa', '--out', ecDir, '--force'])
  t.equal(forced.code, 0, '--force replaces')
  t.equal(statSync(join(ecDir, 'private.pem')).mode & 0o777, 0o600, 'and tightens the mode of a replaced file')

  t.equal((await run(['keygen', '--type', 'dsa', '--out', ecDir])).code, 2)
  t.equal((await run(['keygen', '--key-id', 'bad id', '--out', join(dir, 'x')])).code, 2)
})

function policyExpiry (encoded: string): number {
  return JSON.parse((decodeBase64(encoded) as Buffer).toString('utf8')).Statement[0].Condition.DateLessThan['AWS:EpochTime']
}

function verifier (at?: number): ReturnType<typeof createVerifier> {
  return createVerifier({ keys: { [keyId]: readFileSync(publicFile) }, ...(at !== undefined ? { now: () => at * 1000 } : {}) })
}

t.test('sign-url', async (t) => {
  const signed = await run(['sign-url', 'https://media.example.test/a%20b/seg.ts?lang=en', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '15m'])
  t.equal(signed.code, 0)
  const url = signed.stdout.trim()
  t.match(url, /^https:\/\/media\.example\.test\/a%20b\/seg\.ts\?lang=en&Expires=\d+&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=K/)
  t.match(verifier().verify({ url }), { ok: true, mode: 'url' }, 'the core verifier accepts it')

  const wild = await run(['sign-url', 'https://media.example.test/c/1.ts', '--resource', 'https://media.example.test/c/*', '--key-id', keyId,
    '--private-key', privateFile, '--expires', '2030-01-01T00:00:00Z', '--not-before', '1893000000', '--ip', '127.0.0.1', '--sha256'])
  t.equal(wild.code, 0)
  t.match(wild.stdout, /Policy=.*&Hash-Algorithm=SHA256\n$/)
  t.match(verifier(1893000001).verify({ url: wild.stdout.trim(), clientIp: '127.0.0.1' }), {
    ok: true, policy: { resource: 'https://media.example.test/c/*', expires: 1893456000, notBefore: 1893000000, ipAddress: '127.0.0.1/32' }
  })

  const base = ['sign-url', 'https://media.example.test/x', '--key-id', keyId, '--private-key', privateFile]
  const [missingExpiry, noKeyId, noUrl, unknownFlag, badTime, ms, notFound, publicAsPrivate, uncovered] = await Promise.all([
    run(base),
    run(['sign-url', 'https://media.example.test/x', '--private-key', privateFile, '--expires-in', '1m']),
    run(['sign-url', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '1m']),
    run([...base, '--expires-in', '1m', '--bogus']),
    run([...base, '--expires', 'next tuesday']),
    run([...base, '--expires', String(Date.now() + 60_000)]),
    run(['sign-url', 'https://media.example.test/x', '--key-id', keyId, '--private-key', join(dir, 'nope.pem'), '--expires-in', '1m']),
    run(['sign-url', 'https://media.example.test/x', '--key-id', keyId, '--private-key', publicFile, '--expires-in', '1m']),
    run([...base, '--expires-in', '1m', '--resource', 'https://media.example.test/other/*'])
  ])
  t.equal(missingExpiry.code, 2)
  t.match(missingExpiry.stderr, /--expires <time> or --expires-in/)
  t.match(missingExpiry.stderr, /Run 'cloudfront-cookies sign-url --help'/)
  t.equal(noKeyId.code, 2)
  t.match(noKeyId.stderr, /--key-id is required/)
  t.equal(noUrl.code, 2, 'no URL')
  t.match(noUrl.stderr, /the URL to sign is missing/)
  t.equal(unknownFlag.code, 2, 'unknown flag')
  t.match(unknownFlag.stderr, /unknown option --bogus\n/)
  t.equal(badTime.code, 2, 'unreadable time')
  t.equal(ms.code, 2, 'a time in milliseconds is refused by the core: a bad argument')
  t.match(ms.stderr, /milliseconds.*FST_ERR_CF_INVALID_TIME/)
  t.equal(notFound.code, 2)
  t.match(notFound.stderr, /cannot read --private-key .*nope\.pem \(ENOENT\)/)
  t.equal(publicAsPrivate.code, 2)
  t.match(publicAsPrivate.stderr, /a public key was given where the private key is needed.*FST_ERR_CF_INVALID_KEY/)
  t.equal(uncovered.code, 2, 'a resource that does not cover the URL')
  t.match(uncovered.stderr, /FST_ERR_CF_INVALID_RESOURCE/)
})

t.test('sign-url with an encrypted key', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const file = join(dir, 'encrypted.pem')
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }), { mode: 0o600 })
  const args = ['sign-url', 'https://media.example.test/x', '--key-id', 'KENC', '--private-key', file, '--expires-in', '1m']
  t.equal((await run([...args, '--passphrase-env', 'CF_KEY_PASS'], { CF_KEY_PASS: 'open sesame' })).code, 0)
  const without = await run(args)
  t.equal(without.code, 2)
  t.match(without.stderr, /encrypted: pass its passphrase/)
  const unset = await run([...args, '--passphrase-env', 'CF_UNSET_VARIABLE'])
  t.equal(unset.code, 2)
  t.match(unset.stderr, /CF_UNSET_VARIABLE: that environment variable is not set/)
})

t.test('sign-cookies and verify', async (t) => {
  const args = ['sign-cookies', 'https://media.example.test/courses/42/*', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m']
  const json = await run(args)
  t.equal(json.code, 0)
  const cookies = JSON.parse(json.stdout) as Record<string, string>
  t.same(Object.keys(cookies), ['CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'])
  const header = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ')
  t.match(verifier().verify({ url: 'https://media.example.test/courses/42/seg.ts', cookieHeader: header }), { ok: true, mode: 'cookie' })

  const asHeader = await run([...args, '--format', 'header'])
  const cookie = asHeader.stdout.trim()
  t.match(cookie, /^CloudFront-Policy=[^;]+; CloudFront-Signature=[^;]+; CloudFront-Key-Pair-Id=K/)

  const setCookie = await run([...args, '--format', 'set-cookie', '--path', '/courses/42/', '--domain', 'example.test', '--same-site', 'None'])
  t.equal(setCookie.code, 0)
  const lines = setCookie.stdout.trim().split('\n')
  t.equal(lines.length, 3)
  const expires = policyExpiry(/CloudFront-Policy=([^;]+);/.exec(setCookie.stdout)?.[1] as string)
  for (const line of lines) {
    t.match(line, /^Set-Cookie: CloudFront-[A-Za-z-]+=[^;]+; Path=\/courses\/42\/; Domain=example\.test; Expires=[^;]+ GMT; Secure; HttpOnly; SameSite=None$/)
    t.equal(Date.parse(/Expires=([^;]+);/.exec(line)?.[1] as string) / 1000, expires, 'the cookie expires with its grant')
  }

  const keyArg = `${keyId}=${publicFile}`
  const allowed = await run(['verify', 'https://media.example.test/courses/42/seg.ts', '--key', keyArg, '--cookie', cookie])
  t.equal(allowed.code, 0, 'verify accepts what sign-cookies made')
  t.match(allowed.stdout, /^ALLOWED by a signed cookie set\nkey: +K[A-Z2-7]{13}\nresource: +https:\/\/media\.example\.test\/courses\/42\/\*\n/)

  const refused = await run(['verify', 'https://media.example.test/courses/43/seg.ts', '--key', keyArg, '--cookie', cookie])
  t.equal(refused.code, 1)
  t.match(refused.stdout, /^REFUSED 403 AccessDenied: Access denied\nreason: +the policy resource .* does not cover this URL/)

  const cookieExpiry = policyExpiry(/CloudFront-Policy=([^;]+);/.exec(cookie)?.[1] as string)
  const before = await run(['verify', 'https://media.example.test/courses/42/seg.ts', '--key', keyArg, '--cookie', cookie, '--now', new Date((cookieExpiry - 1) * 1000).toISOString()])
  t.equal(before.code, 0, 'allowed in its last second')
  const later = await run(['verify', 'https://media.example.test/courses/42/seg.ts', '--key', keyArg, '--cookie', cookie, '--now', String(cookieExpiry), '--json'])
  t.equal(later.code, 1, 'refused at its expiry second')
  t.match(JSON.parse(later.stdout), { ok: false, status: 403, code: 'AccessDenied', reason: /expired/ })

  const duplicated = await run(['verify', 'https://media.example.test/courses/42/seg.ts', '--key', keyArg, '--cookie', cookie, '--cookie', 'CloudFront-Key-Pair-Id=KOTHER'])
  t.equal(duplicated.code, 1, 'differing duplicate cookies are refused')

  const notPem = join(dir, 'not.pem')
  writeFileSync(notPem, 'hello')
  const [unknown, noKey, noId, twice, badKey, badFormat, badSameSite, cloudfrontDomain, badDomain, goodDomain] = await Promise.all([
    run(['verify', 'https://media.example.test/courses/42/seg.ts', '--key', `KOTHER=${publicFile}`, '--cookie', cookie]),
    run(['verify', 'https://media.example.test/x']),
    run(['verify', 'https://media.example.test/x', '--key', publicFile]),
    run(['verify', 'https://media.example.test/x', '--key', keyArg, '--key', keyArg]),
    run(['verify', 'https://media.example.test/x', '--key', `K1=${notPem}`]),
    run([...args, '--format', 'xml']),
    run([...args, '--format', 'set-cookie', '--same-site', 'lax']),
    run([...args, '--format', 'set-cookie', '--domain', 'd111111abcdef8.cloudfront.net']),
    run([...args, '--format', 'set-cookie', '--domain', 'exa mple.test']),
    run([...args, '--format', 'set-cookie', '--domain', '.example.test'])
  ])
  t.equal(unknown.code, 1)
  t.match(unknown.stdout, /REFUSED 403 InvalidKey: Unknown Key/)
  t.equal(noKey.code, 2, 'no --key')
  t.equal(noId.code, 2, '--key without an ID')
  t.equal(twice.code, 2, 'the same ID twice')
  t.equal(badKey.code, 2)
  t.match(badKey.stderr, /FST_ERR_CF_INVALID_KEY/)
  t.equal(badFormat.code, 2)
  t.equal(badSameSite.code, 2)
  // The plugin's cookie.domain rules, with the flag named.
  t.equal(cloudfrontDomain.code, 2)
  t.match(cloudfrontDomain.stderr, /invalid --domain d111111abcdef8\.cloudfront\.net: cookies cannot be set for cloudfront\.net/)
  t.equal(cloudfrontDomain.stdout, '', 'nothing signed is printed')
  t.equal(badDomain.code, 2)
  t.match(badDomain.stderr, /invalid --domain exa mple\.test: expected a domain/)
  t.equal(goodDomain.code, 0)
  t.match(goodDomain.stdout, /Domain=\.example\.test/)
})

t.test('edge', async (t) => {
  const www = join(dir, 'www')
  mkdirSync(join(www, 'courses', '42'), { recursive: true })
  mkdirSync(join(www, 'public'))
  writeFileSync(join(www, 'courses', '42', 'seg.ts'), 'segment 42')
  writeFileSync(join(www, 'public', 'index.html'), '<p>player</p>')

  let child: ChildProcess | null = null
  t.teardown(() => { child?.kill('SIGKILL') })
  const started = await new Promise<{ port: number, stdout: () => string, stderr: () => string, exited: Promise<number | null> }>((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, 'edge', '--root', www, '--key', `${keyId}=${publicFile}`, '--public', '/public/*', '--port', '0', '--debug'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stdout = ''
    let stderr = ''
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => {
      outputs.push(stdout, stderr)
      resolve(code)
    }))
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /Edge listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)
      if (m) resolve({ port: Number(m[1]), stdout: () => stdout, stderr: () => stderr, exited })
    })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    exited.then((code) => reject(new Error(`the edge exited with ${code}: ${stderr}`)), reject)
  })
  const { port } = started
  const origin = `http://127.0.0.1:${port}`

  const open = await rawGet('127.0.0.1', port, '/public/index.html')
  t.equal(open.status, 200, '--public paths need no signature')
  t.equal(open.body.toString(), '<p>player</p>')

  const refused = await rawGet('127.0.0.1', port, '/courses/42/seg.ts')
  t.equal(refused.status, 403)
  t.equal(errorCode(refused.body), 'MissingKey')
  t.equal(refused.headers['x-cloudfront-edge-reason'], 'no Key-Pair-Id was sent', '--debug adds the reason')

  const signed = await run(['sign-cookies', `${origin}/courses/42/*`, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '5m', '--format', 'header'])
  const served = await rawGet('127.0.0.1', port, '/courses/42/seg.ts', { cookie: signed.stdout.trim() })
  t.equal(served.status, 200, 'cookies from sign-cookies open the prefix')
  t.equal(served.body.toString(), 'segment 42')

  const url = await run(['sign-url', `${origin}/courses/42/seg.ts`, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '5m'])
  const viaUrl = await rawGet('127.0.0.1', port, url.stdout.trim().slice(origin.length))
  t.equal(viaUrl.status, 200, 'a URL from sign-url opens its file')

  t.match(started.stdout(), /origin: +directory .*www\nkeys: +K[A-Z2-7]{13}\npublic: +\/public\/\*/)
  t.match(started.stderr(), /403 MissingKey GET \/courses\/42\/seg\.ts: no Key-Pair-Id was sent/, '--debug logs refusals')
  ;(child as ChildProcess | null)?.kill('SIGTERM')
  t.equal(await started.exited, 0, 'stops cleanly on SIGTERM')
  child = null

  const key = `${keyId}=${publicFile}`
  const [both, noKey, badPort, badScheme, notDir] = await Promise.all([
    run(['edge', '--root', www, '--upstream', 'http://127.0.0.1:1', '--key', key]),
    run(['edge', '--root', www]),
    run(['edge', '--root', www, '--key', key, '--port', '70000']),
    run(['edge', '--root', www, '--key', key, '--scheme', 'ftp']),
    run(['edge', '--root', join(www, 'public', 'index.html'), '--key', key, '--port', '0'])
  ])
  t.equal(both.code, 2)
  t.match(both.stderr, /give --root <dir> or --upstream <url>/)
  t.equal(noKey.code, 2, 'no --key')
  t.equal(badPort.code, 2, 'bad port')
  t.equal(badScheme.code, 2, 'bad scheme')
  t.equal(notDir.code, 2)
  t.match(notDir.stderr, /is not a directory \(FST_ERR_CF_INVALID_OPTION\)/)
})

t.test('the bin: version, suggestions, full URLs, a pasted Cookie header, a busy port', async (t) => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'))
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())))
  const busyPort = String((busy.address() as { port: number }).port)
  const cookie = (await run(['sign-cookies', 'https://media.example.test/c/*', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '5m', '--format', 'header'])).stdout.trim()
  const key = `${keyId}=${publicFile}`
  const [v, command, option, relative, pasted, port] = await Promise.all([
    run(['--version']),
    run(['verfy']),
    run(['sign-url', 'https://media.example.test/x', '--expire', '1m']),
    run(['verify', '/c/seg.ts', '--key', key]),
    run(['verify', 'https://media.example.test/c/seg.ts', '--key', key, '--cookie', `Cookie: ${cookie}`]),
    run(['edge', '--root', dir, '--key', key, '--port', busyPort])
  ])
  t.same([v.code, v.stdout], [0, `${version as string}\n`], '--version')
  t.same([command.code, /did you mean verify\?/.test(command.stderr)], [2, true], 'a mistyped command')
  t.same([option.code, /unknown option --expire; did you mean --expires or --expires-in\?\n/.test(option.stderr)], [2, true], 'a mistyped option')
  t.same([relative.code, relative.stdout], [2, ''], 'a relative URL: a usage error, no verdict')
  t.match(relative.stderr, /is not a full URL/)
  t.same([pasted.code, pasted.stdout.split('\n')[0]], [0, 'ALLOWED by a signed cookie set'], 'a pasted Cookie: header')
  t.equal(port.code, 2, 'a busy port')
  t.match(port.stderr, new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is already in use: pick another with --port <n>`))
})

t.test('no output ever contains the private key', async (t) => {
  t.ok(outputs.length > 40, 'every run was recorded')
  const keyLines = privatePem.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))
  t.ok(keyLines.length > 10)
  const leaks = outputs.filter((o) => o.includes('PRIVATE KEY') || keyLines.some((l) => o.includes(l)))
  t.same(leaks, [])
})
