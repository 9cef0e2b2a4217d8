// fastify-cloudfront-cookies/client as a package consumer resolves it: through the exports map, an ES module
// with its types, whose files import nothing but each other (a browser loads them as they are).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

const ROOT = join(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const entry = pkg.exports['./client'] as { types: string, default: string }

t.test('the ./client entry of the exports map: an ES module with types', async (t) => {
  t.same(Object.keys(entry), ['types', 'default'], 'types first, then the module (no require condition: browsers only)')
  if (!existsSync(join(ROOT, entry.default))) {
    t.fail(`${entry.default} is missing: run \`npm run build\` first`)
    return
  }
  t.ok(existsSync(join(ROOT, entry.types)), `${entry.types} exists`)
  t.match(readFileSync(join(ROOT, entry.types), 'utf8'), /export declare function keepGrantAlive\(options: KeepGrantAliveOptions\): GrantKeepAlive/)
  const dir = dirname(join(ROOT, entry.default))
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(dir, file), 'utf8')
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string)
    t.ok(specifiers.every((s) => /^\.\/[a-z]+\.js$/.test(s)), `${file} imports only its siblings (${specifiers.join(', ') || 'nothing'})`)
    t.notMatch(text, /\brequire\(|process\.|node:/, `${file} uses no Node API`)
    t.notMatch(text, /sourceMappingURL/, `${file} points at no source map`)
  }
  // Not measured: the browser module is covered in Chromium, and a child's coverage would count it untested here.
  const env: NodeJS.ProcessEnv = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  delete env.NODE_OPTIONS
  const names = execFileSync(process.execPath, ['--input-type=module', '-e',
    `import('${pkg.name}/client').then((m) => console.log(JSON.stringify(Object.keys(m))))`], { cwd: ROOT, env, encoding: 'utf8' })
  t.same(JSON.parse(names), ['keepGrantAlive'], 'import by name gives keepGrantAlive, and nothing else')
})
