// The example, started as `npm run example` starts it, for the browser tests and the HAR recordings.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

const ROOT = resolve(__dirname, '..', '..')

export interface RunningExample {
  appUrl: string
  edgeUrl: string
  keyPairId: string
  /** Everything it printed so far. */
  output: () => string
  stop: () => Promise<void>
}

/**
 * Starts the example as `npm run example` does (example/main.ts, which calls startExample), on
 * free ports, and waits for its startup lines. It runs in its own process, with tap's coverage
 * off: it runs the built package (dist/), whose source maps point at src/, and that coverage would
 * replace, not add to, the unit tests' coverage of the same files.
 */
export function startExample (env: Record<string, string>): Promise<RunningExample> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'example', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    const failed = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`the example exited (${code}) before it started:\n${output}`))
    }
    const timer = setTimeout(() => {
      child.off('exit', failed)
      stop().finally(() => reject(new Error(`the example did not start in 60 s:\n${output}`)))
    }, 60_000)
    child.once('exit', failed)
    child.stdout.on('data', function started () {
      const app = /^Open (http:\/\/localhost:\d+)\n/.exec(output)
      const edge = /^ {2}edge {2}(http:\/\/localhost:\d+) /m.exec(output)
      const key = /^ {2}key {3}(\S+) /m.exec(output)
      if (app === null || edge === null || key === null || !output.includes('Press Ctrl+C')) return
      clearTimeout(timer)
      child.off('exit', failed)
      child.stdout.off('data', started)
      resolve({ appUrl: app[1] as string, edgeUrl: edge[1] as string, keyPairId: key[1] as string, output: () => output, stop })
    })
  })
}
