// What `npm pack` would publish: the licence, and source maps that resolve inside the tarball.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'

const ROOT = join(__dirname, '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))

if (!existsSync(join(ROOT, 'dist', 'cjs', 'index.js'))) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' })
}

// npm_execpath is npm itself when the tests run under `npm test`; otherwise the npm on PATH.
const npmCli = process.env.npm_execpath
const listing = npmCli !== undefined && /npm-cli\.js$/.test(npmCli)
  ? execFileSync(process.execPath, [npmCli, 'pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
  : execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
const files = new Set((JSON.parse(listing)[0].files as Array<{ path: string }>).map((f) => f.path))

t.test('the tarball carries the licence package.json names', async (t) => {
  t.ok(files.has('LICENSE'), 'LICENSE is packed')
  const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
  t.equal(pkg.license, 'MIT')
  t.match(text, /^MIT License\n\nCopyright \(c\) \d{4} /, 'it is the MIT licence')
  t.match(text, /THE SOFTWARE IS PROVIDED "AS IS"/)
})

t.test('every source map in the tarball resolves inside it', async (t) => {
  const maps = [...files].filter((f) => f.endsWith('.map'))
  const mapped = [...files].filter((f) => /\.(js|d\.ts)$/.test(f) && f.startsWith('dist/'))
  t.ok(maps.length > 50, `${maps.length} maps`)
  t.ok(mapped.length > 50, `${mapped.length} built files`)
  const missing: string[] = []
  for (const file of mapped) {
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, file), 'utf8'))?.[1]
    if (ref === undefined) continue
    const target = normalize(join(dirname(file), ref))
    if (!files.has(target)) missing.push(`${file} -> ${target}`)
  }
  for (const map of maps) {
    const { sources, sourceRoot, sourcesContent } = JSON.parse(readFileSync(join(ROOT, map), 'utf8'))
    ;(sources as string[]).forEach((source, i) => {
      if (typeof sourcesContent?.[i] === 'string') return
      const target = normalize(join(dirname(map), sourceRoot ?? '', source))
      if (!files.has(target)) missing.push(`${map} -> ${target}`)
    })
  }
  t.same(missing, [], 'no map, and no source a map names, is missing from the tarball')
})

t.test('nothing from the work tree but the package itself', async (t) => {
  const tops = new Set([...files].map((f) => f.split('/')[0]))
  t.same([...tops].sort(), ['LICENSE', 'README.md', 'dist', 'package.json', 'src'])
})
