// docs/cloudfront-setup.md, run and compared with the code: its key pair commands run with openssl
// and never write over what they read, its `setup` command line passes the linter, its options
// table is the command's, its bucket policy is the template's, its links lead to its headings.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { cloudFrontTemplate } from '../../src/core/setup/index.js'
import { lint } from '../helpers/cloudformation.js'
import { rsaKey } from '../helpers/keys.js'
import { inProcess } from '../cli/helpers.js'
import { tempDir } from '../edge/helpers.js'

const ROOT = resolve(__dirname, '..', '..')
const DOC = readFileSync(join(ROOT, 'docs', 'cloudfront-setup.md'), 'utf8')
const run = inProcess([])

function marked (name: string): string {
  const m = new RegExp(`<!-- commands: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\n`).exec(DOC)
  if (m === null) throw new Error(`no block marked "${name}"`)
  return m[1] as string
}

const bash = (script: string, cwd: string): string => execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

t.test('no openssl command of the guide writes the file it reads', async (t) => {
  const commands = [...DOC.matchAll(/openssl [^`\n|)]+/g)].map((m) => m[0])
  t.ok(commands.length >= 6, `${commands.length} openssl commands`)
  for (const command of commands) {
    const input = /-in (\S+)/.exec(command)?.[1]
    const output = /-out (\S+)/.exec(command)?.[1]
    if (input !== undefined && output !== undefined) t.not(output, input, command)
  }
  t.match(DOC, /`-in private\.pem -out private\.pem` would replace your only copy/, 'and the guide says why')
})

t.test('the key pair commands make an RSA-2048 pair, the private key mode 0600', async (t) => {
  const dir = tempDir(t, 'cf-doc-keys-')
  bash(marked('key pair'), dir)
  t.equal(statSync(join(dir, 'private.pem')).mode & 0o777, 0o600)
  const privateKey = createPrivateKey(readFileSync(join(dir, 'private.pem')))
  t.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048)
  t.match(readFileSync(join(dir, 'public.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/, 'SPKI')
  t.equal(createPublicKey(readFileSync(join(dir, 'public.pem'))).export({ type: 'spki', format: 'pem' }), createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }), 'the private key\'s public half')

  const before = readFileSync(join(dir, 'private.pem'), 'utf8')
  const checked = bash(marked('check the pair').replace(/\s+#.*$/gm, ''), dir)
  t.equal(checked, 'the pair matches\nPublic-Key: (2048 bit)\n', 'the check block prints what the guide says')
  t.equal(readFileSync(join(dir, 'private.pem'), 'utf8'), before, 'checking writes nothing')

  const other = tempDir(t, 'cf-doc-keys-other-')
  bash(marked('key pair'), other)
  const firstCheck = (marked('check the pair').split('\n')[0] as string).replace(' public.pem', ` ${join(other, 'public.pem')}`)
  t.throws(() => bash(firstCheck, dir), 'the check fails for another pair\'s public key (negative twin)')

  const ec = /`(openssl genpkey -algorithm EC [^`]+)`/.exec(DOC)?.[1] as string
  const ecDir = tempDir(t, 'cf-doc-ec-')
  bash(ec, ecDir)
  t.equal(createPrivateKey(readFileSync(join(ecDir, 'private.pem'))).asymmetricKeyDetails?.namedCurve, 'prime256v1', 'the ECDSA command makes a P-256 key')

  // The guide's setup command line, with the public key just made: the template it prints passes the linter.
  const block = /```sh\n(npx cloudfront-cookies setup \\\n[\s\S]*?) > cloudfront\.json\n/.exec(DOC)?.[1] as string
  const args = block.replace(/\\\n\s*/g, ' ').trim().split(/\s+/).slice(2).map((a) => (a === 'public.pem' ? join(dir, 'public.pem') : a))
  t.equal(args[0], 'setup')
  const result = await run(args)
  t.equal(result.code, 0, result.stderr)
  t.same(lint(JSON.parse(result.stdout)).crit, [], 'the guide\'s command line gives a template with no lint error')
})

t.test('the options table is the command\'s options', async (t) => {
  const help = (await run(['setup', '--help'])).stdout
  const flags = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1] as string)
  const table = DOC.slice(DOC.indexOf('| Option | What it is |'))
  const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `(--[a-z-]+)`/gm)].map((m) => m[1] as string)
  t.same([...documented, '--bucket-region'].sort(), flags.sort(), 'each flag is documented (--bucket-region within --bucket\'s line)')
  t.match(table, /`--bucket-region`/)
})

t.test('the bucket policy shown is the template\'s statement', async (t) => {
  const shown = JSON.parse(/## 8\.[\s\S]*?```json\n([\s\S]*?)```/.exec(DOC)?.[1] as string)
  const tpl = cloudFrontTemplate({
    domain: 'media.example.com',
    app: 'https://app.example.com',
    bucket: 'my-media-bucket',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    publicKeys: rsaKey.publicPem,
    prefix: '/courses/'
  })
  const statement = (tpl.Resources.MediaBucketPolicy?.Properties.PolicyDocument as { Statement: Array<Record<string, any>> }).Statement[0] as Record<string, any>
  const arn = (statement.Condition.StringEquals['AWS:SourceArn']['Fn::Sub'] as string)
    .replace('${AWS::AccountId}', '123456789012').replace('${MediaDistribution}', 'EDFDVBD6EXAMPLE') // eslint-disable-line no-template-curly-in-string
  t.same(shown, { ...statement, Condition: { StringEquals: { 'AWS:SourceArn': arn } } })
})

t.test('the outputs and resources the guide names exist; its links lead to its headings', async (t) => {
  const tpl = cloudFrontTemplate({
    domain: 'media.example.com',
    app: 'https://app.example.com',
    bucket: 'my-media-bucket',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d',
    publicKeys: rsaKey.publicPem,
    hostedZoneId: 'Z0123456789ABCDEFGHIJ'
  })
  for (const output of ['KeyPairId', 'CookieDomain', 'MediaUrl', 'DistributionDomainName', 'KeyGroupId', 'DistributionId']) {
    t.match(DOC, new RegExp(`\\b${output}\\b`), `the guide names ${output}`)
    t.ok(tpl.Outputs[output], `the template has ${output}`)
  }
  const types = new Set(Object.values(tpl.Resources).map((r) => r.Type))
  for (const m of DOC.matchAll(/`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`/g)) t.ok(types.has(m[1] as string), `${m[1] as string} is in the template`)
  const anchors = new Set([...DOC.matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s/g, '-')))
  const links = [...DOC.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] as string)
  t.ok(links.length >= 9)
  for (const link of links) t.ok(anchors.has(link), `#${link} is a heading`)
})
