// Records HAR files with Debian's Chromium (playwright-core's recordHar) from the example, started
// as `npm run example` starts it (example/main.ts, free ports, its own process, coverage off, as in
// test/example/browser.test.ts). Each scenario gets a fresh browser context, so a fresh cookie jar.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const ROOT = resolve(__dirname, '..', '..')

export interface RunningExample {
  appUrl: string
  edgeUrl: string
  keyPairId: string
  stop: () => Promise<void>
}

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
      resolve({ appUrl: app[1] as string, edgeUrl: edge[1] as string, keyPairId: key[1] as string, stop })
    })
  })
}

export function launch (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60_000
  })
}

/** Runs a scenario in a fresh context that records every request, bodies included, into `path`. */
export async function recordHar (browser: Browser, path: string, scenario: (context: BrowserContext, page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ recordHar: { path, content: 'embed' } })
  try {
    const page = await context.newPage()
    page.setDefaultTimeout(30_000)
    await scenario(context, page)
  } finally {
    // The HAR is written when the context closes.
    await context.close()
  }
}

export async function signIn (page: Page, appUrl: string): Promise<void> {
  await page.goto(appUrl)
  await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
}

export async function openOwnedCourse (page: Page, appUrl: string): Promise<void> {
  await Promise.all([page.waitForURL(`${appUrl}/courses/hls-basics`), page.click('a[href="/courses/hls-basics"]')])
}
