// Builds the package twice from one source: CommonJS in dist/cjs, ES modules in dist/esm,
// each folder marked with its own package.json so Node reads the format right; then the browser
// module (src/client) into dist/esm/client.
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
// The browser module: ES module only, built with the DOM's types (the rest of the package has Node's).
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.client.json'], { stdio: 'inherit' })
if (existsSync('dist/cjs/cli/bin.js')) chmodSync('dist/cjs/cli/bin.js', 0o755)
