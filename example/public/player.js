/* global Hls */
// The course page's player. hls.js loads the stream from the edge, another origin (another port), sending
// the CloudFront-* cookies with every request; fastify-cloudfront-cookies/client keeps the grant alive
// through the progress route, and gives hls.js a loader that answers a refused segment with one refresh.
import { keepGrantAlive } from 'fastify-cloudfront-cookies/client'
import { refreshAccount } from '/account.js'
import { describePlayerError, showDetail } from '/player-errors.js'

const video = document.getElementById('video')
const show = (id, text, className = '') => {
  const el = document.getElementById(id)
  el.textContent = text
  el.className = className
}

let halted = false
let renewals = 0
let countdown = 0

// Stops everything at the first refusal, and says why: the page never claims to play what it cannot.
// `detail`: hls.js's terms for it, shown apart.
function halt (why, access, detail) {
  if (halted) return
  halted = true
  keepAlive.stop()
  hls.destroy()
  video.pause()
  clearInterval(countdown)
  show('player', why, 'refused')
  showDetail(detail)
  if (access) show('grant', access, 'refused')
  // A refusal often means the session ended in another tab: the header should no longer name its user.
  refreshAccount()
}

// --- Keep-alive: progress reports renew the grant -------------------------------------------

const keepAlive = keepGrantAlive({
  // Saves the position and grants the course's folder again: the app signs a new cookie set when the
  // current one is close to its end, and says when it ends (cloudfront-grant-expires).
  url: video.dataset.progress,
  request: () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ position: Math.floor(video.currentTime) })
  }),
  onChange ({ state, status }) {
    if (state === 'renewed') {
      renewals++
      show('renewals', `${renewals} (the app signed a new cookie set)`, 'ok')
    } else if (state === 'signed-out') {
      halt('stopped: you were signed out', 'none: signed out (here or in another tab)')
    } else if (state === 'refused') {
      halt(status === 403 ? 'stopped: the app refused access to this course' : 'stopped: the app refused to renew your access',
        status === 403 ? 'none: this is not your course' : 'none', `progress report answered HTTP ${status}`)
    }
  }
})

countdown = setInterval(() => {
  if (keepAlive.expires === null) return
  const left = Math.max(0, Math.round(keepAlive.expires - Date.now() / 1000))
  show('grant', `signed cookies for this course's folder, valid ${left} s more`, 'ok')
}, 250)

// --- Playback -------------------------------------------------------------------------------

let segments = 0
const hls = new Hls({
  // A segment or playlist the edge refuses (403) triggers one refresh and, if the app granted, one retry.
  loader: keepAlive.hlsLoader(Hls.DefaultConfig.loader),
  // Send the cookies to the edge: a credentialed CORS request, which the edge allows for this app's origin.
  xhrSetup (xhr) {
    xhr.withCredentials = true
  },
  // A short buffer, so that segments are fetched all along playback and each one is judged by the
  // edge with the cookies of that moment. A real player keeps hls.js's default (30 s).
  maxBufferLength: 4,
  maxMaxBufferLength: 6
})

hls.on(Hls.Events.MANIFEST_PARSED, () => {
  show('player', 'playlist loaded (200)', 'ok')
  video.play().catch(() => { if (!halted) show('player', 'press play to start') })
})
hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
  segments++
  show('segments', `${segments} loaded (last: ${data.frag.relurl})`, 'ok')
})
video.addEventListener('playing', () => { if (!halted) show('player', 'playing', 'ok') })
video.addEventListener('ended', () => { if (!halted) show('player', 'ended: press play to watch again') })
hls.on(Hls.Events.ERROR, (_event, data) => {
  // A 403 comes past the loader's one refresh and retry: the edge's answer (CloudFront's XML error) is final.
  if (data.fatal || (data.response && data.response.code === 403)) {
    const refused = `The edge refused ${data.frag ? 'part of the video' : 'the video'}: this browser holds no valid signed cookies for this course.`
    const { text, detail } = describePlayerError(data, refused)
    halt(text, undefined, detail)
  }
})

hls.loadSource(video.dataset.playlist)
hls.attachMedia(video)
