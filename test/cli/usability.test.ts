// What a user of the command line meets when something is off: the version, suggestions for typos,
// full URLs, pasted headers, dates beside epoch times, errors in terms of flags, a busy port.
// main() runs in this process, with the bin's output and exit status (so its coverage counts);
// test/cli/cli.test.ts runs the same through the built bin in processes of its own.
import t from 'tap'
import { createServer } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { absoluteUrl, cookieHeader, parse, withIsoDates } from '../../src/cli/args.js'
import { cookiePathFor } from '../../src/cli/sign.js'
import { editDistance } from '../../src/core/guards.js'
import { suggest } from '../../src/cli/suggest.js'
import { tempDir } from '../edge/helpers.js'
import { ROOT, inProcess, type Run } from './helpers.js'

const outputs: string[] = []
const run = inProcess(outputs)
const dir = tempDir(t, 'cf-cli-usability-')
const privateFile = join(dir, 'private.pem')
const publicFile = join(dir, 'public.pem')
let keyId = ''
const sign = (resource: string, ...more: string[]): string[] =>
  ['sign-cookies', resource, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m', ...more]

t.before(async () => {
  keyId = (await run(['keygen', '--out', dir])).stdout.trim()
})

t.test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const flag of ['--version', '-v']) {
    const res = await run([flag])
    t.equal(res.code, 0)
    t.equal(res.stdout, `${version as string}\n`, `${flag}: the version alone, for scripts`)
  }
  t.match((await run(['--help'])).stdout, /--version/, 'the overview mentions it')
})

t.test('did you mean: commands and options', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['sign'], /unknown command "sign"; did you mean sign-url or sign-cookies\?\n/],
    [['verfy'], /unknown command "verfy"; did you mean verify\?\n/],
    [['sign-urll'], /unknown command "sign-urll"; did you mean sign-url\?\n/],
    [['help', 'sign-cookie'], /unknown command "sign-cookie"; did you mean sign-cookies\?\n/],
    [['--versoin'], /unknown option --versoin; did you mean --version\?\n/],
    [['frobnicate'], /unknown command "frobnicate"\n/],
    [['sign-url', 'https://h.test/x', '--expire', '1m'], /sign-url: unknown option --expire; did you mean --expires or --expires-in\?\n/],
    [['sign-url', 'https://h.test/x', '--expries', '1m'], /unknown option --expries; did you mean --expires\?\n/],
    [['sign-cookies', 'https://h.test/*', '--privat-key', 'k'], /unknown option --privat-key; did you mean --private-key\?\n/],
    [['verify', 'https://h.test/x', '--cookies', 'a=b'], /unknown option --cookies; did you mean --cookie\?\n/],
    [['edge', '--prot', '0'], /unknown option --prot; did you mean --port\?\n/],
    [['keygen', '-x'], /keygen: unknown option -x\n/],
    [['sign-url', 'https://h.test/x', '--key-id', '--private-key', 'k'], /--key-id needs a value, but the next argument is --private-key \(write --key-id=--private-key if that is the value\)\n/],
    [['sign-url', 'https://h.test/x', '--key-id'], /--key-id needs a value\n/],
    [['sign-url', 'https://h.test/x', '--sha256=yes'], /--sha256 takes no value \(got "yes"\)\n/]
  ]
  const results = await Promise.all(cases.map(([args]) => run(args)))
  cases.forEach(([args, expected], i) => {
    const res = results[i] as Run
    t.equal(res.code, 2, `${args.join(' ')}: exit 2`)
    t.match(res.stderr, expected, `${args.join(' ')}: ${String(expected)}`)
    t.notMatch(res.stderr, /positional argument|ambiguous|To specify/, `${args.join(' ')}: none of parseArgs' own text`)
  })
  t.same(suggest('sign', ['keygen', 'sign-url', 'sign-cookies', 'verify']), ['sign-url', 'sign-cookies'])
  t.same(suggest('xyz', ['keygen', 'verify']), [])
  t.equal(editDistance('expries', 'expires'), 1, 'a swap is one edit')
  t.equal(editDistance('', 'abc'), 3)
  t.same(suggest('--prot', ['--port', '--root', '--public']), ['--port'], 'the dashes do not count as letters')
})

t.test('a relative URL is a usage error, not a refusal', async (t) => {
  const [verify, signUrl, signCookies] = await Promise.all([
    run(['verify', '/courses/42/seg.ts', '--key', `${keyId}=${publicFile}`]),
    run(['sign-url', 'courses/42/seg.ts', '--key-id', keyId, '--private-key', privateFile, '--expires-in', '1m']),
    run(sign('/courses/42/*'))
  ])
  t.equal(verify.code, 2, 'verify: exit 2')
  t.equal(verify.stdout, '', 'verify: no verdict')
  t.match(verify.stderr, /verify: the URL to verify \/courses\/42\/seg\.ts is not a full URL: give it with its scheme and host, as the browser requests it, such as https:\/\/media\.example\.com\/courses\/42\/seg\.ts\n/)
  t.equal(signUrl.code, 2, 'sign-url: exit 2')
  t.match(signUrl.stderr, /such as https:\/\/media\.example\.com\/courses\/42\/seg\.ts\n/)
  t.equal(signCookies.code, 2, 'sign-cookies: exit 2')
  const p = parse(['/x'], {}, 1)
  t.throws(() => absoluteUrl(p, 'URL to verify'), { code: 'FST_ERR_CF_CLI_USAGE' }, 'a coded usage error')
  t.equal(absoluteUrl(parse(['*://h.test/*'], {}, 1), 'resource'), '*://h.test/*', 'a resource with a wildcard scheme is full')
})

t.test('sign-cookies --format set-cookie: the Path is the resource\'s prefix', async (t) => {
  const pathOf = async (resource: string, ...more: string[]): Promise<string[]> => {
    const res = await run(sign(resource, '--format', 'set-cookie', ...more))
    t.equal(res.code, 0, `${resource}: signed`)
    return res.stdout.trim().split('\n').map((line) => /; Path=([^;]*);/.exec(line)?.[1] as string)
  }
  t.same(await pathOf('https://media.example.test/courses/42/*'), ['/courses/42/', '/courses/42/', '/courses/42/'])
  t.same(await pathOf('https://media.example.test/courses/43/*'), ['/courses/43/', '/courses/43/', '/courses/43/'],
    'two prefixes get two Paths, neither inside the other')
  t.same(await pathOf('https://media.example.test/courses/42/*', '--path', '/courses/'), ['/courses/', '/courses/', '/courses/'], '--path still chooses')
  const [wild, outside, noFormat] = await Promise.all([
    run(sign('https://media.example.test/courses/42/*', '--format', 'set-cookie', '--path', '/courses/42/*')),
    run(sign('https://media.example.test/courses/42/*', '--format', 'set-cookie', '--path', '/courses/43/')),
    run(sign('https://media.example.test/courses/42/*', '--path', '/courses/42/'))
  ])
  t.equal(wild.code, 2)
  t.match(wild.stderr, /--path \/courses\/42\/\*: a cookie Path is a plain prefix that starts with "\/", without wildcards, such as \/courses\/42\//)
  t.equal(outside.code, 2)
  t.match(outside.stderr, /--path \/courses\/43\/ does not cover the resource's path \/courses\/42\//)
  t.equal(noFormat.code, 2)
  t.match(noFormat.stderr, /--path is a cookie attribute: it applies to --format set-cookie only/)

  t.equal(cookiePathFor('https://cdn.test/courses/42/*'), '/courses/42/')
  t.equal(cookiePathFor('https://cdn.test/courses/4*'), '/courses/', 'a wildcard inside a segment: the segments before it')
  t.equal(cookiePathFor('https://cdn.test/*'), '/')
  t.equal(cookiePathFor('https://*.cdn.test/a/*/b.ts'), '/a/', 'the host\'s wildcard does not count')
  t.equal(cookiePathFor('https://cdn.test/a/b.m3u8?x=1'), '/a/b.m3u8', 'an exact URL: its own path')
  t.equal(cookiePathFor('https://cdn.test/a%20b/*'), '/a%20b/', 'percent-encoded, as the browser sends the path')
  t.equal(cookiePathFor('https://cdn.test'), '/')
})

t.test('verify takes a Cookie header as pasted, with its name', async (t) => {
  const header = (await run(sign('https://media.example.test/courses/42/*', '--format', 'header'))).stdout.trim()
  const url = 'https://media.example.test/courses/42/seg.ts'
  for (const cookie of [`Cookie: ${header}`, `cookie:${header}`, `  COOKIE:  ${header}  `, header]) {
    const res = await run(['verify', url, '--key', `${keyId}=${publicFile}`, '--cookie', cookie])
    t.equal(res.code, 0, `${cookie.slice(0, 12)}...: allowed`)
  }
  t.equal(cookieHeader(['Cookie: a=1', 'b=2']), 'a=1; b=2')
  t.equal(cookieHeader(['Cookie:', ' ']), undefined, 'nothing left: no header')
  t.equal(cookieHeader(['session=Cookie: x']), 'session=Cookie: x', 'only a leading header name is dropped')
})

t.test('times: ISO dates beside epoch seconds', async (t) => {
  const header = (await run(['sign-cookies', 'https://media.example.test/courses/42/*', '--key-id', keyId, '--private-key', privateFile,
    '--not-before', '2000000000', '--expires', '2033-06-01T00:00:00Z', '--format', 'header'])).stdout.trim()
  const url = 'https://media.example.test/courses/42/seg.ts'
  const key = `${keyId}=${publicFile}`
  const allowed = await run(['verify', url, '--key', key, '--cookie', header, '--now', '2000000001', '--json'])
  t.equal(allowed.code, 0)
  const verdict = JSON.parse(allowed.stdout)
  t.equal(verdict.policy.notBefore, 2000000000)
  t.equal(verdict.policy.notBeforeIso, '2033-05-18T03:33:20Z')
  t.equal(verdict.policy.expires, 2001196800)
  t.equal(verdict.policy.expiresIso, '2033-06-01T00:00:00Z')
  const early = await run(['verify', url, '--key', key, '--cookie', header, '--now', '1999999999'])
  t.equal(early.code, 1)
  t.match(early.stdout, /reason: +the grant is not valid before 2000000000 \(2033-05-18T03:33:20Z\) \(now 1999999999, 2033-05-18T03:33:19Z\)\n/)
  const earlyJson = JSON.parse((await run(['verify', url, '--key', key, '--cookie', header, '--now', '1999999999', '--json'])).stdout)
  t.match(earlyJson.reason, /2000000000 \(2033-05-18T03:33:20Z\)/)
  const past = await run(['sign-url', 'https://media.example.test/x', '--key-id', keyId, '--private-key', privateFile, '--expires', '1000000000'])
  t.equal(past.code, 2)
  t.match(past.stderr, /invalid --expires 1000000000: 1000000000 \(2001-09-09T01:46:40Z\) is not after now \(\d+, 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/)

  t.equal(withIsoDates('at 1893456000.'), 'at 1893456000 (2030-01-01T00:00:00Z).')
  t.equal(withIsoDates('the cap 2147483647'), 'the cap 2147483647 (2038-01-19T03:14:07Z)')
  for (const untouched of ['https://h.test/1893456000/x', 'id=1893456000', '/a/1893456000', '2147483648 and 999999999', '18934560001', 'v1893456000', '1893456000.5']) {
    t.equal(withIsoDates(untouched), untouched, `${untouched}: not an epoch time in a sentence`)
  }
})

t.test('errors name the flag that was typed, not the library option', async (t) => {
  const base = ['https://media.example.test/x', '--key-id', 'KTEST', '--private-key', privateFile]
  const key = `${keyId}=${publicFile}`
  const notPem = join(dir, 'not.pem')
  writeFileSync(notPem, 'hello')
  const cases: Array<[string[], RegExp]> = [
    [['sign-url', ...base, '--expires-in', '5x'], /sign-url: invalid --expires-in 5x: expected integer seconds or a duration/],
    [['sign-url', ...base, '--expires-in=100000d'], /invalid --expires-in 100000d: .*milliseconds/],
    [['sign-url', ...base, '--expires-in', '60000'], /invalid --expires-in 60000: 60000 reads as milliseconds: durations are seconds, so did you mean "60s"\? If you mean 16\.7 hours, write the unit \("60000s"\)/],
    [['sign-url', ...base, '--expires-in', '1m', '--ip', '999.1.1.1'], /invalid --ip 999\.1\.1\.1: "999\.1\.1\.1" is not an IPv4 address/],
    [['sign-url', ...base, '--expires-in', '1m', '--not-before', '2099-01-01'], /invalid --not-before 2099-01-01: /],
    [['sign-url', 'https://media.example.test/x', '--key-id', 'a/b', '--private-key', privateFile, '--expires-in', '1m'], /invalid --key-id a\/b: "a\/b" is not a CloudFront key ID: expected letters, digits/],
    [['sign-url', 'https://media.example.test/x', '--key-id', 'K1', '--private-key', publicFile, '--expires-in', '1m'], /invalid --private-key \S+public\.pem: a public key was given where the private key is needed/],
    [['verify', 'https://media.example.test/x', '--key', `K1=${notPem}`], /invalid --key K1=\S+not\.pem: /],
    [['edge', '--root', dir, '--key', key, '--cors-origin', 'nope', '--port', '0'], /edge: invalid --cors-origin nope: "nope" is not an origin/],
    [['edge', '--upstream', 'ftp://x.test', '--key', key, '--port', '0'], /invalid --upstream ftp:\/\/x\.test: expected an http:\/\/ or https:\/\/ URL/],
    [['edge', '--root', dir, '--key', key, '--viewer-host', 'a/b', '--port', '0'], /invalid --viewer-host a\/b: expected a host name/],
    [['edge', '--root', dir, '--key', key, '--public', '/a', '--public', '/a', '--port', '0'], /invalid --public \/a: "\/a" is listed twice/],
    [['edge', '--root', join(dir, 'private.pem'), '--key', key, '--port', '0'], /invalid --root \S+private\.pem: \S+ is not a directory/]
  ]
  const results = await Promise.all(cases.map(([args]) => run(args)))
  cases.forEach(([args, expected], i) => {
    const res = results[i] as Run
    const what = args.slice(0, 1).concat(args.slice(-4)).join(' ')
    t.equal(res.code, 2, `${what}: exit 2, a bad argument`)
    t.match(res.stderr, expected, `${what}: names the flag`)
    t.match(res.stderr, /\(FST_ERR_CF_[A-Z_]+\)\n$/, `${what}: with the library's code`)
    t.notMatch(res.stderr, /\b(expiresIn|notBefore|ipAddress|keyPairId|privateKey|cors\.origins|origin\.(root|upstream)|behaviors\[|Invalid option|Invalid time)\b/, `${what}: no API option name`)
  })
})

t.test('edge on a busy port: the hint to pick another', async (t) => {
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())))
  const port = (busy.address() as { port: number }).port
  const res = await run(['edge', '--root', dir, '--key', `${keyId}=${publicFile}`, '--port', String(port)])
  t.equal(res.code, 2)
  t.equal(res.stdout, '', 'nothing said about listening')
  t.match(res.stderr, new RegExp(`^cloudfront-cookies edge: port ${port} on 127\\.0\\.0\\.1 is already in use: pick another with --port <n> \\(--port 0 picks a free one\\), or stop what is listening there\\n`))
  t.notMatch(res.stderr, /EADDRINUSE|at .*\(node:/, 'no bare code, no stack')
})

t.test('no output ever contains the private key', async (t) => {
  const keyLines = readFileSync(privateFile, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'))
  t.ok(outputs.length > 40 && keyLines.length > 10)
  t.same(outputs.filter((o) => o.includes('PRIVATE KEY') || keyLines.some((l) => o.includes(l))), [])
})

t.test('--expires-in: seconds as people write them are accepted, with or without a unit', async (t) => {
  for (const value of ['900', '3600', '86400', '60000s', '15m']) {
    const res = await run(['sign-url', 'https://media.example.test/x', '--key-id', keyId, '--private-key', privateFile, '--expires-in', value])
    t.equal(res.code, 0, `--expires-in ${value}`)
  }
})

t.test('sign-cookies for a folder URL without "*": signed as asked, with a warning that gives the /* form', async (t) => {
  const folder = await run(sign('https://media.example.com/courses/42/', '--format', 'set-cookie'))
  t.equal(folder.code, 0, 'still signed: an exact URL is a valid resource')
  t.match(folder.stdout, /Path=\/courses\/42\//)
  t.equal(folder.stderr, "cloudfront-cookies sign-cookies: warning: https://media.example.com/courses/42/ names a folder without \"*\": these cookies open that one URL (exactly /courses/42/), not the files under it. For the whole folder, sign 'https://media.example.com/courses/42/*'\n")
  const root = await run(sign('https://media.example.com/'))
  t.match(root.stderr, /warning: https:\/\/media\.example\.com\/ names a folder without "\*": these cookies open that one URL \(exactly \/\).*sign 'https:\/\/media\.example\.com\/\*'\n$/, 'the root too')
  const refused = await run(sign('https://media.example.com'))
  t.equal(refused.code, 2, 'a resource the signer refuses is a bad argument')
  t.notMatch(refused.stderr, /warning/, 'a resource the signer refuses gets its error alone')
  for (const resource of ['https://media.example.com/courses/42/*', 'https://media.example.com/courses/42/index.m3u8', 'https://media.example.com/courses/*/hd/', 'https://media.example.com/courses/42/?v=1']) {
    const res = await run(sign(resource))
    t.equal(res.code, 0)
    t.equal(res.stderr, '', `${resource}: no warning`)
  }
})

t.test('a key ID CloudFront cannot know: signed, with a warning on stderr before the output', async (t) => {
  for (const [command, target] of [['sign-cookies', 'https://media.example.com/courses/42/*'], ['sign-url', 'https://media.example.com/courses/42/index.m3u8']]) {
    const res = await run([command as string, target as string, '--key-id', 'my-key', '--private-key', privateFile, '--expires-in', '10m'])
    t.equal(res.code, 0)
    t.match(res.stderr, new RegExp(`^cloudfront-cookies ${command as string}: warning: The key ID "my-key" cannot be a CloudFront key ID: CloudFront will refuse every grant signed with it \\(403\\)`))
    t.match(res.stdout, /my-key/)
    const twin = await run([command as string, target as string, '--key-id', keyId, '--private-key', privateFile, '--expires-in', '10m'])
    t.equal(twin.stderr, '', `${command as string}: the key ID keygen prints is one CloudFront's shape`)
  }
})
