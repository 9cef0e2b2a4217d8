// Every bad argument of every command exits 2 with one line that says what to change; the same
// commands with right arguments exit 0. A private key given to --key is refused with the command
// that derives its public key, and that command, run as printed, makes a file --key accepts.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from '../../src/cli/commands.js'
import { tempDir } from '../edge/helpers.js'
import { builtCli, inProcess, runner, type Run } from './helpers.js'

const outputs: string[] = []
const run = inProcess(outputs)
const dir = tempDir(t, 'cf-cli-exit-')
const www = join(dir, 'www')
mkdirSync(www)
writeFileSync(join(www, 'a.txt'), 'a')
const privateFile = join(dir, 'private.pem')
const publicFile = join(dir, 'public.pem')
const notKey = join(dir, 'not-a-key.pem')
writeFileSync(notKey, 'hello')
const URL = 'https://media.example.test/courses/42/a.ts'
let keyId = ''
let key = ''
let signed = ''

t.before(async () => {
  keyId = (await run(['keygen', '--out', dir])).stdout.trim()
  key = `${keyId}=${publicFile}`
  signed = (await run(['sign-url', URL, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m'])).stdout.trim()
})

function firstLine (r: Run): string {
  return r.stderr.split('\n')[0] as string
}

t.test('bad arguments: exit 2, one line naming what to change', async (t) => {
  const sign = ['--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m']
  const encrypted = join(dir, 'encrypted.pem')
  writeFileSync(encrypted, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }))
  const cases: Array<[string[], RegExp]> = [
    [['keygen', '--type', 'dsa'], /--type dsa: expected rsa or ecdsa/],
    [['setup', '--domain', 'd111111abcdef8.cloudfront.net', '--app', 'https://app.example.com', '--bucket', 'my-media-bucket',
      '--certificate-arn', 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab', '--public-key', publicFile],
    /--domain d111111abcdef8\.cloudfront\.net: cookies set by your app never reach/],
    [['setup', '--domain', 'media.example.com', '--app', 'https://app.example.com', '--bucket', 'my-media-bucket',
      '--certificate-arn', 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab', '--public-key', privateFile],
    /openssl pkey/],
    [['keygen', '--key-id', 'a b', '--out', join(dir, 'k1')], /--key-id a b: use letters, digits/],
    [['keygen', '--out', join(www, 'a.txt')], /--out \S+a\.txt is a file: give a directory/],
    [['keygen', '--out', join(www, 'a.txt', 'sub')], /cannot write the key pair to --out \S+sub \(ENOTDIR\)/],
    [['keygen', '--out', dir], /private\.pem already exists \(use --force to replace it\)/],
    [['keygen', 'extra'], /unexpected argument "extra"/],
    [['sign-url', ...sign], /the URL to sign is missing/],
    [['sign-url', '/courses/42/a.ts', ...sign], /is not a full URL/],
    [['sign-url', URL, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '5x'], /invalid --expires-in 5x: /],
    [['sign-url', URL, '--key-id', keyId, '--private-key', privateFile, '--expires', '100'], /invalid --expires 100: .*is not after now/],
    [['sign-url', URL, '--key-id', keyId, '--private-key', privateFile, '--expires', String(Date.now() + 60_000)], /milliseconds/],
    [['sign-url', URL, '--key-id', 'bad id', '--private-key', privateFile, '--expires-in', '1m'], /invalid --key-id bad id: /],
    [['sign-url', URL, '--key-id', keyId, '--private-key', join(dir, 'none.pem'), '--expires-in', '1m'], /cannot read --private-key \S+none\.pem \(ENOENT\)/],
    [['sign-url', URL, '--key-id', keyId, '--private-key', publicFile, '--expires-in', '1m'], /a public key was given where the private key is needed/],
    [['sign-url', URL, '--key-id', keyId, '--private-key', notKey, '--expires-in', '1m'], /invalid --private-key \S+not-a-key\.pem: /],
    [['sign-url', URL, '--key-id', keyId, '--private-key', encrypted, '--expires-in', '1m'], /encrypted: pass its passphrase/],
    [['sign-url', URL, ...sign, '--passphrase-env', 'CF_EXIT_TEST_UNSET'], /--passphrase-env CF_EXIT_TEST_UNSET: that environment variable is not set/],
    [['sign-url', URL, ...sign, '--ip', '::1'], /invalid --ip ::1: .*IPv6/],
    [['sign-url', URL, ...sign, '--resource', 'https://other.example.test/*'], /does not cover the URL/],
    [['sign-url', 'https://media.example.test/a b', ...sign], /percent-encode it/],
    [['sign-url', URL, ...sign, '--bogus'], /unknown option --bogus/],
    [['sign-cookies', 'https://media.example.test/courses/42/*', ...sign, '--format', 'xml'], /--format xml: expected json, header or set-cookie/],
    [['sign-cookies', 'https://media.example.test/courses/42/*', ...sign, '--format', 'set-cookie', '--domain', 'd111111abcdef8.cloudfront.net'], /invalid --domain d111111abcdef8\.cloudfront\.net: /],
    [['sign-cookies', 'https://media.example.test/courses/42/*', ...sign, '--format', 'set-cookie', '--path', '/other/'], /--path \/other\/ does not cover/],
    [['verify', URL], /give at least one --key ID=public\.pem/],
    [['verify', URL, '--key', `${keyId}=${notKey}`], /invalid --key \S+not-a-key\.pem: /],
    [['verify', URL, '--key', `${keyId}=${join(dir, 'none.pem')}`], /cannot read --key \S+none\.pem \(ENOENT\)/],
    [['verify', URL, '--key', key, '--ip', 'bogus'], /--ip bogus: expected the viewer's IPv4 or IPv6 address/],
    [['verify', URL, '--key', key, '--now', String(Date.now())], /--now \d+ is past 2147483647 .*not milliseconds/],
    [['verify', URL, '--key', key, '--now', 'yesterday'], /--now yesterday is neither epoch seconds nor an ISO date/],
    [['doctor', URL, '--key', `${keyId}=${notKey}`], /invalid --key \S+not-a-key\.pem: /],
    [['doctor', URL, '--ip', '300.1.1.1'], /--ip 300\.1\.1\.1: expected the viewer's/],
    [['doctor', URL, '--now', String(Date.now())], /not milliseconds/],
    [['doctor', '--har', www], /cannot read --har \S+www \(EISDIR\)/],
    [['edge', '--root', join(dir, 'nope'), '--key', key, '--port', '0'], /invalid --root \S+nope: \S+nope is not a directory/],
    [['edge', '--root', join(www, 'a.txt'), '--key', key, '--port', '0'], /is not a directory/],
    [['edge', '--upstream', 'ftp://x.test', '--key', key, '--port', '0'], /invalid --upstream ftp:\/\/x\.test: /],
    [['edge', '--root', www, '--key', `${keyId}=${notKey}`, '--port', '0'], /invalid --key \S+not-a-key\.pem: /],
    [['edge', '--root', www, '--key', key, '--cors-origin', '*', '--port', '0'], /invalid --cors-origin \*: /],
    [['edge', '--root', www, '--key', key, '--viewer-host', 'a b', '--port', '0'], /invalid --viewer-host a b: /],
    [['edge', '--root', www, '--key', key, '--port', '70000'], /--port 70000: expected 0 to 65535/],
    [['edge', '--root', www, '--key', key, '--scheme', 'ftp'], /--scheme ftp: expected http or https/],
    [['edge', '--root', www], /give at least one --key/],
    [['edge', '--key', key], /give --root <dir> or --upstream <url>/],
    [['manifests', 'template', www, join(dir, 'templated'), '--key-pair-id', 'a b'], /invalid --key-pair-id a b: /],
    [['manifests', 'template', www, join(dir, 'templated'), '--key-pair-id', 'K1', '--hash-algorithm', 'md5'], /--hash-algorithm md5: expected SHA1 or SHA256/],
    [['manifests', 'template', www, join(dir, 'templated'), '--key-pair-id', 'K1', '--base-url', 'https://media.example.test/courses'], /invalid --base-url https:\/\/media\.example\.test\/courses: /],
    [['manifests', 'template', join(dir, 'nope'), join(dir, 'templated'), '--key-pair-id', 'K1'], /nope is not a folder/],
    [['manifests', 'template', www, join(dir, 'templated')], /--key-pair-id is required/],
    [['manifests', 'template', www], /give the folder to template and the folder to write/],
    [['manifests', 'sign'], /unknown action "sign": the action is template/]
  ]
  const seen = new Set<string>()
  for (const [args, message] of cases) {
    const r = await run(args)
    const what = args.join(' ').replace(dir, '<dir>')
    seen.add(args[0] as string)
    t.equal(r.code, 2, `${what}: exit 2`)
    t.match(firstLine(r), new RegExp(`^cloudfront-cookies ${args[0] as string}: `), `${what}: names the command`)
    t.match(firstLine(r), message, `${what}: says what to change, on its first line`)
    t.equal(r.stdout, '', `${what}: nothing on stdout`)
  }
  t.same([...seen].sort(), Object.keys(COMMANDS).sort(), 'every command is covered')
})

t.test('the twins: the same commands with right arguments exit 0', async (t) => {
  const twins: string[][] = [
    ['keygen', '--out', join(dir, 'twin')],
    ['sign-url', URL, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m'],
    ['sign-cookies', 'https://media.example.test/courses/42/*', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m', '--format', 'set-cookie', '--domain', 'example.test'],
    ['verify', signed, '--key', key, '--ip', '203.0.113.7', '--now', String(Math.floor(Date.now() / 1000))],
    ['doctor', signed, '--key', key, '--ip', '2001:db8::1'],
    ['edge', '--root', www, '--key', key, '--port', '0'],
    ['manifests', 'template', www, join(dir, 'templated'), '--key-pair-id', 'K1', '--base-url', 'https://media.example.test/courses/']
  ]
  for (const args of twins) {
    const r = await run(args)
    t.equal(r.code, 0, `${args[0] as string}: exit 0 (${firstLine(r)})`)
  }
})

t.test('a private key given to --key: refused with the command that derives the public key', async (t) => {
  const keys = join(dir, 'pairs')
  mkdirSync(keys)
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const files: Array<[string, string, string]> = [
    // [file, its contents, the file the command must write]
    ['private.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'public.pem'],
    ['rsa key.pem', rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, 'rsa key.pub.pem'],
    ['ec-private.pem', ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string, 'ec-public.pem'],
    // Named public.pem, yet private: the command never writes over its input.
    ['public.pem', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'public.pub.pem']
  ]
  for (const [name, pem, expected] of files) {
    const file = join(keys, name)
    writeFileSync(file, pem, { mode: 0o600 })
    for (const command of ['edge', 'verify', 'doctor']) {
      const args = command === 'edge' ? ['edge', '--root', www, '--key', `K1=${file}`, '--port', '0'] : [command, URL, '--key', `K1=${file}`]
      const r = await run(args)
      t.equal(r.code, 2, `${command} --key ${name}: exit 2`)
      t.match(firstLine(r), `--key K1=${file}: that file holds a private key, and --key takes the public key; derive it with: openssl pkey -in `, `${command} --key ${name}: says why`)
      t.notMatch(r.stderr, /BEGIN|MII/, 'no key material')
    }
    const refused = await run(['edge', '--root', www, '--key', `K1=${file}`, '--port', '0'])
    const command = /derive it with: (openssl pkey .*)$/.exec(firstLine(refused))?.[1] as string
    t.ok(command.endsWith(` -out ${join(keys, expected).includes(' ') ? `'${join(keys, expected)}'` : join(keys, expected)}`), `${name}: writes ${expected}`)
    const before = createHash('sha256').update(readFileSync(file)).digest('hex')
    // As a user pastes it into a shell.
    execFileSync('sh', ['-c', command], { stdio: 'pipe' })
    t.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), before, `${name}: the private key file is untouched`)
    const derived = join(keys, expected)
    t.match(readFileSync(derived, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/, `${name}: a public key was written`)
    const accepted = await run(['edge', '--root', www, '--key', `K1=${derived}`, '--port', '0'])
    t.equal(accepted.code, 0, `${name}: edge --key accepts the derived public key`)
  }
  // The public key beside the private one exists already: the command picks another name.
  const again = await run(['edge', '--root', www, '--key', `K1=${join(keys, 'private.pem')}`, '--port', '0'])
  t.match(firstLine(again), new RegExp(`-out ${join(keys, 'private.pub.pem').replace(/[.]/g, '\\.')}$`), 'public.pem exists: private.pub.pem')
})

t.test('the built bin: edge --root ./nope exits 2', async (t) => {
  const bin = runner(builtCli(t, 'cli-exit'), outputs)
  const r = await bin(['edge', '--root', './nope', '--key', key, '--port', '0'])
  t.equal(r.code, 2)
  t.match(r.stderr, /^cloudfront-cookies edge: invalid --root \.\/nope: \S+nope is not a directory \(FST_ERR_CF_INVALID_OPTION\)\n$/)
  const twin = await bin(['verify', signed, '--key', key])
  t.equal(twin.code, 0, 'the twin: right arguments')
})

t.test('no key material in any output', async (t) => {
  const secret = readFileSync(privateFile, 'utf8').split('\n')[1] as string
  t.notOk(outputs.some((o) => o.includes(secret.slice(0, 24))))
})
