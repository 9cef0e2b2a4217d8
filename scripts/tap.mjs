// Runs tap (with .taprc, and the arguments given) for `npm test`, and exits with its exit code.
//
// On a terminal, tap is left alone: its reporter redraws its running counts in place. Anywhere else (a file,
// a pipe, a CI log) those redraws would all be kept, tens of kilobytes of them, so tap runs as it does under
// CI (CI=1: the reporter, built on ink, then prints each failure once, in full, and its counts once, at the
// end), and a plain last line follows: `N passed, N failed`, the assertions tap counted.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const tapDir = dirname(require.resolve('tap/package.json'))
const tap = join(tapDir, JSON.parse(readFileSync(join(tapDir, 'package.json'), 'utf8')).bin.tap)
const args = process.argv.slice(2)

const isTerminal = process.stdout.isTTY === true
const ciSet = process.env.CI !== undefined && process.env.CI !== '0' && process.env.CI !== 'false'
const env = isTerminal || ciSet ? process.env : { ...process.env, CI: '1' }

const child = spawn(process.execPath, [tap, ...args], { env, stdio: ['inherit', isTerminal ? 'inherit' : 'pipe', 'inherit'] })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))

// The root test's last comment: `# { total: 335, pass: 334, fail: 1 }` (fail, todo and skip when not 0).
const COUNTS = /^# \{ (total: \d+(?:, \w+: \d+)*) \}$/
let counts = null
let partial = ''
if (!isTerminal) {
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    // What tap writes to show the cursor again when it ends, a terminal's concern.
    process.stdout.write(chunk.replaceAll('\x1b[?25h', ''))
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()
    for (const line of lines) {
      const found = COUNTS.exec(line.trim())
      if (found) counts = Object.fromEntries(found[1].split(', ').map((pair) => pair.split(': ')).map(([k, v]) => [k, Number(v)]))
    }
  })
}

child.on('close', (code, signal) => {
  const status = code ?? 128 + (constants.signals[signal] ?? 0)
  if (!isTerminal) {
    let summary = counts === null
      ? 'tap printed no counts'
      : [`${counts.pass ?? 0} passed`, `${counts.fail ?? 0} failed`, ...['skip', 'todo'].filter((k) => counts[k]).map((k) => `${counts[k]} ${k === 'skip' ? 'skipped' : k}`)].join(', ')
    // Failing without a failed assertion: a coverage threshold missed, or a test process that ended badly.
    if (status !== 0 && !(counts?.fail > 0)) summary += ` (tap exited with ${signal ?? `code ${code}`}: see above)`
    process.stdout.write(`${summary}\n`)
  }
  process.exitCode = status
})
