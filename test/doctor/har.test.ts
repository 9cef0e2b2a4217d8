// The doctor on HAR files recorded by Chromium itself from the example, fresh on every run: a
// committed recording would go stale as the example and Chromium change, and the point is that the
// doctor reads what Chromium writes today. Four sessions: healthy, opened at 127.0.0.1, after
// sign-out, across sites. The page's own explanation (example/public/why.js) is checked in each.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { diagnoseHar, type DoctorReport } from '../../src/api.js'
import { BROWSER, launch, openOwnedCourse, recordHar, signIn, startExample } from './record.js'

const ROOT = resolve(__dirname, '..', '..')

function codes (r: DoctorReport): string[] {
  return [...new Set(r.findings.map((f) => f.code))]
}

function har (path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'))
}

if (BROWSER.path === undefined) {
  t.fail(BROWSER.message)
} else {
  t.test('HAR files recorded by Chromium from the example', async (t) => {
    // The recordings stay in test/.tmp/doctor-har/ (ignored by git) after the run, to look at.
    const dir = join(ROOT, 'test', '.tmp', 'doctor-har')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-doctor-keys-'))
    t.teardown(() => rmSync(keysDir, { recursive: true, force: true }))
    // A grant long enough that no renewal happens while a scenario runs.
    const example = await startExample({ PORT: '0', EDGE_PORT: '0', TTL: '60', KEYS_DIR: keysDir })
    t.teardown(() => example.stop())
    const browser = await launch()
    t.teardown(() => browser.close())
    const { appUrl, edgeUrl } = example
    const loopbackApp = appUrl.replace('//localhost:', '//127.0.0.1:')
    const keys = { [example.keyPairId]: readFileSync(join(keysDir, 'public.pem')) }
    const playing = 'document.getElementById("video").currentTime > 1'

    await t.test('a healthy session: nothing refused, the last segment\'s cookies check out', async (t) => {
      const path = join(dir, 'healthy.har')
      await recordHar(browser, path, async (_context, page) => {
        await signIn(page, appUrl)
        await openOwnedCourse(page, appUrl)
        await page.waitForFunction(playing)
        t.equal(await page.isHidden('#why'), true, 'the page shows no explanation')
      })
      const withoutKey = diagnoseHar(har(path))
      t.equal(withoutKey.ok, true, 'no error')
      t.same(codes(withoutKey), ['SIGNATURE_NOT_CHECKED', 'NO_REFUSED_REQUEST'])
      const withKey = diagnoseHar(har(path), { keys })
      t.same(codes(withKey), ['NO_REFUSED_REQUEST'], 'with the key, the signature checks out too')
      t.match(withKey.findings[0]?.message, /CloudFront served \d+ requests in this HAR and refused none/)
    })

    await t.test('opened at 127.0.0.1: the cookies are host-only there and never reach localhost', async (t) => {
      const path = join(dir, 'loopback-ip.har')
      await recordHar(browser, path, async (_context, page) => {
        await signIn(page, loopbackApp)
        await openOwnedCourse(page, loopbackApp)
        await page.waitForSelector('#why:not([hidden])')
        const why = await page.textContent('#why')
        t.match(why, /You opened the app at 127\.0\.0\.1, and the media is served from localhost/, 'the page says why')
        t.equal(await page.getAttribute('#why a', 'href'), `${appUrl}/courses/hls-basics`, 'with a link to the page at localhost')
        await page.waitForSelector('#player.refused')
      })
      const r = diagnoseHar(har(path), { keys })
      t.equal(r.ok, false)
      t.same(codes(r), ['CORS_CREDENTIALS', 'COOKIE_NOT_SENT_HOST', 'MISSING_COOKIES'], 'no cookie for localhost exists, so SameSite is not a cause')
      // The edge does not let 127.0.0.1 read its answers: Chromium records the request without a response.
      t.match(r.findings[0]?.message, new RegExp(`withheld the answer to GET ${edgeUrl}/courses/hls-basics/index.m3u8 from the page at http://127\\.0\\.0\\.1:\\d+ \\(net::ERR_FAILED`))
      const host = r.findings.find((f) => f.code === 'COOKIE_NOT_SENT_HOST')
      t.match(host?.message, /^CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id \(set by http:\/\/127\.0\.0\.1:\d+, host-only for 127\.0\.0\.1, Path=\/courses\/hls-basics\/\): not sent to localhost/)
      t.match(host?.fix, /Open the app at the same host as the CDN \(localhost\), not 127\.0\.0\.1/)

      // The command line on the same file, as a user runs it.
      const cli = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'doctor', '--har', path, '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
      t.equal(cli.status, 1, 'the CLI exits 1')
      t.same(JSON.parse(cli.stdout).findings.map((f: { code: string }) => f.code), diagnoseHar(har(path)).findings.map((f) => f.code), 'and prints the same findings')
      const signature = /CloudFront-Signature=([^;\s]+)/.exec(readFileSync(path, 'utf8'))?.[1] as string
      t.ok(signature.length > 40, 'the HAR holds the signature')
      t.notOk(cli.stdout.includes(signature.slice(0, 24)), 'which the CLI never prints')
    })

    await t.test('after sign-out: the player\'s next request finds the cookies deleted', async (t) => {
      const path = join(dir, 'signed-out.har')
      await recordHar(browser, path, async (context, page) => {
        await signIn(page, appUrl)
        await openOwnedCourse(page, appUrl)
        await page.waitForFunction(playing)
        // Signing out in another tab, while the player keeps asking for segments.
        const other = await context.newPage()
        await other.goto(appUrl)
        await Promise.all([other.waitForURL(`${appUrl}/`), other.click('header button[type="submit"]')])
        await page.waitForSelector('#why:not([hidden])', { timeout: 30_000 })
        t.match(await page.textContent('#why'), /You are signed out/, 'the page says why')
      })
      const r = diagnoseHar(har(path), { keys })
      t.equal(r.ok, false)
      t.same(codes(r), ['CLOUDFRONT_MISSING_KEY', 'COOKIE_DELETED', 'MISSING_COOKIES'], 'the edge answered CORS for the app\'s origin: its 403 is in the HAR')
      t.match(r.findings[0]?.message, new RegExp(`CloudFront refused GET ${edgeUrl}/courses/hls-basics/segment-\\d+\\.ts with 403 MissingKey \\(the local edge says: no Key-Pair-Id was sent\\)`))
      t.match(r.findings.find((f) => f.code === 'COOKIE_DELETED')?.message, new RegExp(`deleted by the response of ${appUrl}/signout`))
    })

    await t.test('another user\'s course: the page says whose it is, the HAR that the cookies never covered it', async (t) => {
      const path = join(dir, 'not-yours.har')
      await recordHar(browser, path, async (_context, page) => {
        await signIn(page, appUrl)
        await openOwnedCourse(page, appUrl)
        await page.goto(`${appUrl}/courses/edge-caching`)
        await page.waitForSelector('#why:not([hidden])')
        t.match(await page.textContent('#why'), /This is Bob's course: the app grants its media only to its owner/, 'the page says why')
        // The player stops at the app's refusal, sometimes before it has asked the edge: the playlist is
        // asked for here as the player asks for it, so the HAR holds the edge's answer either way.
        await page.evaluate('fetch(document.getElementById("video").dataset.playlist, { credentials: "include" }).then((r) => r.text(), () => "")')
      })
      const r = diagnoseHar(har(path), { keys })
      t.same(codes(r), ['CLOUDFRONT_MISSING_KEY', 'COOKIE_NOT_SENT_PATH', 'MISSING_COOKIES'])
      t.match(r.findings[1]?.message, /Path=\/courses\/hls-basics\/\): not sent to \/courses\/edge-caching\/index\.m3u8/)
    })

    await t.test('across sites: cookies for localhost, a page at 127.0.0.1 asking for the media', async (t) => {
      const path = join(dir, 'cross-site.har')
      await recordHar(browser, path, async (_context, page) => {
        await signIn(page, appUrl)
        await openOwnedCourse(page, appUrl)
        await page.waitForFunction(playing)
        await signIn(page, loopbackApp)
        await openOwnedCourse(page, loopbackApp)
        await page.waitForSelector('#player.refused')
      })
      const r = diagnoseHar(har(path), { keys })
      t.same(codes(r), ['CORS_CREDENTIALS', 'COOKIE_SAMESITE_CROSS_SITE', 'COOKIE_NOT_SENT_HOST', 'MISSING_COOKIES'])
      const cross = r.findings.find((f) => f.code === 'COOKIE_SAMESITE_CROSS_SITE')
      t.match(cross?.message, /SameSite=Lax, and the request comes from another site \(http:\/\/127\.0\.0\.1, the media is on http:\/\/localhost\)/)
      t.match(r.findings.find((f) => f.code === 'COOKIE_NOT_SENT_HOST')?.message, /set by http:\/\/127\.0\.0\.1:\d+, host-only for 127\.0\.0\.1/, 'and those 127.0.0.1 got do not go to localhost')
    })
  })
}
