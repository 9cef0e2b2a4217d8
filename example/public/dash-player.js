/* global dashjs */
// The DASH page's player. dash.js loads the MPD and its segments from the edge, another origin, with the
// CloudFront-* cookies (credentialed CORS); the progress reports renew the grant before it ends.
import { keepGrantAlive } from 'fastify-cloudfront-cookies/client'

const video = document.getElementById('video')
const show = (id, text, className = '') => {
  const el = document.getElementById(id)
  el.textContent = text
  el.className = className
}

const player = dashjs.MediaPlayer().create()
let stopped = false
function stop (why) {
  if (stopped) return
  stopped = true
  keepAlive.stop()
  player.reset()
  show('player', why, 'refused')
}

const keepAlive = keepGrantAlive({
  url: video.dataset.progress,
  request: () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ position: Math.floor(video.currentTime) })
  }),
  onChange ({ state }) {
    if (state === 'signed-out') stop('stopped: you were signed out')
    else if (state === 'refused') stop('stopped: the app refused access to this course')
  }
})

let segments = 0
player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_NONE } })
// Every request to the edge carries the cookies.
player.setXHRWithCredentialsForType(undefined, true)
player.on(dashjs.MediaPlayer.events.FRAGMENT_LOADING_COMPLETED, (event) => {
  if (event.request?.type !== 'MediaSegment') return
  segments++
  show('segments', `${segments} loaded`, 'ok')
})
player.on(dashjs.MediaPlayer.events.ERROR, () => {
  stop('The edge refused the video: this browser holds no valid signed cookies for this course.')
})
video.addEventListener('playing', () => { if (!stopped) show('player', 'playing', 'ok') })
video.addEventListener('ended', () => { if (!stopped) show('player', 'ended: press play to watch again') })
player.initialize(video, video.dataset.mpd, true)
