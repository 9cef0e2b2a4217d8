// The example's pages: plain HTML strings, no template engine.
import { courses, users, type Course, type User } from './catalogue.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escape (value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

function minutes (seconds: number): string {
  const s = Math.floor(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f4f5f8; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .6rem 1.5rem; background: #232f3e; color: #fff; }
  header h1 { font-size: 1rem; margin: 0; flex: 1; }
  header a { color: #fff; }
  #account { display: flex; align-items: center; gap: 1rem; }
  main { max-width: 46rem; margin: 1.5rem auto; padding: 0 1.5rem; }
  /* A phone: the header keeps to one line (the app's name, the user's name, the button), the rest
     stays readable to screen readers. */
  @media (max-width: 30rem) {
    header, main { padding-left: 1rem; padding-right: 1rem; }
    header { flex-wrap: nowrap; gap: .75rem; }
    header h1 { white-space: nowrap; }
    #account { gap: .75rem; white-space: nowrap; }
    header .wide { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  }
  button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid #8d99ae; background: #fff; cursor: pointer; }
  header button { background: transparent; color: #fff; border-color: #fff; }
  form { display: inline; }
  ul.courses { list-style: none; padding: 0; }
  ul.courses li { background: #fff; margin: .5rem 0; padding: .75rem 1rem; border-radius: 6px; border: 1px solid #dde1e8; }
  .muted { color: #5c6577; }
  video { width: 100%; aspect-ratio: 16 / 9; background: #000; border-radius: 6px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: #fff; padding: .75rem 1rem;
       border-radius: 6px; border: 1px solid #dde1e8; }
  dt { font-weight: 600; }
  dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
  code { font-size: .9em; }
  details { font-size: .85em; color: #5c6577; }
  summary { cursor: pointer; }
  .ok { color: #1a7f37; }
  .refused { color: #b42318; }
`

// The header's account line; public/account.js draws the same when another tab signs out or in.
function account (user: User | null): string {
  return user === null
    ? ''
    : `<span><span class="wide">Signed in as </span><strong>${escape(user.name)}</strong></span>
       <form method="post" action="/signout"><button type="submit">Sign out</button></form>`
}

export function page (title: string, user: User | null, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)} · Course player</title>
  <link rel="icon" href="data:,">
  <style>${STYLE}</style>
</head>
<body>
  <header>
    <h1><a href="/">Course player</a><span class="muted wide"> · fastify-cloudfront-cookies example</span></h1>
    <div id="account" data-user="${escape(user?.id ?? '')}">${account(user)}</div>
  </header>
  <main>
${body}
  </main>
  <script type="module" src="/account.js"></script>
</body>
</html>
`
}

export function signInPage (): string {
  const buttons = Object.values(users).map((u) =>
    `<button type="submit" name="user" value="${escape(u.id)}">Sign in as ${escape(u.name)}</button>`).join(' ')
  return page('Sign in', null, `
    <h2>Sign in</h2>
    <p>Two demo users, each owning one course. No password: this is a demo.</p>
    <form method="post" action="/signin">${buttons}</form>`)
}

export function cataloguePage (user: User, progress: Record<string, number>): string {
  const items = Object.values(courses).map((c) => {
    const owner = users[c.owner] as User
    const mine = c.owner === user.id
    const watched = progress[c.id] === undefined ? '' : ` · watched to ${minutes(progress[c.id] as number)}`
    return `<li><a href="/courses/${escape(c.id)}"><strong>${escape(c.title)}</strong></a>
      <span class="muted">· ${mine ? 'your course' : `${escape(owner.name)}'s course`}${watched}</span></li>`
  }).join('\n')
  return page('Courses', user, `
    <h2>Courses</h2>
    <ul class="courses">${items}</ul>
    <p class="muted">Opening a course you own grants its media folder at the edge with CloudFront signed cookies.
    The other course's page opens too, but the edge refuses its media.</p>`)
}

/** Where the player's pages put hls.js's own terms for an error, apart from what they tell the viewer. */
export const playerDetails = '<details id="player-details" hidden><summary>Details</summary><code></code></details>'

export function coursePage (user: User, course: Course, edgeUrl: string): string {
  const owner = users[course.owner] as User
  const mine = course.owner === user.id
  const playlist = `${edgeUrl}${course.prefix}index.m3u8`
  return page(course.title, user, `
    <h2>${escape(course.title)} <span class="muted">· ${mine ? 'your course' : `${escape(owner.name)}'s course`}</span></h2>
    <video id="video" controls muted playsinline
      data-playlist="${escape(playlist)}" data-progress="/courses/${escape(course.id)}/progress"></video>
    <dl>
      <dt>Media</dt><dd><code>${escape(playlist)}</code></dd>
      <dt>Access</dt><dd id="grant">waiting for the first progress report…</dd>
      <dt>Renewals</dt><dd id="renewals">0</dd>
      <dt>Segments</dt><dd id="segments">none loaded yet</dd>
      <dt>Player</dt><dd><span id="player">loading…</span>${playerDetails}</dd>
    </dl>
    <p class="muted"><a href="/courses/${escape(course.id)}/cookieless">Play it without cookies</a>, through the app's playlist mirror;
    <a href="/courses/${escape(course.id)}/static">from static signed manifests</a>, with one signed URL;
    <a href="/courses/${escape(course.id)}/dash">play it in MPEG-DASH</a>, with the same cookies.</p>
    <script type="importmap">{ "imports": { "fastify-cloudfront-cookies/client": "/vendor/fastify-cloudfront-cookies/client/index.js" } }</script>
    <script src="/vendor/hls.min.js"></script>
    <script type="module" src="/player.js"></script>
    <script src="/why.js"></script>`)
}

export function notFoundPage (user: User): string {
  return page('Not found', user, '<h2>No such course</h2><p><a href="/">Back to the courses</a></p>')
}
