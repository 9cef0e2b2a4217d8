// "Why does the player fail?", answered in plain words for the course page (public/why.js).
//
//   GET /courses/:courseId/why   the reasons, as { reasons: string[], codes: string[], open?: string }
//                                (open: the page to open instead, when the host is the problem)
//   GET /why.js                  the page's script that asks when the player fails
//
// The route lies inside the course's cookie Path (/courses/<id>/) on the app's host, and cookies
// ignore ports: when the page is on the edge's host, this request carries exactly the CloudFront
// cookies the browser sends to the edge, and the doctor's checks judge them as CloudFront would.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { diagnose, type Finding } from 'fastify-cloudfront-cookies'
import { findCourse, owns, users, type User } from './catalogue.js'

export interface WhyOptions {
  edgeUrl: string
  keyPairId: string
  privateKey: string
  now: () => number
  currentUser: (request: FastifyRequest) => User | null
}

const whyScript = readFileSync(join(__dirname, 'public', 'why.js'))

function plain (f: Finding, courseUrl: string): string {
  switch (f.code) {
    case 'MISSING_COOKIES':
      return `Your browser holds no CloudFront cookies for this course: they expired, were deleted, or were never set. Reload the page (${courseUrl}) to get new ones.`
    case 'EXPIRED':
      return 'The cookies for this course have expired: the player stopped renewing them (its progress reports failed or stopped). Reload the page to get new ones.'
    case 'DUPLICATE_COOKIES':
      return 'Your browser sends two sets of CloudFront cookies for this course (from overlapping grants), and the edge refuses the mix. Sign out and in again.'
    default:
      return `${f.message}. What to change: ${f.fix}`
  }
}

export async function whyRoutes (app: FastifyInstance, options: WhyOptions): Promise<void> {
  const edge = new URL(options.edgeUrl)

  app.get('/why.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(whyScript)
  })

  app.get<{ Params: { courseId: string } }>('/courses/:courseId/why', async (request) => {
    const course = findCourse(request.params.courseId)
    if (course === undefined) return { reasons: ['There is no such course.'], codes: [] }
    // The app's own port, on the edge's host name.
    const courseUrl = `${edge.protocol}//${edge.hostname}${request.host.slice(request.hostname.length)}/courses/${course.id}`
    // Cookies are kept per host name: those set by 127.0.0.1 never reach localhost, whatever the port.
    if (request.hostname !== edge.hostname) {
      return {
        // The page the app should be opened at is `open`, which the page shows as its one link.
        reasons: [`You opened the app at ${request.hostname}, and the media is served from ${edge.hostname}. A browser keeps cookies per host name, so the cookies this page received are never sent to ${edge.hostname}.`],
        codes: ['COOKIE_NOT_SENT_HOST'],
        open: courseUrl
      }
    }
    const user = options.currentUser(request)
    if (user === null) return { reasons: ['You are signed out: signing out deleted this course\'s cookies, and the edge refuses every further request. Sign in again.'], codes: ['COOKIE_DELETED'] }
    if (!owns(user.id, course.id)) {
      const owner = users[course.owner] as User
      return { reasons: [`This is ${owner.name}'s course: the app grants its media only to its owner, so your browser has no cookies for it and the edge refuses it.`], codes: ['MISSING_COOKIES'] }
    }
    const report = diagnose({
      url: `${options.edgeUrl}${course.prefix}index.m3u8`,
      cookieHeader: request.headers.cookie,
      // The private key reduced to its public half: the same check as the edge's.
      keys: { [options.keyPairId]: options.privateKey },
      now: options.now()
    })
    const errors = report.findings.filter((f) => f.severity === 'error')
    if (errors.length === 0) {
      return { reasons: ['The cookies your browser holds for this course are valid now: the refusal was temporary (they were being renewed). Reload the page if the player does not resume.'], codes: [] }
    }
    return { reasons: errors.map((f) => plain(f, courseUrl)), codes: errors.map((f) => f.code) }
  })
}
