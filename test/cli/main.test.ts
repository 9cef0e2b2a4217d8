// Every path of the command line through main(), in this process: real key files, real signing
// and verifying, a real edge on loopback. test/cli/cli.test.ts runs the built bin as a process.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main, nameTheFlag } from '../../src/cli/main.js'
import { COMMANDS } from '../../src/cli/commands.js'
import { errorCode, rawGet, tempDir } from '../edge/helpers.js'
import { inProcess } from './helpers.js'

const outputs: string[] = []
const run = inProcess(outputs)
const dir = tempDir(t, 'cf-cli-main-')
const privateFile = join(dir, 'private.pem')
const publicFile = join(dir, 'public.pem')
let keyId = ''

t.test('help and the command table', async (t) => {
  const overview = await run(['--help'])
  t.equal(overview.code, 0)
  t.match(overview.stdout, /^Usage: cloudfront-cookies <command>/)
  const bare = await run([])
  t.equal(bare.code, 2)
  t.match(bare.stderr, /^Usage: cloudfront-cookies <command>/)
  for (const c of ['keygen', 'sign-url', 'sign-cookies', 'verify', 'edge']) {
    t.match((await run(['help', c])).stdout, new RegExp(`^Usage: cloudfront-cookies ${c} `))
    t.match((await run([c, '-h'])).stdout, new RegExp(`^Usage: cloudfront-cookies ${c} `))
  }
  t.equal((await run(['help'])).code, 0, 'help alone: the overview')
})

t.test('keygen', async (t) => {
  const made = await run(['keygen', '--out', dir])
  t.equal(made.code, 0)
  keyId = made.stdout.trim()
  t.match(keyId, /^K[A-Z2-7]{13}$/)
  t.match(made.stderr, /RSA-2048, mode 0600: keep it secret/)
  t.equal((await run(['keygen', '--out', dir])).code, 2, 'existing files are kept')
  const ec = await run(['keygen', '--out', join(dir, 'ec'), '--type', 'ecdsa', '--key-id', 'KEC'])
  t.equal(ec.stdout, 'KEC\n')
  t.match(ec.stderr, /ECDSA P-256/)
  t.equal((await run(['keygen', '--out', join(dir, 'ec'), '--type', 'ecdsa', '--force'])).code, 0)
  t.match((await run(['keygen', '--type', 'dsa'])).stderr, /--type dsa: expected rsa or ecdsa/)
  t.match((await run(['keygen', '--key-id', 'a b'])).stderr, /--key-id a b: use letters/)
  t.match((await run(['keygen', 'extra'])).stderr, /unexpected argument "extra"/)
})

t.test('sign-url and sign-cookies', async (t) => {
  const base = ['--key-id', keyId, '--private-key', privateFile]
  const url = await run(['sign-url', 'https://cdn.test/a.ts', ...base, '--expires-in', '60'])
  t.match(url.stdout, /^https:\/\/cdn\.test\/a\.ts\?Expires=\d+&Signature=[^&]+&Key-Pair-Id=K/)
  const custom = await run(['sign-url', 'https://cdn.test/c/a.ts', ...base, '--expires', '2030-01-01T00:00:00Z',
    '--resource', 'https://cdn.test/c/*', '--not-before', '2029-01-01T00:00:00Z', '--ip', '192.0.2.0/24', '--sha256'])
  t.match(custom.stdout, /\?Policy=[^&]+&Signature=[^&]+&Key-Pair-Id=K[A-Z2-7]+&Hash-Algorithm=SHA256\n$/)
  const json = JSON.parse((await run(['sign-cookies', 'https://cdn.test/c/*', ...base, '--expires-in', '5m'])).stdout)
  t.same(Object.keys(json), ['CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'])
  const header = await run(['sign-cookies', 'https://cdn.test/c/*', ...base, '--expires-in', '5m', '--format', 'header'])
  t.match(header.stdout, /^CloudFront-Policy=[^;]+; CloudFront-Signature=[^;]+; CloudFront-Key-Pair-Id=K/)
  const lines = await run(['sign-cookies', 'https://cdn.test/c/*', ...base, '--expires-in', '5m', '--format', 'set-cookie',
    '--domain', 'cdn.test', '--same-site', 'Strict'])
  t.match(lines.stdout, /^Set-Cookie: CloudFront-Policy=[^;]+; Path=\/c\/; Domain=cdn\.test; Expires=[^;]+; Secure; HttpOnly; SameSite=Strict\n/)

  const errors: Array<[string[], number, RegExp]> = [
    [['sign-url', 'https://cdn.test/a', ...base], 2, /give --expires <time> or --expires-in <duration>/],
    [['sign-url', 'https://cdn.test/a', '--private-key', privateFile, '--expires-in', '1m'], 2, /--key-id is required/],
    [['sign-url', 'https://cdn.test/a', '--key-id', '', '--private-key', privateFile, '--expires-in', '1m'], 2, /--key-id is required/],
    [['sign-url', ...base, '--expires-in', '1m'], 2, /the URL to sign is missing/],
    [['sign-url', 'https://cdn.test/a', ...base, '--expires', 'soon'], 2, /--expires soon is neither epoch seconds nor an ISO date/],
    [['sign-url', 'https://cdn.test/a', '--key-id', keyId, '--private-key', join(dir, 'none.pem'), '--expires-in', '1m'], 2, /cannot read --private-key \S+none\.pem \(ENOENT\)/],
    [['sign-url', 'https://cdn.test/a', ...base, '--expires-in', '1m', '--passphrase-env', 'CF_TEST_UNSET_VARIABLE'], 2, /CF_TEST_UNSET_VARIABLE: that environment variable is not set/],
    [['sign-cookies', 'https://cdn.test/c/*', ...base, '--expires-in', '1m', '--format', 'xml'], 2, /--format xml: expected json, header or set-cookie/],
    [['sign-cookies', 'https://cdn.test/c/*', ...base, '--expires-in', '1m', '--format', 'set-cookie', '--same-site', 'lax'], 2, /--same-site lax: expected Strict, Lax or None/],
    [['sign-url', 'https://cdn.test/a', ...base, '--expires-in', '1m', '--resource', 'https://cdn.test/b/*'], 2, /Invalid resource: .* \(FST_ERR_CF_INVALID_RESOURCE\)/]
  ]
  for (const [args, code, expected] of errors) {
    const res = await run(args)
    t.equal(res.code, code, args.join(' '))
    t.match(res.stderr, expected)
  }
})

t.test('sign-url with an encrypted key through --passphrase-env', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const file = join(dir, 'encrypted.pem')
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }), { mode: 0o600 })
  process.env.CF_TEST_PASSPHRASE = 'open sesame'
  t.teardown(() => { delete process.env.CF_TEST_PASSPHRASE })
  const res = await run(['sign-url', 'https://cdn.test/a', '--key-id', 'KENC', '--private-key', file, '--expires-in', '1m', '--passphrase-env', 'CF_TEST_PASSPHRASE'])
  t.equal(res.code, 0)
  t.match(res.stdout, /Key-Pair-Id=KENC\n$/)
  process.env.CF_TEST_PASSPHRASE = 'wrong'
  const wrong = await run(['sign-url', 'https://cdn.test/a', '--key-id', 'KENC', '--private-key', file, '--expires-in', '1m', '--passphrase-env', 'CF_TEST_PASSPHRASE'])
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, /invalid --private-key \S+encrypted\.pem: the passphrase does not decrypt the private key \(FST_ERR_CF_INVALID_KEY\)/)
})

t.test('verify', async (t) => {
  const key = `${keyId}=${publicFile}`
  const signed = (await run(['sign-url', 'https://cdn.test/a.ts', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '5m', '--ip', '192.0.2.1'])).stdout.trim()
  const ok = await run(['verify', signed, '--key', key, '--ip', '192.0.2.1'])
  t.equal(ok.code, 0)
  t.match(ok.stdout, /^ALLOWED by a signed URL\nkey: +K[A-Z2-7]+\nresource: +https:\/\/cdn\.test\/a\.ts\nexpires: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+\)\nip: +192\.0\.2\.1\/32\n$/)
  const refused = await run(['verify', signed, '--key', key, '--ip', '192.0.2.2', '--json'])
  t.equal(refused.code, 1)
  t.match(JSON.parse(refused.stdout), { ok: false, status: 403, code: 'AccessDenied', reason: /192\.0\.2\.2 is not in 192\.0\.2\.1\/32/ })
  const errors: Array<[string[], RegExp]> = [
    [['verify', 'https://cdn.test/a'], /give at least one --key ID=public\.pem/],
    [['verify', 'https://cdn.test/a', '--key', 'K1='], /--key K1=: expected ID=path\/to\/public\.pem/],
    [['verify', 'https://cdn.test/a', '--key', key, '--key', key], /--key K[A-Z2-7]+ is given twice/],
    [['verify', 'https://cdn.test/a', '--key', key, '--now', 'later'], /--now later is neither/],
    [['verify', '--key', key], /the URL to verify is missing/]
  ]
  for (const [args, expected] of errors) {
    const res = await run(args)
    t.equal(res.code, 2, args.join(' '))
    t.match(res.stderr, expected)
  }
})

t.test('edge: runs until stopped, then closes', async (t) => {
  writeFileSync(join(dir, 'open.txt'), 'open')
  let stop: () => void = () => {}
  let listening: (line: string) => void = () => {}
  const started = new Promise<string>((resolve) => { listening = resolve })
  const out: string[] = []
  const err: string[] = []
  const running = main(['edge', '--root', dir, '--key', `${keyId}=${publicFile}`, '--public', '/open.txt', '--port', '0',
    '--cors-origin', 'https://app.test', '--scheme', 'https', '--viewer-host', 'cdn.test', '--debug'], {
    out: (line) => {
      out.push(line)
      if (line.startsWith('Edge listening on ')) listening(line)
    },
    err: (line) => err.push(line),
    stopped: () => new Promise<void>((resolve) => { stop = resolve })
  })
  const port = Number(/:(\d+)$/.exec(await started)?.[1])
  const open = await rawGet('127.0.0.1', port, '/open.txt', { origin: 'https://app.test' })
  t.equal(open.status, 200)
  t.equal(open.headers['access-control-allow-origin'], 'https://app.test')
  const closed = await rawGet('127.0.0.1', port, '/private.pem')
  t.equal(closed.status, 403)
  t.equal(errorCode(closed.body), 'MissingKey')
  const signed = (await run(['sign-url', 'https://cdn.test/private.pem', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '1m'])).stdout.trim()
  t.equal((await rawGet('127.0.0.1', port, signed.slice('https://cdn.test'.length))).status, 200, 'scheme and viewer host are the signed ones')
  stop()
  t.equal(await running, 0)
  t.match(out.join('\n'), /origin: +directory .*\nkeys: +K[A-Z2-7]+\npublic: +\/open\.txt$/)
  t.match(err.join('\n'), /^403 MissingKey GET \/private\.pem: no Key-Pair-Id was sent$/)

  const upstream = await run(['edge', '--upstream', 'http://127.0.0.1:9', '--key', `${keyId}=${publicFile}`, '--port', '0'])
  t.equal(upstream.code, 0)
  t.match(upstream.stdout, /origin: +upstream http:\/\/127\.0\.0\.1:9\n.*\npublic: +\(none: every path needs a signature\)\n$/)

  const errors: Array<[string[], RegExp]> = [
    [['edge', '--key', `${keyId}=${publicFile}`], /give --root <dir> or --upstream <url>/],
    [['edge', '--root', dir, '--key', `${keyId}=${publicFile}`, '--port', '99999'], /--port 99999: expected 0 to 65535/],
    [['edge', '--root', dir, '--key', `${keyId}=${publicFile}`, '--scheme', 'ftp'], /--scheme ftp: expected http or https/],
    [['edge', '--root', dir, '--key', `${keyId}=${publicFile}`, '--port', '0', '--host', '192.0.2.123'], /--host 192\.0\.2\.123: this machine has no such address \(EADDRNOTAVAIL\)/]
  ]
  for (const [args, expected] of errors) {
    const res = await run(args)
    t.equal(res.code, 2, args.join(' '))
    t.match(res.stderr, expected)
  }
})

t.test('no output ever contains the private key', async (t) => {
  const keyLines = readFileSync(privateFile, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))
  t.ok(outputs.length > 60 && keyLines.length > 10)
  t.same(outputs.filter((o) => o.includes('PRIVATE KEY') || keyLines.some((l) => o.includes(l))), [])
})

t.test('the flag is named from the error\'s option property, never from its message', async (t) => {
  const signUrl = COMMANDS['sign-url'] as NonNullable<typeof COMMANDS[string]>
  const argv = ['https://media.example.com/a.ts', '--ip', '10.0.0.300', '--expires-in', '5x']
  // A message that names another option: the property decides.
  const misleading = { message: 'Invalid option expiresIn: not this one', option: 'ipAddress', reason: 'not an IPv4 address' }
  t.equal(nameTheFlag(misleading, signUrl, argv), 'invalid --ip 10.0.0.300: not an IPv4 address')
  t.equal(nameTheFlag({ message: 'Invalid time expiresIn: bad', option: 'expiresIn', reason: 'bad' }, signUrl, argv),
    'invalid --expires-in 5x: bad')
  t.equal(nameTheFlag({ message: 'Invalid option ipAddress: x' }, signUrl, argv), 'Invalid option ipAddress: x',
    'without the property, the message is shown as it is')
  t.equal(nameTheFlag({ message: 'Invalid CloudFront key: --key K=f: bad', option: '--key', reason: '--key K=f: bad' }, signUrl, argv),
    'invalid --key K=f: bad', 'an error the CLI made names its flag already')
  t.equal(nameTheFlag({ message: 'Invalid option unknown.thing: y', option: 'unknown.thing', reason: 'y' }, signUrl, argv),
    'Invalid option unknown.thing: y', 'an option without a flag keeps the library\'s words')
})
