// The cookie-less player: the same course, played through the app's playlist mirror (/hls/...)
// by hls.js without credentials, as a native app, a cast receiver or a player on another site
// would play it. The mirror answers the course's playlists rewritten for the signed-in user:
// every segment URL carries the user's signed query, so no CloudFront cookie is needed anywhere.
//
//   GET /courses/:courseId/cookieless   the page (sets no CloudFront cookies)
//   GET /cookieless.js                   its player
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findCourse, users, type Course, type User } from './catalogue.js'
import { escape, notFoundPage, page, playerDetails } from './views.js'

/** The mirror's path, given to the plugin as `playlists.prefix`. */
export const MIRROR = '/hls'

const script = readFileSync(join(__dirname, 'public', 'cookieless.js'))

export function cookielessPage (user: User, course: Course): string {
  const owner = users[course.owner] as User
  const playlist = `${MIRROR}${course.prefix}index.m3u8`
  return page(`${course.title} without cookies`, user, `
    <h2>${escape(course.title)} <span class="muted">· without cookies · ${course.owner === user.id ? 'your course' : `${escape(owner.name)}'s course`}</span></h2>
    <video id="video" controls muted playsinline data-playlist="${escape(playlist)}"></video>
    <dl>
      <dt>Playlist</dt><dd><code>${escape(playlist)}</code>, from this app: the edge's playlist, rewritten for you</dd>
      <dt>Segments</dt><dd id="segments">none loaded yet</dd>
      <dt>Player</dt><dd><span id="player">loading…</span>${playerDetails}</dd>
    </dl>
    <p class="muted">hls.js runs with <code>withCredentials</code> off: the edge receives no cookies, only signed URLs.
    Use this when the player cannot hold cookies for the CDN's domain (native apps, casting, another site).
    <a href="/courses/${escape(course.id)}">The same course with signed cookies</a>.</p>
    <script src="/vendor/hls.min.js"></script>
    <script type="module" src="/cookieless.js"></script>`)
}

/** Adds the cookie-less page and its script. `currentUser` is the app's own session lookup. */
export function registerCookieless (app: FastifyInstance, currentUser: (request: FastifyRequest) => User | null): void {
  app.get<{ Params: { courseId: string } }>('/courses/:courseId/cookieless', async (request, reply) => {
    const user = currentUser(request)
    if (user === null) return reply.redirect('/', 303)
    const course = findCourse(request.params.courseId)
    reply.type('text/html; charset=utf-8')
    if (course === undefined) return reply.code(404).send(notFoundPage(user))
    return cookielessPage(user, course)
  })
  app.get('/cookieless.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(script)
  })
}
