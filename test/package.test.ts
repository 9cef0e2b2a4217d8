// The built package, loaded the way users load it: require() and import, by its name, through the exports map.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '..')
const FIXTURES = join(__dirname, 'fixtures')
const vectors = JSON.parse(readFileSync(join(FIXTURES, 'aws-sdk-ruby.json'), 'utf8'))
const vector = vectors.cases.find((c: { id: string }) => c.id === 'canned-url-with-query')

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const rootExport = pkg.exports['.']
const builtFiles = [rootExport.require.default, rootExport.require.types, rootExport.import.default, rootExport.import.types] as string[]

// A clean environment: the child must load the compiled JavaScript, not the TypeScript sources through a loader.
const env = { ...process.env, KEY_FILE: join(FIXTURES, vectors.privateKeyFile) }
delete (env as Record<string, string | undefined>).NODE_OPTIONS

if (!builtFiles.every((f) => existsSync(join(ROOT, f)))) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit', env })
}

const EXPECTED_EXPORTS = [
  'fastifyCloudfrontCookies', 'createSigner', 'createVerifier',
  'FST_ERR_CF_INVALID_KEY', 'FST_ERR_CF_INVALID_OPTION', 'FST_ERR_CF_INVALID_TIME', 'FST_ERR_CF_INVALID_RESOURCE',
  'FST_ERR_CF_INVALID_IP', 'FST_ERR_CF_INVALID_POLICY', 'FST_ERR_CF_SIGN_FAILED'
]

// Each child prints the export names and types, a URL signed with the Ruby SDK's key, and an error's code.
const probe = (load: string) => `
${load}.then((m) => {
  const { readFileSync } = require('node:fs')
  const signer = m.createSigner({ keyPairId: ${JSON.stringify(vectors.keyPairId)}, privateKey: readFileSync(process.env.KEY_FILE, 'utf8'),
    now: () => ${(vector.input.dateLessThan - 3600) * 1000}, onWarning: () => {} })
  let code
  try { signer.signUrlSync('ftp://x/y', { expires: 1 }) } catch (err) { code = err.code }
  const exportsByType = Object.fromEntries(Object.keys(m).filter((k) => k !== 'default').map((k) => [k, typeof m[k]]))
  console.log(JSON.stringify({ exportsByType, signed: signer.signUrlSync(${JSON.stringify(vector.input.url)}, { expires: ${vector.input.dateLessThan} }), code }))
})`

function run (args: string[]): { exportsByType: Record<string, string>, signed: string, code: string } {
  const out = execFileSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop() as string)
}

t.test('the exports map points at built files, with types for each condition', async (t) => {
  for (const f of builtFiles) t.ok(existsSync(join(ROOT, f)), `${f} exists`)
  t.match(readFileSync(join(ROOT, rootExport.require.types), 'utf8'), /^export = fastifyCloudfrontCookies$/m, 'CommonJS types: require() is the plugin')
  t.equal(JSON.parse(readFileSync(join(ROOT, 'dist/cjs/package.json'), 'utf8')).type, 'commonjs', 'dist/cjs is marked CommonJS')
  t.equal(JSON.parse(readFileSync(join(ROOT, 'dist/esm/package.json'), 'utf8')).type, 'module', 'dist/esm is marked as ES modules')
})

const loaders: Array<[string, string[]]> = [
  ['require()', ['-e', probe(`Promise.resolve(require('${pkg.name}'))`)]],
  ['import', ['--input-type=module', '-e', `import { createRequire } from 'node:module'\nconst require = createRequire(process.cwd() + '/')\n${probe(`import('${pkg.name}')`)}`]]
]

const seen: Record<string, string[]> = {}
for (const [how, args] of loaders) {
  t.test(`the built package loads with ${how}`, async (t) => {
    const result = run(args)
    for (const name of EXPECTED_EXPORTS) t.equal(result.exportsByType[name], 'function', `exports ${name}`)
    t.equal(result.signed, vector.expected.signedUrl, 'signs the Ruby SDK vector byte for byte')
    t.equal(result.code, 'FST_ERR_CF_INVALID_RESOURCE', 'raises coded errors')
    seen[how] = Object.keys(result.exportsByType).sort()
  })
}

t.test('require() and import expose the same names', async (t) => {
  t.ok(seen['require()'] && seen.import, 'both loaded')
  t.strictSame(seen.import, seen['require()'])
})

t.test('package.json is reachable through the exports map', async (t) => {
  const out = execFileSync(process.execPath, ['-p', `require('${pkg.name}/package.json').name`], { cwd: ROOT, env, encoding: 'utf8' })
  t.equal(out.trim(), 'fastify-cloudfront-cookies')
})
