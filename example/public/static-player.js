/* global Hls */
// The static manifests' player: hls.js (its full build, which substitutes EXT-X-DEFINE variables)
// loads the signed URL the page holds; each templated playlist copies that URL's Policy and
// Signature into the next request, so every request to the edge is signed, without cookies.
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
  // No cookies for the edge: the signed query is the grant.
  xhrSetup (xhr) {
    xhr.withCredentials = false
  },
  maxBufferLength: 4,
  maxMaxBufferLength: 6
})

hls.on(Hls.Events.MANIFEST_PARSED, () => {
  show('player', 'playlist loaded from the edge', 'ok')
  video.play().catch(() => show('player', 'press play to start'))
})
hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
  segments++
  // The path only: the query is the user's grant.
  const url = new URL(data.frag.url)
  show('segments', `${segments} loaded from ${url.origin} (last: ${url.pathname}, signed)`, 'ok')
})
video.addEventListener('playing', () => show('player', 'playing', 'ok'))
video.addEventListener('ended', () => show('player', 'ended: press play to watch again'))
hls.on(Hls.Events.ERROR, (_event, data) => {
  if (!data.fatal) return
  const status = data.response && data.response.code
  const what = data.frag ? 'Part of the video' : 'The video'
  const refused = `${what} was refused: the signed URL has expired or was not made for this course. Reload the page.`
  const { text, detail } = describePlayerError(data, refused)
  show('player', text, 'refused')
  showDetail(detail)
  hls.destroy()
  if (status === 403) refreshAccount()
})

hls.loadSource(video.dataset.manifest)
hls.attachMedia(video)
