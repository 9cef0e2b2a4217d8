/* global location, MutationObserver */
// When the player fails, asks the app why (GET /courses/<id>/why) and says it in plain words
// above the player. A page on another host than the media is explained at once: its cookies can
// never reach the media. Independent of the player: it watches the player's status turn "refused",
// and the video stall (a player retries a refused segment for a long while before it gives up).
'use strict'
;(function () {
  const video = document.getElementById('video')
  const status = document.getElementById('player')
  if (!video || !status) return
  const box = document.createElement('div')
  box.id = 'why'
  box.hidden = true
  box.setAttribute('role', 'alert')
  box.style.cssText = 'margin: .75rem 0; padding: .75rem 1rem; border-radius: 6px; border: 1px solid #f0b4ae; background: #fdecea; color: #7a1a12'
  video.insertAdjacentElement('beforebegin', box)

  function render (answer) {
    box.replaceChildren()
    const title = document.createElement('strong')
    title.textContent = 'Why the player fails'
    const list = document.createElement('ul')
    list.style.margin = '.4rem 0 0'
    for (const reason of answer.reasons) {
      const item = document.createElement('li')
      item.textContent = reason
      list.append(item)
    }
    box.append(title, list)
    if (answer.open) {
      const link = document.createElement('a')
      link.href = answer.open
      link.textContent = `Open ${answer.open} instead`
      box.append(link)
    }
    box.dataset.codes = answer.codes.join(' ')
    box.hidden = false
  }

  let shown = false
  // `failed`: the player gave up, so any answer is shown; after a stall, only a real problem is.
  async function ask (failed) {
    if (shown) return
    let answer
    try {
      const response = await fetch(`${location.pathname.replace(/\/$/, '')}/why`, { credentials: 'same-origin' })
      answer = await response.json()
    } catch {
      answer = { reasons: ['The app did not answer: is it still running?'], codes: ['APP_UNREACHABLE'] }
    }
    if (shown || (!failed && answer.codes.length === 0)) return
    shown = true
    render(answer)
  }

  if (location.hostname !== new URL(video.dataset.playlist).hostname) ask(true)
  new MutationObserver(() => {
    if (status.classList.contains('refused')) ask(true)
  }).observe(status, { attributes: true, attributeFilter: ['class'] })
  let stall = null
  video.addEventListener('waiting', () => {
    clearTimeout(stall)
    stall = setTimeout(() => ask(false), 2000)
  })
  video.addEventListener('playing', () => clearTimeout(stall))
})()
