// The built package's types as users' TypeScript projects resolve them, one project per module
// resolution mode: node10 ("module": "commonjs", where /express and /edge need typesVersions),
// node16 and nodenext (CommonJS and ES module files), and bundler. Each project is compiled with
// the real tsc against the package installed by its name (a link to this folder).
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '..', '..')
const FIXTURES = join(__dirname, 'fixtures')
const tsc = require.resolve('typescript/bin/tsc')
const run = promisify(execFile)
// Five runs of tsc: on a busy machine they outlast the suite's default timeout per file.
t.setTimeout(600_000)

if (!existsSync(join(ROOT, 'dist/cjs/index.d.ts')) || !existsSync(join(ROOT, 'dist/esm/index.d.ts'))) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' })
}

const base = { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], esModuleInterop: true, target: 'ES2022' }
const modes: Array<{ name: string, compilerOptions: Record<string, unknown>, files: Record<string, string>, type?: 'module' | 'commonjs' }> = [
  { name: 'node10', compilerOptions: { module: 'commonjs', moduleResolution: 'node10' }, files: { 'require-forms.ts': 'require-forms.ts' } },
  { name: 'node16', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, files: { 'require-forms.cts': 'require-forms.ts', 'import-forms.mts': 'import-forms.ts' } },
  { name: 'nodenext', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' }, files: { 'require-forms.cts': 'require-forms.ts', 'import-forms.mts': 'import-forms.ts' } },
  { name: 'bundler', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, files: { 'import-forms.ts': 'import-forms.ts' }, type: 'module' }
]

const work = mkdtempSync(join(tmpdir(), 'cf-types-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
// The package by its name, and what the fixtures import besides it, as an app's node_modules holds them.
const modules = join(work, 'node_modules')
mkdirSync(join(modules, '@types'), { recursive: true })
symlinkSync(ROOT, join(modules, 'fastify-cloudfront-cookies'))
for (const dep of ['fastify', 'express']) symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep))
for (const dep of ['node', 'express']) symlinkSync(join(ROOT, 'node_modules/@types', dep), join(modules, '@types', dep))

t.jobs = 2
for (const mode of modes) {
  t.test(`types resolve and type-check with moduleResolution ${mode.name}`, async (t) => {
    const dir = join(work, mode.name)
    mkdirSync(dir)
    for (const [to, from] of Object.entries(mode.files)) copyFileSync(join(FIXTURES, from), join(dir, to))
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `fixture-${mode.name}`, private: true, type: mode.type ?? 'commonjs' }))
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, ...mode.compilerOptions }, include: ['*.ts', '*.cts', '*.mts'] }))
    let out = ''
    try {
      // Asynchronous, so the modes compile side by side: each full check takes seconds of CPU.
      await run(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err).split('\n').filter((l) => /error TS/.test(l)).join('\n')
    }
    t.equal(out, '', `tsc ${mode.name}: no errors`)
  })
}

t.test('a fixture that misuses the package fails to compile (the check can fail)', async (t) => {
  const dir = join(work, 'broken')
  mkdirSync(dir)
  writeFileSync(join(dir, 'main.ts'), "import plugin = require('fastify-cloudfront-cookies')\nexport const n: number = plugin\n")
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture-broken', private: true }))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node10' }, include: ['*.ts'] }))
  t.throws(() => execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' }), 'tsc reports the error')
})
