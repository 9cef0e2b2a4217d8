// Keeps the header's account line true to the session. Another tab may sign out, or in as someone else,
// and this page would go on naming a user who is gone: so it asks the app again whenever it comes back into
// view (the focus back, or a phone's browser showing the tab again), and whenever the player is refused
// (its keep-alive answered 401 or 403, or the edge 403).

const account = document.getElementById('account')
let asked = 0

function element (name, attributes, ...children) {
  const el = document.createElement(name)
  Object.assign(el, attributes)
  el.append(...children)
  return el
}

// The same markup as the server's (views.ts): the user's name and a sign-out button, or a link to sign in.
function draw (user) {
  if (user === null) {
    account.replaceChildren(element('span', {}, 'Signed out'), element('a', { href: '/' }, 'Sign in'))
  } else {
    const button = element('button', { type: 'submit' }, 'Sign out')
    account.replaceChildren(
      element('span', {}, element('span', { className: 'wide' }, 'Signed in as '), element('strong', {}, user.name)),
      element('form', { method: 'post', action: '/signout' }, button)
    )
  }
  account.dataset.user = user === null ? '' : user.id
}

/** Asks the app who is signed in, and redraws the header if that changed. */
export async function refreshAccount () {
  if (account === null) return
  // Answers may arrive out of order: only the last question's counts.
  const mine = ++asked
  let user
  try {
    const response = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' })
    if (!response.ok) return
    user = (await response.json()).user
  } catch {
    // The app is unreachable: what the header says can be neither confirmed nor corrected.
    return
  }
  if (mine !== asked || (user?.id ?? '') === account.dataset.user) return
  draw(user ?? null)
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') refreshAccount()
})
window.addEventListener('focus', () => refreshAccount())
