// The example in a real browser: Debian's Chromium, driven by playwright-core (which never
// downloads a browser), plays a course through the local edge with the plugin's signed cookies.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Page, type Response } from 'playwright-core'
import { findBrowser } from '../helpers/browser.js'

const browser = findBrowser()
// Short enough that playback outlives the first grant: the stream lasts 16 s.
const TTL = 6
const ROOT = resolve(__dirname, '..', '..')
// The README's picture is rewritten only on request (UPDATE_SCREENSHOT=1), so a test run leaves the
// work tree clean; every run saves its own to test/.tmp/ (ignored by git).
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? join(ROOT, 'docs', 'screenshot.png')
  : join(ROOT, 'test', '.tmp', 'screenshot.png')
const OWNED = '/courses/hls-basics/'
const OTHER = '/courses/edge-caching/'

interface EdgeHit {
  path: string
  status: number
  /** When the browser sent the request (epoch ms, the same clock as the app and the edge). */
  sentAt: number
}

/** Polls a condition (events recorded by listeners) until it holds; fails with `what` after `timeout` ms. */
async function until (what: string, condition: () => boolean | Promise<boolean>, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

interface RunningExample {
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
function startExample (env: Record<string, string>): Promise<RunningExample> {
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

function currentTime (page: Page): Promise<number> {
  return page.evaluate('document.getElementById("video").currentTime') as Promise<number>
}

if (browser.path === undefined) {
  t.fail(browser.message)
} else {
  t.test('the example course player in Chromium', async (t) => {
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-example-keys-'))
    const userDataDir = mkdtempSync(join(tmpdir(), 'cf-example-chromium-'))
    t.teardown(() => {
      rmSync(userDataDir, { recursive: true, force: true })
      rmSync(keysDir, { recursive: true, force: true })
    })

    // The first run creates the development key pair with the CLI, as `npm run example` does.
    const example = await startExample({ PORT: '0', EDGE_PORT: '0', TTL: String(TTL), KEYS_DIR: keysDir })
    t.teardown(() => example.stop())
    const { appUrl, edgeUrl } = example
    t.match(example.output(), /^Open http:\/\/localhost:\d+\n/, 'the startup output begins with the page to open')
    t.match(example.output(), /\(just created\)/, 'it says it created the key pair')
    t.ok(['private.pem', 'public.pem', 'key-id'].every((f) => existsSync(join(keysDir, f))), 'in the keys folder')
    t.match(example.keyPairId, /^K[A-Z2-7]{13}$/, 'with the key ID printed by cloudfront-cookies keygen')

    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'
      ],
      viewport: { width: 900, height: 760 },
      timeout: 60_000
    })
    t.teardown(() => context.close())
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(30_000)

    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    const edgeHits: EdgeHit[] = []
    const grantsSeen: number[] = []
    page.on('response', (response: Response) => {
      const url = response.url()
      if (url.startsWith(edgeUrl + '/')) {
        edgeHits.push({ path: new URL(url).pathname, status: response.status(), sentAt: response.request().timing().startTime })
      } else if (url.startsWith(appUrl + '/')) {
        const expires = response.headers()['cloudfront-grant-expires']
        if (expires !== undefined) grantsSeen.push(Number(expires))
      }
    })
    const hits = (prefix: string, status?: number): EdgeHit[] =>
      edgeHits.filter((h) => h.path.startsWith(prefix) && (status === undefined || h.status === status))
    const segments = (prefix: string, status?: number): EdgeHit[] => hits(prefix, status).filter((h) => h.path.endsWith('.ts'))

    let firstExpires = 0

    await t.test('sign in, open the owned course: the playlist and segments load with 200 and the video plays', async (t) => {
      await page.goto(appUrl)
      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('button[value="alice"]')])
      t.match(await page.textContent('header'), /Signed in as Alice/)

      const [coursePage] = await Promise.all([
        page.waitForResponse(`${appUrl}/courses/hls-basics`),
        page.click('a[href="/courses/hls-basics"]')
      ])
      t.equal(coursePage.status(), 200)
      firstExpires = Number(await coursePage.headerValue('cloudfront-grant-expires'))
      const now = Date.now() / 1000
      t.ok(firstExpires > now && firstExpires <= now + TTL + 1, `the page response announces the grant's end (${firstExpires})`)
      const cookies = (await context.cookies(`${edgeUrl}${OWNED}`)).filter((c) => c.name.startsWith('CloudFront-'))
      t.same(cookies.map((c) => c.name).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature'])
      for (const c of cookies) {
        t.match(c, { path: OWNED, httpOnly: true, secure: true, sameSite: 'Lax' }, `${c.name}: Path is the course folder, HttpOnly, Secure, Lax`)
      }

      await page.waitForFunction('document.getElementById("video").currentTime > 1', null, { timeout: 30_000 })
      t.ok(hits(`${OWNED}index.m3u8`, 200).length >= 1, 'the playlist answered 200 at the edge')
      t.ok(segments(OWNED, 200).length >= 1, 'segments answered 200 at the edge')
      t.same(hits(OWNED).filter((h) => h.status !== 200 && h.status !== 304), [], 'nothing else answered for the course')
      t.equal(await page.evaluate('document.getElementById("video").paused'), false, 'the video is playing')
    })

    await t.test('with a short ttl, playback continues past the first expiry: progress reports renew the grant', async (t) => {
      const expiredAt = firstExpires * 1000
      // A segment the browser asked for after the first grant had ended, answered 200: only a renewed set opens it.
      await until('a segment requested after the first grant expired', () => segments(OWNED, 200).some((h) => h.sentAt > expiredAt + 250), 45_000)
      const late = segments(OWNED).filter((h) => h.sentAt > expiredAt + 250)
      t.ok(late.length >= 1 && late.every((h) => h.status === 200), `segments requested after the first expiry answered 200 (${late.map((h) => h.path.split('/').pop()).join(', ')})`)
      t.ok(grantsSeen.some((e) => e > firstExpires), 'a progress report brought a renewed grant')
      t.same(hits(OWNED, 403), [], 'the edge never refused the course during playback')

      const position = await currentTime(page)
      await until('the video to keep playing', async () => (await currentTime(page)) > position + 0.5)
      t.pass(`the video plays on (at ${position.toFixed(1)} s)`)
      t.notMatch(await page.textContent('#renewals'), /^0$/, 'the page counts the renewals')

      mkdirSync(dirname(SCREENSHOT), { recursive: true })
      await page.screenshot({ path: SCREENSHOT })
      t.ok(statSync(SCREENSHOT).size > 10_000, `the screenshot is saved (${SCREENSHOT})`)
    })

    await t.test("the other user's course: the page opens, the edge answers 403 to its media", async (t) => {
      const [coursePage, playlist] = await Promise.all([
        page.waitForResponse(`${appUrl}/courses/edge-caching`),
        page.waitForResponse(`${edgeUrl}${OTHER}index.m3u8`),
        page.goto(`${appUrl}/courses/edge-caching`)
      ])
      t.equal(coursePage.status(), 200, 'the page itself opens')
      t.equal(await coursePage.headerValue('cloudfront-grant-expires'), null, 'but carries no grant')
      t.equal(playlist.status(), 403, 'the edge refuses the playlist')
      // Alice's cookies have her course's folder as their Path: the browser does not even send them here.
      t.match(await playlist.text(), /<Code>MissingKey<\/Code>/, "Alice's cookies are not sent for Bob's course")
      await page.waitForSelector('#player.refused')
      t.match(await page.textContent('#player'), /refused/, 'the player says so')

      const status = await page.evaluate(`fetch(${JSON.stringify(`${edgeUrl}${OTHER}segment-00.ts`)}, { credentials: 'include' }).then((r) => r.status)`)
      t.equal(status, 403, 'a segment of the other course answers 403')
    })

    await t.test('after sign-out, new segment requests answer 403', async (t) => {
      const segment = `${edgeUrl}${OWNED}segment-03.ts`
      const fetchStatus = `fetch(${JSON.stringify(segment)}, { credentials: 'include' }).then((r) => r.status)`
      t.equal(await page.evaluate(fetchStatus), 200, 'before sign-out, a segment of the owned course opens')

      await Promise.all([page.waitForURL(`${appUrl}/`), page.click('header button[type="submit"]')])
      t.match(await page.textContent('main'), /Sign in/, 'signed out')
      const left = (await context.cookies(`${edgeUrl}${OWNED}`)).filter((c) => c.name.startsWith('CloudFront-'))
      t.same(left, [], 'the course cookies were cleared')
      t.equal(await page.evaluate(fetchStatus), 403, 'the same segment now answers 403')
    })

    t.same(pageErrors, [], 'no script errors in the pages')
  })
}
