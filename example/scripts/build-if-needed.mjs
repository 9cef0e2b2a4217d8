// Builds the package (dist/) unless it is there and newer than every source file: the example
// imports the package by its name, as an app would, which Node resolves to dist/.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const outputs = ['dist/cjs/index.js', 'dist/cjs/edge/index.js', 'dist/cjs/cli/bin.js', 'dist/esm/index.js'].map((f) => join(root, f))

function newest (dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

const built = outputs.every((f) => existsSync(f)) && Math.min(...outputs.map((f) => statSync(f).mtimeMs)) >= newest(join(root, 'src'))
if (!built) {
  console.log('Building the package (npm run build)...')
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
}
