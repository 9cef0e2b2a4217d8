// `cloudfront-cookies doctor`, run as a process, for a representative set of findings, the JSON
// shape, the exit status, and bad arguments.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { rsaKey } from '../helpers/keys.js'
import { APP, header, MEDIA, NOW, setCookieLines, signer, T, validHeader } from '../doctor/helpers.js'

const ROOT = resolve(__dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'cf-doctor-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const publicFile = join(dir, 'public.pem')
writeFileSync(publicFile, rsaKey.publicPem)
const KEY = `${rsaKey.keyPairId}=${publicFile}`
const AT = String(T)
const PREFIX_43 = 'https://media.example.com/courses/43/*'

interface Run { code: number | null, stdout: string, stderr: string }

function doctor (args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'doctor', ...args], {
      cwd: ROOT,
      env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const valid = validHeader()
const signature = /CloudFront-Signature=([^;]+)/.exec(valid)?.[1] as string

t.test('a valid Cookie header with its key: exit 0', async (t) => {
  const r = await doctor([MEDIA, '--cookie', valid, '--key', KEY, '--now', AT])
  t.equal(r.code, 0)
  t.equal(r.stdout, 'No problem found.\nOK: nothing here makes CloudFront refuse the request.\n')
  const json = await doctor([MEDIA, '--cookie', valid, '--key', KEY, '--now', AT, '--json'])
  t.same(JSON.parse(json.stdout), { ok: true, findings: [] })
  const keyless = await doctor([MEDIA, '--cookie', valid, '--now', AT, '--json'])
  t.equal(keyless.code, 0, 'without a key: every check but the signature')
  t.same(JSON.parse(keyless.stdout).findings.map((f: { code: string }) => f.code), ['SIGNATURE_NOT_CHECKED'])
})

t.test('each finding with what to change, exit 1', async (t) => {
  const expired = await doctor([MEDIA, '--cookie', valid, '--key', KEY, '--now', new Date(NOW + 3_600_000).toISOString()])
  t.equal(expired.code, 1)
  t.match(expired.stdout, /^ERROR EXPIRED: the cookie set expired at 2030-03-17T17:56:40\.000Z \(50 min ago\)\n {6}fix: Renew the grant/)
  t.match(expired.stdout, /\n1 error: CloudFront refuses this request\.\n$/)

  const elsewhere = await doctor([MEDIA.replace('/42/', '/43/'), '--cookie', valid, '--now', AT, '--json'])
  t.equal(elsewhere.code, 1)
  const report = JSON.parse(elsewhere.stdout)
  t.equal(report.ok, false)
  t.match(report.findings, [{ code: 'RESOURCE_MISMATCH', severity: 'error', message: /path: the Resource https:\/\/media\.example\.com\/courses\/42\/\* does not cover/, fix: /./ }])
  t.same(Object.keys(report.findings[0]).sort(), ['code', 'fix', 'message', 'severity'], 'findings have exactly code, severity, message, fix')

  const wrongKey = await doctor([MEDIA, '--cookie', valid.replace(signature, signer.signPolicySync('{}')), '--key', KEY, '--now', AT])
  t.match(wrongKey.stdout, /^ERROR SIGNATURE_INVALID: /)

  const ip = await doctor([MEDIA, '--cookie', validHeader({ ipAddress: '203.0.113.0/24' }), '--ip', '2001:db8::1', '--now', AT, '--json'])
  t.match(JSON.parse(ip.stdout).findings, [{ code: 'IPV6_CLIENT' }])
  for (const r of [expired, elsewhere, wrongKey, ip]) t.notOk(r.stdout.includes(signature.slice(0, 16)), 'no signature printed')
})

t.test('--set-cookie with --from: decided as a browser', async (t) => {
  const lines = setCookieLines('Path=/courses/42/; Secure; HttpOnly; SameSite=Lax')
  const r = await doctor([MEDIA, ...lines.flatMap((l) => ['--set-cookie', `Set-Cookie: ${l}`]), '--from', APP, '--now', AT, '--json'])
  t.equal(r.code, 1)
  t.match(JSON.parse(r.stdout).findings, [{ code: 'COOKIE_NOT_SENT_HOST', message: /^CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id \(set by https:\/\/app\.example\.com, host-only/ }, { code: 'MISSING_COOKIES' }])
  const shared = lines.map((l) => l.replace('Path=', 'Domain=example.com; Path='))
  const twin = await doctor([MEDIA, ...shared.flatMap((l) => ['--set-cookie', l]), '--from', APP, '--key', KEY, '--now', AT])
  t.equal(twin.code, 0, 'the twin with Domain=example.com reaches media.example.com')
  t.notOk(r.stdout.includes(signature.slice(0, 16)) || twin.stdout.includes(signature.slice(0, 16)), 'no cookie value printed')
})

t.test('--har', async (t) => {
  const file = join(dir, 'refused.har')
  writeFileSync(file, JSON.stringify({
    log: {
      entries: [{
        startedDateTime: new Date(NOW).toISOString(),
        request: { method: 'GET', url: MEDIA, headers: [{ name: 'Cookie', value: header(signer.signCookiesSync(PREFIX_43, { expires: T + 600 })) }] },
        response: { status: 403, headers: [{ name: 'X-Cache', value: 'Error from cloudfront' }], content: { text: '<Error><Code>AccessDenied</Code></Error>' } }
      }]
    }
  }))
  const r = await doctor(['--har', file, '--key', KEY])
  t.equal(r.code, 1)
  t.match(r.stdout, /^ERROR CLOUDFRONT_ACCESS_DENIED: CloudFront refused GET https:\/\/media\.example\.com\/courses\/42\/seg-001\.ts with 403 AccessDenied\n.*\nERROR RESOURCE_MISMATCH: /)
  writeFileSync(join(dir, 'bad.har'), '{ not json')
  const bad = await doctor(['--har', join(dir, 'bad.har')])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--har .*bad\.har is not JSON/)
  writeFileSync(join(dir, 'empty.har'), '{}')
  const empty = await doctor(['--har', join(dir, 'empty.har')])
  t.equal(empty.code, 2)
  t.match(empty.stderr, /--har \S*empty\.har: expected a HAR file/)
})

t.test('--har with a field of the wrong type: exit 2, naming the file and the field', async (t) => {
  const entry = {
    startedDateTime: new Date(NOW).toISOString(),
    request: { method: 'GET', url: MEDIA, headers: [{ name: 'Cookie', value: valid }] },
    response: { status: 403, headers: [{ name: 'X-Cache', value: 'Error from cloudfront' }], content: { text: '<Error><Code>AccessDenied</Code></Error>' } }
  }
  const cases: Array<[string, unknown, string]> = [
    ['method', { log: { entries: [entry, { ...entry, request: { ...entry.request, method: 42 } }] } }, 'log.entries[1].request.method: expected a string, got a number'],
    ['headers', { log: { entries: [{ ...entry, request: { ...entry.request, headers: 'Cookie: x' } }] } }, 'log.entries[0].request.headers: expected an array, got a string'],
    ['status', { log: { entries: [{ ...entry, response: { ...entry.response, status: '403' } }] } }, 'log.entries[0].response.status: expected an integer, got a string'],
    ['entries', { log: { entries: {} } }, 'log.entries: expected an array, got an object'],
    ['array', [], 'expected a HAR file: { "log": { "entries": [...] } }, got an array'],
    ['string', 'log', 'expected a HAR file: { "log": { "entries": [...] } }, got a string']
  ]
  for (const [name, har, message] of cases) {
    const file = join(dir, `wrong-${name}.har`)
    writeFileSync(file, JSON.stringify(har))
    const r = await doctor(['--har', file])
    t.equal(r.code, 2, `${name}: bad input`)
    t.equal(r.stderr.split('\n')[0], `cloudfront-cookies doctor: --har ${file}: ${message}`, `${name}: one line naming the file and the field`)
    t.notOk(r.stderr.includes(signature.slice(0, 16)), `${name}: no cookie value`)
  }
  const twin = join(dir, 'right.har')
  writeFileSync(twin, JSON.stringify({ log: { entries: [entry] } }))
  t.equal((await doctor(['--har', twin])).code, 1, 'the twin: the same file with the right types is read (errors found)')
})

t.test('bad arguments: exit 2, with what to change', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /give the refused media <url> \(or --har <file>\)/],
    [[MEDIA, '--set-cookie', 'CloudFront-Policy=x'], /--set-cookie needs --from/],
    [[MEDIA, '--from', APP], /--from goes with --set-cookie/],
    [['--har', 'x.har', MEDIA], /--har reads the URLs and cookies from the file/],
    [['/courses/42/seg.ts', '--cookie', valid], /<url>: expected an absolute http:\/\/ or https:\/\/ URL/],
    [[MEDIA, '--set-cookie', 'a=b', '--from', 'app.example.com'], /--from: expected an absolute/],
    [[MEDIA, '--now', 'yesterday'], /--now yesterday is neither epoch seconds nor an ISO date/],
    [[MEDIA, '--key', 'nofile'], /--key nofile: expected ID=path\/to\/public\.pem/],
    [[MEDIA, '--key', `${rsaKey.keyPairId}=/nonexistent.pem`], /cannot read --key \/nonexistent\.pem \(ENOENT\)/],
    [[MEDIA, '--key', KEY, '--key', KEY], /is given twice/],
    [[MEDIA, '--bogus'], /unknown option '?--bogus/i]
  ]
  const runs = await Promise.all(cases.map(([args]) => doctor(args)))
  cases.forEach(([args, message], i) => {
    t.equal(runs[i]?.code, 2, args.join(' '))
    t.match(runs[i]?.stderr, message)
  })
  // A file that is not a public key: named by the --key that brought it, as verify names it.
  const notKey = join(dir, 'not-a-key.pem')
  writeFileSync(notKey, 'hello')
  const bad = await doctor([MEDIA, '--cookie', valid, '--key', `${rsaKey.keyPairId}=${notKey}`])
  t.equal(bad.code, 2)
  t.match(bad.stderr, new RegExp(`--key ${rsaKey.keyPairId}=\\S*not-a-key\\.pem: .*\\(FST_ERR_CF_INVALID_KEY\\)`))
  const help = await doctor(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: cloudfront-cookies doctor <url>/)
})
