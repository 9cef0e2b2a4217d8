// The course from static signed manifests: the edge serves the course's playlists as stored (templated
// once at start, server.ts), and the app hands the signed-in owner ONE signed URL of the course's playlist.
// hls.js copies that URL's Policy and Signature into every playlist and segment request
// (EXT-X-DEFINE:QUERYPARAM); no cookie, and nothing of the app's in the media path.
//
//   GET /courses/:courseId/static   the page, with the signed URL for the owner (no CloudFront cookie)
//   GET /static-player.js            its player
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findCourse, STATIC_ROOT, users, type Course, type User } from './catalogue.js'
import { escape, notFoundPage, page, playerDetails } from './views.js'

/**
 * The rule manifestUrl() grants under: the static copy of one course folder. The app serves nothing under its
 * match, so no request of the app's ever matches it: it never sets a cookie, it only names the resource.
 */
export const STATIC_RULE = {
  match: `${STATIC_ROOT}/courses/:courseId/*`,
  resource: `${STATIC_ROOT}/courses/:courseId/*`
}

const script = readFileSync(join(__dirname, 'public', 'static-player.js'))

/** The page: with `manifestUrl` (signed) for the owner, or null and the refusal for anyone else. */
export function staticPage (user: User, course: Course, manifestUrl: string | null): string {
  const owner = users[course.owner] as User
  const path = `${STATIC_ROOT}${course.prefix}index.m3u8`
  const heading = `<h2>${escape(course.title)} <span class="muted">· static manifests · ${course.owner === user.id ? 'your course' : `${escape(owner.name)}'s course`}</span></h2>`
  const about = `<p class="muted">The edge serves the course's playlists as stored, templated once with
    <code>EXT-X-DEFINE:QUERYPARAM</code>: hls.js copies the signed query of the one URL the app gave you into every
    playlist and segment request. No cookie, and the app is not in the media path.
    <a href="/courses/${escape(course.id)}/cookieless">Through the app's playlist mirror</a> instead;
    <a href="/courses/${escape(course.id)}">with signed cookies</a>.</p>`
  if (manifestUrl === null) {
    return page(`${course.title} from static manifests`, user, `
    ${heading}
    <p class="refused" id="refused">Refused: this is not your course, so the app signed no URL for it.</p>
    ${about}`)
  }
  return page(`${course.title} from static manifests`, user, `
    ${heading}
    <video id="video" controls muted playsinline data-manifest="${escape(manifestUrl)}"></video>
    <dl>
      <dt>Playlist</dt><dd><code>${escape(path)}</code> on the edge, with your signed query</dd>
      <dt>Segments</dt><dd id="segments">none loaded yet</dd>
      <dt>Player</dt><dd><span id="player">loading…</span>${playerDetails}</dd>
    </dl>
    ${about}
    <script src="/vendor/hls.min.js"></script>
    <script type="module" src="/static-player.js"></script>`)
}

/** Adds the static manifests' page and its script. `currentUser` is the app's own session lookup. */
export function registerStatic (app: FastifyInstance, currentUser: (request: FastifyRequest) => User | null): void {
  app.get<{ Params: { courseId: string } }>('/courses/:courseId/static', async (request, reply) => {
    const user = currentUser(request)
    if (user === null) return reply.redirect('/', 303)
    const course = findCourse(request.params.courseId)
    reply.type('text/html; charset=utf-8')
    if (course === undefined) return reply.code(404).send(notFoundPage(user))
    // The grant of the course's static folder, through authorize (the owner only), in the user's cached set.
    // A player keeps the URL for the whole viewing and never asks again: with the video's length, the URL
    // outlives it (at least twice the length plus a minute), however short the app's ttl.
    const url = await reply.cloudfront.manifestUrl(`${STATIC_ROOT}${course.prefix}index.m3u8`, { duration: course.seconds })
    if (url === null) return reply.code(403).send(staticPage(user, course, null))
    return staticPage(user, course, url)
  })
  app.get('/static-player.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(script)
  })
}
