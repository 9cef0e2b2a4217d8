// The same course in MPEG-DASH, with the same signed cookies: one grant of the course's folder opens
// the MPD and every segment it lists, as it opens the HLS playlist. dash.js plays it.
//
//   GET /courses/:courseId/dash   the page; grants the course's folder at the edge, as the course page does
//   GET /dash-player.js           its player
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findCourse, users, type Course, type User } from './catalogue.js'
import { escape, notFoundPage, page } from './views.js'

const script = readFileSync(join(__dirname, 'public', 'dash-player.js'))
const dashScript = readFileSync(require.resolve('dashjs'))

export function dashPage (user: User, course: Course, edgeUrl: string): string {
  const owner = users[course.owner] as User
  const mpd = `${edgeUrl}${course.prefix}dash/manifest.mpd`
  return page(`${course.title} in DASH`, user, `
    <h2>${escape(course.title)} <span class="muted">· MPEG-DASH · ${course.owner === user.id ? 'your course' : `${escape(owner.name)}'s course`}</span></h2>
    <video id="video" controls muted playsinline
      data-mpd="${escape(mpd)}" data-progress="/courses/${escape(course.id)}/progress"></video>
    <dl>
      <dt>Media</dt><dd><code>${escape(mpd)}</code></dd>
      <dt>Segments</dt><dd id="segments">none loaded yet</dd>
      <dt>Player</dt><dd id="player">loading…</dd>
    </dl>
    <p class="muted">dash.js sends the CloudFront cookies with each request, as hls.js does on
    <a href="/courses/${escape(course.id)}">the HLS page</a>: nothing in the MPD changes.</p>
    <script type="importmap">{ "imports": { "fastify-cloudfront-cookies/client": "/vendor/fastify-cloudfront-cookies/client/index.js" } }</script>
    <script src="/vendor/dash.all.min.js"></script>
    <script type="module" src="/dash-player.js"></script>`)
}

/** Adds the DASH page, its script and dash.js. `currentUser` is the app's own session lookup. */
export function registerDash (app: FastifyInstance, currentUser: (request: FastifyRequest) => User | null, edgeUrl: string): void {
  app.get<{ Params: { courseId: string } }>('/courses/:courseId/dash', {
    config: { cloudfront: { resource: '/courses/:courseId/*' } }
  }, async (request, reply) => {
    const user = currentUser(request)
    if (user === null) return reply.redirect('/', 303)
    const course = findCourse(request.params.courseId)
    reply.type('text/html; charset=utf-8')
    if (course === undefined) return reply.code(404).send(notFoundPage(user))
    return dashPage(user, course, edgeUrl)
  })
  app.get('/dash-player.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(script)
  })
  // dash.js from node_modules, served by the app itself: nothing comes from a CDN.
  app.get('/vendor/dash.all.min.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(dashScript)
  })
}
