// Two DASH players no one here wrote, dash.js and Shaka Player, from node_modules, in one page that the
// tests reuse: each playback gets a new <video> and a new player, stopped once the test has seen what it
// waits for. Progress is the video's own currentTime, never the wall clock.
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'

export type DashPlayer = 'dash.js' | 'Shaka Player'
export const DASH_PLAYERS: DashPlayer[] = ['dash.js', 'Shaka Player']

/** The players' scripts, by the path the page loads them from. */
export const PLAYER_SCRIPTS: Record<string, Buffer> = {
  '/dash.all.min.js': readFileSync(require.resolve('dashjs')),
  '/shaka-player.dash.js': readFileSync(require.resolve('shaka-player/dist/shaka-player.dash.js'))
}

// startPlayer(name, url, credentials): a fresh player on a fresh video; what goes wrong lands in
// window.playerErrors as text with the HTTP status where the player gives one. Retries are cut down so
// that a refusal is reported in seconds; a refused request is never retried into success anyway.
const PAGE_SCRIPT = `
window.playerErrors = []
window.current = null
window.stopPlayer = async () => {
  const playing = window.current
  window.current = null
  if (playing !== null) await playing.stop()
}
window.startPlayer = async (name, url, credentials) => {
  await window.stopPlayer()
  window.playerErrors = []
  document.getElementById('video')?.remove()
  const video = document.createElement('video')
  video.id = 'video'
  video.muted = true
  video.playsInline = true
  document.body.append(video)
  if (name === 'dash.js') {
    const player = dashjs.MediaPlayer().create()
    player.updateSettings({
      debug: { logLevel: dashjs.Debug.LOG_LEVEL_NONE },
      streaming: { retryAttempts: { MPD: 1, MediaSegment: 1, InitializationSegment: 1, IndexSegment: 1, BitstreamSwitchingSegment: 1 } }
    })
    player.setXHRWithCredentialsForType(undefined, credentials)
    player.on(dashjs.MediaPlayer.events.ERROR, (event) => {
      const e = event.error ?? {}
      window.playerErrors.push('dash.js error ' + e.code + ': ' + e.message)
    })
    window.current = { stop: () => player.destroy() }
    player.initialize(video, url, true)
  } else {
    const player = new shaka.Player()
    window.current = { stop: () => player.destroy() }
    const retry = { maxAttempts: 1, baseDelay: 200, backoffFactor: 1, fuzzFactor: 0, timeout: 30000 }
    player.configure({ manifest: { retryParameters: retry }, streaming: { retryParameters: retry } })
    player.getNetworkingEngine().registerRequestFilter((_type, request) => { request.allowCrossSiteCredentials = credentials })
    const report = (e) => window.playerErrors.push('Shaka error ' + e.code + ' ' + JSON.stringify(e.data ?? []).slice(0, 300))
    player.addEventListener('error', (event) => report(event.detail))
    try {
      await player.attach(video)
      await player.load(url)
      await video.play()
    } catch (e) {
      if (e && e.code !== undefined) report(e)
      else window.playerErrors.push(String(e))
    }
  }
}
shaka.polyfill.installAll()
`

/** The page: both players' scripts, then startPlayer and stopPlayer. */
export const PLAYER_PAGE = `<!doctype html><title>DASH players</title>
<script src="/dash.all.min.js"></script>
<script src="/shaka-player.dash.js"></script>
<script>${PAGE_SCRIPT}</script>`

export interface Playback {
  /** currentTime when the wait ended. */
  time: number
  errors: string[]
}

/**
 * Starts `player` on `url` in `page` (which shows PLAYER_PAGE) and waits until the video has played
 * `seconds` of media or the player reported an error; then stops the player.
 */
export async function playFor (page: Page, player: DashPlayer, url: string, options: { seconds?: number, credentials?: boolean, timeout?: number } = {}): Promise<Playback> {
  const seconds = options.seconds ?? 3
  // Not awaited: Shaka's load resolves only once the stream plays, and what fails is in playerErrors.
  await page.evaluate(`(() => { window.startPlayer(${JSON.stringify(player)}, ${JSON.stringify(url)}, ${options.credentials === true}) })()`)
  try {
    await page.waitForFunction(`window.playerErrors.length > 0 || (document.getElementById('video')?.currentTime ?? 0) >= ${seconds}`, null, { timeout: options.timeout ?? 90_000, polling: 100 })
    return await page.evaluate('({ time: document.getElementById("video").currentTime, errors: window.playerErrors })') as Playback
  } finally {
    await page.evaluate('window.stopPlayer()')
  }
}
