// The example's cookie-less page in a real browser: Debian's Chromium plays the course through the
// app's playlist mirror with hls.js, withCredentials off, and never holds a CloudFront cookie.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Response } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'
const ROOT = resolve(__dirname, '..', '..')

/** Starts the example as `npm run example` does, on free ports, in its own process (as browser.test.ts explains). */
function startExample (keysDir: string): Promise<{ appUrl: string, edgeUrl: string, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'example', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', EDGE_PORT: '0', KEYS_DIR: keysDir, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
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
    const timer = setTimeout(() => { stop().finally(() => reject(new Error(`the example did not start in 60 s:\n${output}`))) }, 60_000)
    const failed = (code: number | null): void => { clearTimeout(timer); reject(new Error(`the example exited (${code}):\n${output}`)) }
    child.once('exit', failed)
    child.stdout.on('data', () => {
      const app = /^Open (http:\/\/localhost:\d+)\n/.exec(output)
      const edge = /^ {2}edge {2}(http:\/\/localhost:\d+) /m.exec(output)
      if (app === null || edge === null || !output.includes('Press Ctrl+C')) return
      clearTimeout(timer)
      child.off('exit', failed)
      resolve({ appUrl: app[1] as string, edgeUrl: edge[1] as string, stop })
    })
  })
}

if (!existsSync(CHROMIUM)) {
  t.fail(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`)
} else {
  t.test('the cookie-less player in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-cookieless-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-cookieless-chromium-'))
    // One teardown, in order: the browser, then the example, then their folders.
    const closing: Array<() => Promise<void>> = []
    t.teardown(async () => {
      for (const close of closing.reverse()) await close()
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
      rmSync(keysDir, { recursive: true, force: true })
    })
    const { appUrl, edgeUrl, stop } = await startExample(keysDir)
    closing.push(stop)
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000
    })
    closing.push(() => context.close())
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(30_000)
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const edgeRequests: Array<{ url: string, status: number, cookie: string | undefined }> = []
    const playlists: Response[] = []
    page.on('response', (response) => {
      const url = response.url()
      if (url.startsWith(edgeUrl + '/')) edgeRequests.push({ url, status: response.status(), cookie: response.request().headers().cookie })
      if (url.startsWith(`${appUrl}/hls/`)) playlists.push(response)
    })

    await page.goto(appUrl)
    await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
    await page.goto(`${appUrl}/courses/hls-basics/cookieless`)
    await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
    const position = await page.evaluate('document.getElementById("video").currentTime') as number
    await page.waitForFunction(`document.getElementById("video").currentTime > ${position + 0.5}`)
    t.pass(`currentTime advances (${position.toFixed(1)} s, then more)`)

    t.ok(playlists.length >= 1 && playlists.every((r) => r.status() === 200), 'the playlist came from the app\'s mirror')
    t.equal(await playlists[0]?.headerValue('content-type'), 'application/vnd.apple.mpegurl')
    const segments = edgeRequests.filter((r) => r.url.includes('.ts?'))
    t.ok(segments.length >= 1, `${segments.length} segments from the edge`)
    t.ok(segments.every((r) => r.status === 200 && /[?&]Policy=.+&Signature=.+&Key-Pair-Id=/.test(r.url)), 'each a signed URL answered 200')
    t.ok(edgeRequests.every((r) => r.cookie === undefined), 'the edge never received a cookie')
    const cloudfront = (await context.cookies()).filter((c) => c.name.startsWith('CloudFront-'))
    t.same(cloudfront, [], 'no CloudFront cookie in the browser')

    const other = await page.evaluate('fetch("/hls/courses/edge-caching/index.m3u8").then((r) => r.status)')
    t.equal(other, 403, "Bob's course: no playlist for Alice")
    t.same(pageErrors, [], 'no script errors')
  })
}
