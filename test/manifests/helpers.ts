// Static signed manifests end to end: media made by ffmpeg at test time, templated by the publish-time
// transform, served by the local edge alone; the app's part is one signed manifest URL, made here from
// the signer. Players run in one Chromium per test file, with no cookies.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { KeyObject } from 'node:crypto'
import { createEdgeServer } from '../../src/edge/index.js'
import { createSigner } from '../../src/core/signer.js'
import { readManifestTemplates, signedManifestUrl, templateManifests } from '../../src/core/manifests/index.js'
import { findBrowser } from '../helpers/browser.js'
import { listen } from '../edge/helpers.js'
import { FFMPEG, makeCourse } from '../helpers/media.js'

export const KEY_ID = 'K2JCJMDEHXQW5F'
/** The page's origin: loopback, as the edge is, served by the browser's request routing. */
export const PAGE = 'http://127.0.0.1:9'

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10']
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050']
const CODECS = ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '10', '-keyint_min', '10', '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '32k', '-ac', '1']

function ffmpeg (cwd: string, args: string[]): void {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

export interface StaticCourse {
  /** Multivariant fMP4 (EXT-X-MAP) with an EXT-X-MEDIA audio rendition. */
  alt: string
  /** TS segments encrypted with AES-128 (EXT-X-KEY). */
  aes: string
  /** DASH, SegmentTemplate with a timeline, video and audio adaptation sets. */
  dash: string
}

/**
 * Makes course `id` under `<root>/source`, templates it into `<root>/published` for `keyPairId`;
 * returns the CDN paths of its manifests.
 */
export async function makeStaticCourse (root: string, id: string, keyPairId = KEY_ID): Promise<StaticCourse> {
  const source = join(root, 'source')
  const dir = join(source, 'courses', id)
  makeCourse(source, id)
  mkdirSync(join(dir, 'dash'), { recursive: true })
  const t = ['-t', '4']
  ffmpeg(dir, [...VIDEO, ...AUDIO, ...t, '-map', '0:v', '-map', '1:a', ...CODECS, '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
    '-hls_segment_type', 'fmp4', '-var_stream_map', 'v:0,agroup:aud a:0,agroup:aud,default:yes,language:en,name:audio', '-master_pl_name', 'master.m3u8',
    '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', 'alt/%v/seg-%03d.m4s', 'alt/%v/index.m3u8'])
  ffmpeg(join(dir, 'dash'), [...VIDEO, ...AUDIO, ...t, '-map', '0:v', '-map', '1:a', ...CODECS, '-f', 'dash', '-seg_duration', '1', '-use_template', '1', '-use_timeline', '1',
    '-avoid_negative_ts', 'make_zero', 'manifest.mpd'])
  await templateManifests(dir, join(root, 'published', 'courses', id), { keyPairId })
  return { alt: `/courses/${id}/alt/master.m3u8`, aes: `/courses/${id}/aes/index.m3u8`, dash: `/courses/${id}/dash/manifest.mpd` }
}

/** The edge in front of the published folder, trusting `keys`, reachable from the page. */
export async function startEdge (root: string, keys: Record<string, KeyObject>, t: { teardown: (fn: () => unknown) => void }): Promise<{ url: string, denials: Array<{ url: string, code: string }> }> {
  const denials: Array<{ url: string, code: string }> = []
  const edge = await createEdgeServer({
    keys,
    origin: { root: join(root, 'published') },
    cors: { origins: [PAGE] },
    onDeny: (request, denial) => { denials.push({ url: request.url, code: denial.code }) }
  })
  const port = await listen(edge)
  t.teardown(() => edge.close())
  return { url: `http://127.0.0.1:${port}`, denials }
}

/** A user's grant for the course's prefix, as the app holds it (the grant result's prefix and signedQuery). */
export async function grantFor (privateKey: KeyObject, edgeUrl: string, prefix: string, options: { expiresIn?: number, keyPairId?: string, now?: () => number, hashAlgorithm?: 'SHA1' | 'SHA256' } = {}): Promise<{ prefix: string, signedQuery: () => string }> {
  const keyPairId = options.keyPairId ?? KEY_ID
  const signer = createSigner({ keyPairId, privateKey, hashAlgorithm: options.hashAlgorithm ?? 'SHA1', ...(options.now ? { now: options.now } : {}) })
  const cookies = await signer.signCookies(`${edgeUrl}${prefix}*`, { expiresIn: options.expiresIn ?? 600 })
  const query = `Policy=${cookies['CloudFront-Policy'] as string}&Signature=${cookies['CloudFront-Signature']}&Key-Pair-Id=${keyPairId}` +
    (cookies['CloudFront-Hash-Algorithm'] === undefined ? '' : `&Hash-Algorithm=${cookies['CloudFront-Hash-Algorithm']}`)
  return { prefix, signedQuery: () => query }
}

/** The signed URL of a published manifest, as the app makes it. */
export function manifestUrl (root: string, grant: { prefix: string, signedQuery: () => string }, edgeUrl: string, path: string): string {
  const id = path.split('/')[2] as string
  return signedManifestUrl(grant, path, { distribution: edgeUrl, templates: readManifestTemplates(join(root, 'published', 'courses', id)) })
}

const MODULES = resolve(__dirname, '..', '..', 'node_modules')

export const PLAYERS = {
  'hls.js': {
    script: join(MODULES, 'hls.js', 'dist', 'hls.min.js'),
    start: `const hls = new Hls({ xhrSetup: (xhr) => { xhr.withCredentials = false } })
hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) window.fatal = 'hls.js ' + data.details })
hls.loadSource(SRC)
hls.attachMedia(video)
video.play().catch(() => {})`
  },
  shaka: {
    script: join(MODULES, 'shaka-player', 'dist', 'shaka-player.compiled.js'),
    start: `shaka.polyfill.installAll()
const player = new shaka.Player()
player.addEventListener('error', (e) => { window.fatal = 'shaka ' + e.detail.code })
player.attach(video).then(() => player.load(SRC)).then(() => video.play()).catch((e) => { window.fatal = 'shaka ' + (e.code ?? e.message) })`
  },
  'dash.js': {
    script: join(MODULES, 'dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js'),
    start: `const player = dashjs.MediaPlayer().create()
player.on(dashjs.MediaPlayer.events.ERROR, (e) => { window.fatal = 'dash.js ' + JSON.stringify(e.error ?? e).slice(0, 200) })
player.initialize(video, SRC, true)`
  },
  'video.js': {
    script: join(MODULES, 'video.js', 'dist', 'video.min.js'),
    start: `const player = videojs(video)
player.on('error', () => { window.fatal = 'video.js ' + (player.error()?.code ?? '') })
player.src({ src: SRC, type: SRC.includes('.mpd') ? 'application/dash+xml' : 'application/x-mpegURL' })
player.play().catch(() => {})`
  }
} as const

export type PlayerName = keyof typeof PLAYERS

/** One Chromium for a test file, closed at its end. */
export async function openBrowser (t: { teardown: (fn: () => unknown) => void }): Promise<BrowserContext> {
  const browser = findBrowser()
  if (browser.path === undefined) throw new Error(browser.message)
  const userDataDir = mkdtempSync(join(tmpdir(), 'cf-static-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browser.path,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
      // The page is routed, not loaded from loopback: Chromium would otherwise refuse it the loopback edge.
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests'],
    timeout: 120_000
  })
  t.teardown(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
  })
  return context
}

export interface EdgeRequest { url: string, status: number, cookie: string | undefined }

export interface Playback {
  page: Page
  /** Every request the page made to the edge, with the edge's answer. */
  requests: EdgeRequest[]
  errors: string[]
}

/** Opens a page that plays `src` with `player`; resolves once it is loaded (playback is then watched by the caller). */
export async function play (context: BrowserContext, player: PlayerName, src: string, edgeUrl: string): Promise<Playback> {
  const page = await context.newPage()
  page.setDefaultTimeout(90_000)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  const requests: EdgeRequest[] = []
  page.on('response', (response) => {
    if (response.url().startsWith(edgeUrl + '/')) requests.push({ url: response.url(), status: response.status(), cookie: response.request().headers().cookie })
  })
  const script = readFileSync(PLAYERS[player].script)
  const html = `<!doctype html><video id="video" muted playsinline></video><script src="/player.js"></script><script>
const SRC = ${JSON.stringify(src)}
const video = document.getElementById('video')
${PLAYERS[player].start}
</script>`
  await page.route(PAGE + '/**', async (route) => {
    const url = new URL(route.request().url())
    if (url.pathname === '/') return await route.fulfill({ contentType: 'text/html', body: html })
    if (url.pathname === '/player.js') return await route.fulfill({ contentType: 'text/javascript', body: script })
    return await route.fulfill({ status: 404, body: '' })
  })
  await page.goto(PAGE + '/')
  return { page, requests, errors }
}

/** Waits until the video has played `seconds` (currentTime), or a fatal error; returns the error, if any. */
export async function playedOrFailed (p: Playback, seconds: number): Promise<string | undefined> {
  await p.page.waitForFunction(`window.fatal !== undefined || document.querySelector('video').currentTime >= ${seconds}`, null, { timeout: 90_000 })
    .catch((err: Error) => { throw new Error(`${err.message}\n${JSON.stringify({ errors: p.errors, requests: p.requests.slice(0, 6) })}`) })
  return await p.page.evaluate('window.fatal') as string | undefined
}
