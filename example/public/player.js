/* global Hls */
// The course page's player. hls.js loads the stream from the edge, another origin (another port),
// sending the CloudFront-* cookies with every request; progress reports keep the grant alive.
'use strict'

const video = document.getElementById('video')
const show = (id, text, className = '') => {
  const el = document.getElementById(id)
  el.textContent = text
  el.className = className
}

// --- Playback -------------------------------------------------------------------------------

let segments = 0
const hls = new Hls({
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
  video.play().catch(() => show('player', 'press play to start'))
})
hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
  segments++
  show('segments', `${segments} loaded (last: ${data.frag.relurl})`, 'ok')
})
video.addEventListener('playing', () => show('player', 'playing', 'ok'))
video.addEventListener('ended', () => show('player', 'ended: press play to watch again'))
hls.on(Hls.Events.ERROR, (_event, data) => {
  if (!data.fatal) return
  const status = data.response && data.response.code
  if (status === 403) {
    // The edge's answer (CloudFront's XML error) is in data.response.data; the status says enough here.
    show('player', `the edge refused ${data.frag ? 'a segment' : 'the playlist'} (403): no valid signed cookies for this course`, 'refused')
  } else {
    show('player', `playback stopped: ${data.details}${status ? ` (${status})` : ''}`, 'refused')
  }
  hls.destroy()
})

hls.loadSource(video.dataset.playlist)
hls.attachMedia(video)

// --- Keep-alive: progress reports renew the grant -------------------------------------------

let expires = 0
let renewals = 0

async function reportProgress () {
  let response
  try {
    response = await fetch(video.dataset.progress, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ position: Math.floor(video.currentTime) })
    })
  } catch {
    setTimeout(reportProgress, 1000) // The app restarting, say: try again shortly.
    return
  }
  // Every response that carries a grant says when it ends, in epoch seconds.
  const next = Number(response.headers.get('cloudfront-grant-expires'))
  if (!response.ok || !next) {
    expires = 0
    show('grant', response.status === 403 ? 'none: this is not your course' : `none (${response.status})`, 'refused')
    return
  }
  if (expires !== 0 && next > expires) {
    renewals++
    show('renewals', `${renewals} (the app signed a new cookie set)`, 'ok')
  }
  expires = next
  // Report again halfway to the expiry. The app signs a new set only when the current one is close
  // to its end (its refreshBefore): an earlier report gets the same set back, and the next one,
  // halfway again, a new one, well before the old set expires.
  const left = expires * 1000 - Date.now()
  setTimeout(reportProgress, Math.max(250, left / 2))
}

setInterval(() => {
  if (expires === 0) return
  const left = Math.max(0, Math.round(expires - Date.now() / 1000))
  show('grant', `signed cookies for this course's folder, valid ${left} s more`, 'ok')
}, 250)

// Opening the page granted the course; this first report learns when that grant ends.
reportProgress()
