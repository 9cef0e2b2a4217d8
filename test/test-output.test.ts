// `npm test`'s output in a log (scripts/tap.mjs): tap's reporter redraws its running counts on a terminal;
// written to a file or a pipe, the output keeps each failure once, in full, the counts once, and ends on a
// plain line that says how many assertions passed and failed. The exit code is tap's.
import t from 'tap'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '..')
// What a terminal is told to erase a line: tap's redraws.
const ERASE = '\x1b[2K'

// tap clears .tap/coverage and .tap/processinfo in its project's folder when it starts, which would wipe the
// coverage of the run this test is part of: the runs below are in a folder of their own, with the project's
// .taprc (its reporter, plugins and thresholds; not its node-args, which load the project's TypeScript
// set-up, unneeded by the fixtures, plain JavaScript) and the project's node_modules.
const dir = mkdtempSync(join(tmpdir(), 'cf-tap-output-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, '.taprc'), readFileSync(join(ROOT, '.taprc'), 'utf8').replace(/^node-arg:\n(?: {2}.*\n)*/m, ''))
symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
const FIXTURES = join(__dirname, 'fixtures', 'tap-output')
for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(dir, file))

// A fresh tap, as `npm test` starts it: none of the variables this test's own tap passes to its processes.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env)
  .filter(([name]) => !/^(_?TAP|NODE_OPTIONS$|CI$|CONTINUOUS_INTEGRATION$|CI_)/i.test(name)))

/** Runs a command in that folder with stdout and stderr piped (no terminal), and collects them. */
function run (command: string[]): Promise<{ code: number | null, output: string, lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output, lines: output.trimEnd().split('\n') }))
  })
}

const tapMjs = (file: string, ...options: string[]): Promise<{ code: number | null, output: string, lines: string[] }> =>
  run([join(ROOT, 'scripts', 'tap.mjs'), file, ...options])

t.test('a failing run: the failure in full, the counts once, then "1 passed, 1 failed"; exit code 1', async (t) => {
  const { code, output, lines } = await tapMjs('failing.mjs', '--disable-coverage')
  t.equal(code, 1, 'tap\'s exit code')
  t.equal(lines.at(-1), '1 passed, 1 failed', 'the last line')
  t.match(output, /arithmetic > two and two make five/, 'the failed assertion, by name')
  t.match(output, /--- expected\n\s*\+\+\+ actual[\s\S]*-5\n\s*\+4/, 'with its difference')
  t.notMatch(output, /^\s*ok \d/m, 'passes only counted, not listed')
  t.equal(output.split('Asserts:').length - 1, 1, 'the counts, once')
  t.notOk(output.includes('\x1b'), 'no terminal escapes')
})

t.test('a passing run ends on "2 passed, 0 failed"; exit code 0', async (t) => {
  const { code, output, lines } = await tapMjs('passing.mjs', '--disable-coverage')
  t.equal(code, 0)
  t.equal(lines.at(-1), '2 passed, 0 failed')
  t.equal(output.split('Asserts:').length - 1, 1, 'the counts, once')
  t.notOk(output.includes('\x1b'), 'no terminal escapes')
})

t.test('a run that fails with no failed assertion (coverage below the thresholds) says so on its last line', async (t) => {
  // With coverage on, a test that loads no other file covers nothing, and .taprc's thresholds fail the run.
  const { code, lines } = await tapMjs('passing.mjs')
  t.equal(code, 1)
  t.equal(lines.at(-1), '2 passed, 0 failed (tap exited with code 1: see above)')
})

t.test('the neighbouring case: tap itself, written to a pipe, redraws its counts again and again', async (t) => {
  const tapDir = join(ROOT, 'node_modules', 'tap')
  const tap = join(tapDir, JSON.parse(readFileSync(join(tapDir, 'package.json'), 'utf8')).bin.tap)
  const { code, output } = await run([tap, 'passing.mjs', '--disable-coverage'])
  t.equal(code, 0)
  t.ok(output.includes(ERASE), 'lines erased and written again')
  t.ok(output.split('Asserts:').length - 1 > 1, 'the counts, many times')
})

t.test('npm test and npm run test:unit run tap through scripts/tap.mjs', async (t) => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.match(scripts.test, /&& CF_TEST_DIST=1 node scripts\/tap\.mjs$/)
  t.equal(scripts['test:unit'], 'node scripts/tap.mjs')
})
