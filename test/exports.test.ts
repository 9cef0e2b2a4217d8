// The package root exports exactly what the README's API section lists: a name exported and not
// documented, or documented and not exported, fails here. Adding a public export is one line in
// the README's list and the export in src/api.ts.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The names a README list documents: the backticked names before each bullet's first ": ". */
export function documentedNames (readme: string, list: string): string[] {
  const start = readme.indexOf(`<!-- ${list}:start -->`)
  const end = readme.indexOf(`<!-- ${list}:end -->`)
  if (start === -1 || end < start) throw new Error(`README has no ${list} list`)
  const bullets = readme.slice(start, end).split('\n- ').slice(1).map((b) => b.replace(/\n\s+/g, ' '))
  return bullets.flatMap((b) => [...(b.split(': ')[0] as string).matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1] as string))
}

const values = documentedNames(README, 'public-values').sort()

// A clean environment: the child loads the built package by its name, not the sources through a loader.
const env = { ...process.env }
delete (env as Record<string, string | undefined>).NODE_OPTIONS
function node (args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' }).trim()
}

t.test('the README lists the values it documents', async (t) => {
  t.ok(values.includes('fastifyCloudfrontCookies') && values.includes('createSigner') && values.includes('FST_ERR_CF_INVALID_OPTION'), values.join(', '))
  t.equal(new Set(values).size, values.length, 'no name listed twice')
})

t.test('require() returns the plugin, carrying exactly the documented values', async (t) => {
  const out = JSON.parse(node(['-e', `const m = require('fastify-cloudfront-cookies')
    console.log(JSON.stringify({ type: typeof m, self: m.default === m && m.fastifyCloudfrontCookies === m, keys: Object.keys(m) }))`]))
  t.equal(out.type, 'function', 'the plugin function itself')
  t.ok(out.self, '.default and .fastifyCloudfrontCookies are the plugin')
  t.strictSame(out.keys.sort(), values)
})

t.test('import gives exactly the documented values, default and named', async (t) => {
  const out = JSON.parse(node(['--input-type=module', '-e', `import plugin, * as ns from 'fastify-cloudfront-cookies'
    console.log(JSON.stringify({ type: typeof plugin, same: ns.fastifyCloudfrontCookies === plugin, keys: Object.keys(ns) }))`]))
  t.equal(out.type, 'function')
  t.ok(out.same, 'the named export is the default export')
  t.strictSame(out.keys.sort(), values)
})

t.test('the types the package root exports are exactly the documented ones', async (t) => {
  const ts = require('typescript') as typeof import('typescript')
  const file = join(ROOT, 'dist/cjs/api.d.ts')
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true, types: [] })
  const checker = program.getTypeChecker()
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!)
  const typeOnly = exported.filter((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s
    return (target.flags & ts.SymbolFlags.Value) === 0
  }).map((s) => s.name).sort()
  t.strictSame(typeOnly, documentedNames(README, 'public-types').sort())
})
