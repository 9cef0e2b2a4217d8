// Builds the package twice from one source: CommonJS in dist/cjs, ES modules in dist/esm,
// each folder marked with its own package.json so Node reads the format right.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const ts = require('typescript')

rmSync('dist', { recursive: true, force: true })
for (const [project, type] of [['tsconfig.json', 'commonjs'], ['tsconfig.esm.json', 'module']]) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' })
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs'
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n')
}
if (existsSync('dist/cjs/cli/bin.js')) chmodSync('dist/cjs/cli/bin.js', 0o755)

// The CommonJS entry's types. At run time require() returns the plugin itself, carrying every
// export of src/api.ts (see src/index.ts); its types say so the way @fastify/* plugins do: a
// function merged with a namespace that re-exports each name, all under `export =`.
const program = ts.createProgram(['dist/cjs/api.d.ts'], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true, types: [] })
const checker = program.getTypeChecker()
const lines = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile('dist/cjs/api.d.ts')))
  .filter((s) => s.name !== 'default')
  .sort((a, b) => (a.name < b.name ? -1 : 1))
  .map((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s
    if (target.flags & ts.SymbolFlags.Value) return `  export import ${s.name} = api.${s.name}`
    // A type-only export cannot be an import alias: it is restated with its type parameters.
    const params = target.declarations?.[0]?.typeParameters ?? []
    const list = params.length === 0 ? '' : `<${params.map((p) => p.getText()).join(', ')}>`
    const args = params.length === 0 ? '' : `<${params.map((p) => p.name.getText()).join(', ')}>`
    return `  export type ${s.name}${list} = api.${s.name}${args}`
  })
writeFileSync('dist/cjs/index.d.ts', `// Written by scripts/build.mjs: require('fastify-cloudfront-cookies') is the plugin, with every export of ./api.js on it.
import api = require('./api.js')
type Plugin = typeof api.fastifyCloudfrontCookies
declare function fastifyCloudfrontCookies (...params: Parameters<Plugin>): ReturnType<Plugin>
declare namespace fastifyCloudfrontCookies {
${lines.join('\n')}
  export { fastifyCloudfrontCookies as default }
}
export = fastifyCloudfrontCookies
`)
rmSync('dist/cjs/index.d.ts.map', { force: true })
