// Builds the package twice from one source: CommonJS in dist/cjs, ES modules in dist/esm,
// each folder marked with its own package.json so Node reads the format right.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')

rmSync('dist', { recursive: true, force: true })
for (const [project, type] of [['tsconfig.json', 'commonjs'], ['tsconfig.esm.json', 'module']]) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' })
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs'
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n')
}
if (existsSync('dist/cjs/cli/bin.js')) chmodSync('dist/cjs/cli/bin.js', 0o755)
