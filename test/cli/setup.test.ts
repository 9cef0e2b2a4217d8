// `cloudfront-cookies setup`: the built bin in its own process prints a template the linter passes,
// and every bad argument exits 2 with one line saying what to change; the same command lines through
// main() in this process (so the command's coverage counts).
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ecKey, rsaKey } from '../helpers/keys.js'
import { lint, valueProblems } from '../helpers/cloudformation.js'
import { tempDir } from '../edge/helpers.js'
import { builtCli, inProcess, runner, type Run } from './helpers.js'

const BIN = builtCli(t, 'setup')
const outputs: string[] = []
const bin = runner(BIN, outputs)
const main = inProcess(outputs)

const dir = tempDir(t, 'cf-cli-setup-')
const publicFile = join(dir, 'public.pem')
const ecFile = join(dir, 'ec-public.pem')
const privateFile = join(dir, 'private.pem')
writeFileSync(publicFile, rsaKey.publicPem)
writeFileSync(ecFile, ecKey.publicPem)
writeFileSync(privateFile, rsaKey.privatePem, { mode: 0o600 })
// A private key saved under the public key's usual name: the advice must not write over it.
mkdirSync(join(dir, 'mixed-up'))
const misnamed = join(dir, 'mixed-up', 'public.pem')
writeFileSync(misnamed, ecKey.privatePem, { mode: 0o600 })

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789'
const ARGS = ['setup', '--domain', 'media.example.com', '--app', 'https://app.example.com', '--bucket', 'my-media-bucket',
  '--certificate-arn', CERT, '--public-key', publicFile]

/** ARGS with one flag's value replaced (or the flag removed, for `null`). */
function withFlag (flag: string, value: string | null): string[] {
  const at = ARGS.indexOf(flag)
  const args = [...ARGS]
  if (value === null) args.splice(at, 2)
  else args[at + 1] = value
  return args
}

function usageLine (t: Test, r: Run, line: RegExp, name: string): void {
  t.equal(r.code, 2, `${name}: exit 2`)
  t.equal(r.stdout, '', `${name}: no template`)
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.length, 2, `${name}: one line, then where the usage is`)
  t.match(lines[0], line, name)
  t.equal(lines[1], "Run 'cloudfront-cookies setup --help' for usage.")
}

t.test('help, and the command in the overview', async (t) => {
  const help = await bin(['setup', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: cloudfront-cookies setup --domain <host> --app <origin> --bucket <name> --certificate-arn <arn> --public-key <file>/)
  t.match(help.stdout, /docs\/cloudfront-setup\.md/)
  t.match((await bin(['--help'])).stdout, /\n {2}setup +print a CloudFormation template/)
})

t.test('the built bin prints a template the linter passes', async (t) => {
  const sets: Record<string, string[]> = {
    minimal: ARGS,
    'every option': [...ARGS, '--public-key', ecFile, '--app', 'https://staging.example.com', '--prefix', '/courses/',
      '--hosted-zone-id', 'Z0123456789ABCDEFGHIJ', '--bucket-region', 'eu-west-1']
  }
  for (const [name, args] of Object.entries(sets)) {
    const r = await bin(args)
    t.equal(r.code, 0, name)
    const tpl = JSON.parse(r.stdout)
    const result = lint(tpl)
    t.same(result.crit, [], `${name}: no lint error`)
    t.same(result.warn, [], `${name}: no lint warning`)
    t.same(valueProblems(tpl), [], `${name}: values CloudFront takes`)
    const config = tpl.Resources.MediaDistribution.Properties.DistributionConfig
    t.same(config.DefaultCacheBehavior.TrustedKeyGroups, [{ 'Fn::GetAtt': ['MediaKeyGroup', 'Id'] }])
    t.same(config.Aliases, ['media.example.com'])
    t.match(r.stderr, /CookieDomain as cookie: \{ domain: 'example\.com' \}/, `${name}: the next steps on stderr`)
    t.match(r.stderr, /replaces any policy s3:\/\/my-media-bucket has/)
  }
  const full = JSON.parse((await bin(sets['every option'] as string[])).stdout)
  const keys = Object.values(full.Resources as Record<string, { Type: string, Properties: any }>).filter((r) => r.Type === 'AWS::CloudFront::PublicKey')
  t.same(keys.map((k) => k.Properties.PublicKeyConfig.EncodedKey), [rsaKey.publicPem, ecKey.publicPem], 'the files\' keys, in order')
  t.same(full.Resources.MediaCorsPolicy.Properties.ResponseHeadersPolicyConfig.CorsConfig.AccessControlAllowOrigins.Items, ['https://app.example.com', 'https://staging.example.com'])
  t.equal(full.Resources.MediaDistribution.Properties.DistributionConfig.CacheBehaviors[0].PathPattern, '/courses/*')
  t.equal(full.Resources.MediaDnsIpv6.Properties.Type, 'AAAA')
  t.match((await bin(sets['every option'] as string[])).stderr, /--region eu-west-1/, 'the deploy command names the bucket\'s region')
})

t.test('bad arguments, through the built bin: exit 2 and one line saying what to change', async (t) => {
  usageLine(t, await bin(withFlag('--domain', 'd111111abcdef8.cloudfront.net')),
    /^cloudfront-cookies setup: --domain d111111abcdef8\.cloudfront\.net: cookies set by your app never reach d111111abcdef8\.cloudfront\.net: give an alternate domain name under your app's domain, such as "media\.example\.com"/, 'a cloudfront.net domain')
  usageLine(t, await bin(withFlag('--app', 'http://app.example.com')),
    /^cloudfront-cookies setup: --app http:\/\/app\.example\.com: "http:\/\/app\.example\.com" is not https: /, 'an http app')
  usageLine(t, await bin(withFlag('--certificate-arn', CERT.replace('us-east-1', 'eu-west-1'))),
    /^cloudfront-cookies setup: --certificate-arn arn:aws:acm:eu-west-1:\S+: the certificate is in eu-west-1, and CloudFront uses certificates from us-east-1 only/, 'a certificate outside us-east-1')
  const privateGiven = await bin(withFlag('--public-key', privateFile))
  usageLine(t, privateGiven, new RegExp(`^cloudfront-cookies setup: --public-key ${privateFile}: this is a private key, which must never leave the app: give its public half, written by \`openssl pkey -in ${privateFile} -pubout -out ${dir}/public\\.pem\`$`), 'a private key')
  t.notOk(outputs.some((o) => o.includes(rsaKey.privatePem.split('\n')[1] as string)), 'no key material printed')
})

t.test('the printed openssl command writes the public half beside the key, never over it', async (t) => {
  const r = await bin(withFlag('--public-key', misnamed))
  const command = /`(openssl [^`]+)`/.exec(r.stderr)?.[1] as string
  t.equal(command, `openssl pkey -in ${misnamed} -pubout -out ${join(dir, 'mixed-up', 'public-key.pem')}`)
  const before = readFileSync(misnamed, 'utf8')
  const [program, ...args] = command.split(' ')
  execFileSync(program as string, args, { stdio: 'pipe' })
  t.equal(readFileSync(misnamed, 'utf8'), before, 'the private key is untouched')
  const written = join(dir, 'mixed-up', 'public-key.pem')
  t.equal(readFileSync(written, 'utf8'), ecKey.publicPem, 'its public half')
  const again = await bin(withFlag('--public-key', written))
  t.equal(again.code, 0, 'and setup takes it')
})

t.test('bad arguments, in this process', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [withFlag('--domain', null), /^cloudfront-cookies setup: --domain is required$/],
    [withFlag('--app', null), /^cloudfront-cookies setup: --app is required \(the app's origin, such as https:\/\/app\.example\.com\)$/],
    [withFlag('--bucket', null), /--bucket is required/],
    [withFlag('--certificate-arn', null), /--certificate-arn is required/],
    [withFlag('--public-key', null), /--public-key is required \(the public key in PEM, such as public\.pem\)/],
    [withFlag('--public-key', join(dir, 'nope.pem')), /^cloudfront-cookies setup: cannot read --public-key \S+nope\.pem \(ENOENT\)$/],
    [withFlag('--domain', 'https://media.example.com'), /^cloudfront-cookies setup: --domain https:\/\/media\.example\.com: give the host name alone \("media\.example\.com"\)/],
    [withFlag('--app', '*'), /^cloudfront-cookies setup: --app \*: browsers refuse Access-Control-Allow-Origin: \*/],
    [[...ARGS, '--app', 'https://app.other.com'], /^cloudfront-cookies setup: --app https:\/\/app\.other\.com: app\.other\.com and media\.example\.com share no parent domain/],
    [withFlag('--bucket', 's3://my-media-bucket'), /^cloudfront-cookies setup: --bucket s3:\/\/my-media-bucket: give the bucket's name alone: "my-media-bucket"$/],
    [[...ARGS, '--bucket-region', 'Ireland'], /--bucket-region Ireland: "Ireland" is not an AWS region/],
    [[...ARGS, '--prefix', '/courses'], /^cloudfront-cookies setup: --prefix \/courses: end it with "\/": "\/courses\/"/],
    [[...ARGS, '--hosted-zone-id', '/hostedzone/Z0123456789ABCDEFGHIJ'], /--hosted-zone-id \/hostedzone\/Z0123456789ABCDEFGHIJ: give the ID alone: "Z0123456789ABCDEFGHIJ"/],
    [[...ARGS, '--public-key', publicFile], /^cloudfront-cookies setup: --public-key \S+public\.pem: this key is given twice$/],
    [[...ARGS, '--public-key', privateFile], new RegExp(`^cloudfront-cookies setup: --public-key ${privateFile}: this is a private key`)],
    [[...ARGS, '--hosted-zone', 'Z1'], /unknown option --hosted-zone; did you mean --hosted-zone-id\?/],
    [[...ARGS, 'extra'], /unexpected argument "extra"/]
  ]
  for (const [args, line] of cases) usageLine(t, await main(args), line, args.slice(-2).join(' '))
  const weak = join(dir, 'rsa-1024.pem')
  writeFileSync(weak, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }))
  usageLine(t, await main(withFlag('--public-key', weak)), /--public-key \S+rsa-1024\.pem: CloudFront key groups take RSA keys of 2048 bits only; this key has 1024/, 'an RSA-1024 key')
  const ok = await main(ARGS)
  t.equal(ok.code, 0, 'the valid twin')
  t.same(lint(JSON.parse(ok.stdout)).crit, [])
  t.notOk(outputs.some((o) => o.includes(rsaKey.privatePem.split('\n')[1] as string)), 'no key material printed')
})
