/* global Hls */
// The cookie-less page's player. The playlist comes from the app (same origin, with the app's own
// session cookie); every segment is a signed URL on the edge, fetched without credentials.
import { refreshAccount } from '/account.js'
import { describePlayerError, showDetail } from '/player-errors.js'

const video = document.getElementById('video')
const show = (id, text, className = '') => {
  const el = document.getElementById(id)
  el.textContent = text
  el.className = className
}

let segments = 0
const hls = new Hls({
  // No cookies for the edge: the signed query in each URL is the grant.
  xhrSetup (xhr) {
    xhr.withCredentials = false
  },
  maxBufferLength: 4,
  maxMaxBufferLength: 6
})

hls.on(Hls.Events.MANIFEST_PARSED, () => {
  show('player', 'playlist loaded from the app\'s mirror', 'ok')
  video.play().catch(() => show('player', 'press play to start'))
})
hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
  segments++
  const url = new URL(data.frag.url)
  show('segments', `${segments} loaded from ${url.origin} (last: ${url.pathname}, signed)`, 'ok')
})
video.addEventListener('playing', () => show('player', 'playing', 'ok'))
video.addEventListener('ended', () => show('player', 'ended: press play to watch again'))
hls.on(Hls.Events.ERROR, (_event, data) => {
  if (!data.fatal) return
  const status = data.response && data.response.code
  const what = data.frag ? 'Part of the video' : 'The video'
  const refused = status === 401 ? `${what} was refused: you are signed out.` : `${what} was refused: this is not your course.`
  const { text, detail } = describePlayerError(data, refused)
  show('player', text, 'refused')
  showDetail(detail)
  hls.destroy()
  if (status === 401 || status === 403) refreshAccount()
})

hls.loadSource(video.dataset.playlist)
hls.attachMedia(video)
