// The course app: Fastify with a plain signed session cookie and fastify-cloudfront-cookies.
//
//   GET  /                          sign-in page, or the catalogue
//   POST /signin, /signout          sign out revokes the course cookies
//   GET  /session                   who is signed in, for the header of a page open in another tab
//   GET  /courses/:courseId         the course page; grants the course's media folder at the edge
//   POST /courses/:courseId/progress  the player's progress report; renews that grant
//   GET  /courses/:courseId/why   why the player fails, in plain words (why.ts)
//   GET  /courses/:courseId/static  the course from static signed manifests: one signed URL, no cookie (static.ts)
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCloudfrontCookies from 'fastify-cloudfront-cookies'
import { courses, findCourse, owns, ownsPrefix, users, type User } from './catalogue.js'
import { cataloguePage, coursePage, notFoundPage, signInPage } from './views.js'
import { whyRoutes } from './why.js'
import { MIRROR, registerCookieless } from './cookieless.js'
import { registerDash } from './dash.js'
import { registerStatic, STATIC_RULE } from './static.js'

export interface AppOptions {
  /** The edge's base URL, which grants are signed for: `http://localhost:3001`. */
  edgeUrl: string
  keyPairId: string
  privateKey: string
  /** The static manifests' folder, templated for keyPairId: where its sidecar is. */
  templates: string
  /** Lifetime of a grant, in seconds. */
  ttl: number
  /** Clock in milliseconds (the edge must use the same one). */
  now?: () => number
  /** One line per grant and revocation; silent when absent. */
  log?: (line: string) => void
}

const SESSION = 'session'
// The pages' own scripts, by URL.
const scripts = new Map(['player.js', 'player-errors.js', 'account.js'].map((f) => [`/${f}`, readFileSync(join(__dirname, 'public', f))]))
const hlsScript = readFileSync(require.resolve('hls.js/dist/hls.min.js'))
// The package's browser module (fastify-cloudfront-cookies/client), as an app without a bundler serves it:
// its files, by name, under the URL the page's import map gives.
const clientDir = dirname(require.resolve('fastify-cloudfront-cookies/client'))
const clientFiles = new Map(readdirSync(clientDir).filter((f) => f.endsWith('.js')).map((f) => [f, readFileSync(join(clientDir, f))]))

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const log = options.log ?? (() => {})
  const app = Fastify()
  const progress = new Map<string, Record<string, number>>()

  // A new secret at every start: restarting the example signs everybody out.
  await app.register(fastifyCookie, { secret: randomBytes(32).toString('hex') })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  function currentUser (request: FastifyRequest): User | null {
    const raw = request.cookies[SESSION]
    if (raw === undefined) return null
    const session = request.unsignCookie(raw)
    return session.valid && session.value !== null && Object.hasOwn(users, session.value) ? users[session.value] as User : null
  }

  await app.register(fastifyCloudfrontCookies, {
    keyPairId: options.keyPairId,
    privateKey: options.privateKey,
    distribution: options.edgeUrl,
    // Grants are cached per user: no user, no grant.
    getUser: (request) => currentUser(request)?.id,
    // Asked for every route grant (the course page below): only the owner gets the course's folder. It goes by
    // the prefix, which every grant has, so the same check holds wherever a grant comes from.
    authorize: (request, _params, prefix) => ownsPrefix(currentUser(request)?.id ?? null, prefix),
    ttl: options.ttl,
    // The defaults, spelled out. The app and the edge are both on localhost: cookies ignore ports,
    // so the browser sends the app's cookies to the edge, and the two are the same site (Lax works).
    // Chromium and Firefox accept Secure cookies from http://localhost.
    cookie: { secure: true, httpOnly: true, sameSite: 'Lax' },
    // The cookie-less player's playlists (example/cookieless.ts): the edge's own, fetched with a signed URL.
    playlists: { prefix: MIRROR, origin: { url: options.edgeUrl } },
    // The static manifests' copy of each course (example/static.ts): manifestUrl() signs one URL per user and
    // course under this rule's resource, after the same authorize, and checks that the templates name this key.
    rules: [STATIC_RULE],
    manifests: { templates: options.templates },
    ...(options.now ? { now: options.now } : {})
  })
  registerCookieless(app, currentUser)
  registerDash(app, currentUser, options.edgeUrl)
  registerStatic(app, currentUser)

  app.addHook('onSend', async (request, reply, payload) => {
    const expires = reply.getHeader('cloudfront-grant-expires')
    const setCookie = String(reply.getHeader('set-cookie') ?? '')
    if (expires !== undefined && setCookie.includes('CloudFront-Signature=')) {
      const until = new Date(Number(expires) * 1000).toLocaleTimeString()
      log(`app   sent ${currentUser(request)?.name ?? '?'} a CloudFront cookie set valid until ${until} (${request.method} ${request.url})`)
    }
    return payload
  })

  app.get('/', async (request, reply) => {
    const user = currentUser(request)
    reply.type('text/html; charset=utf-8')
    return user === null ? signInPage() : cataloguePage(user, progress.get(user.id) ?? {})
  })

  app.post<{ Body: { user?: string } }>('/signin', async (request, reply) => {
    const id = request.body?.user
    if (typeof id !== 'string' || !Object.hasOwn(users, id)) return reply.code(400).send('Unknown user')
    reply.setCookie(SESSION, id, { signed: true, path: '/', httpOnly: true, sameSite: 'lax' })
    return reply.redirect('/', 303)
  })

  app.post('/signout', async (request, reply) => {
    const user = currentUser(request)
    if (user !== null) {
      // Clear the cookies of every course the user may hold, and drop their cached sets. The cookies
      // a browser still holds stay valid at CloudFront until they expire: keep the ttl short.
      for (const course of Object.values(courses).filter((c) => c.owner === user.id)) await reply.cloudfront.revoke(course.prefix)
      log(`app   ${user.name} signed out: course cookies cleared`)
    }
    reply.clearCookie(SESSION, { path: '/' })
    return reply.redirect('/', 303)
  })

  // The header's account line asks this when its page comes back into view (public/account.js).
  app.get('/session', async (request, reply) => {
    const user = currentUser(request)
    reply.header('cache-control', 'no-store')
    return { user: user === null ? null : { id: user.id, name: user.name } }
  })

  // The course page. Its route config grants the course's folder at the edge: the plugin fills in
  // :courseId (after checking it is a safe path segment), asks `authorize`, then attaches the
  // cookie set to this response, with Path=/courses/<courseId>/.
  app.get<{ Params: { courseId: string } }>('/courses/:courseId', {
    config: { cloudfront: { resource: '/courses/:courseId/*' } }
  }, async (request, reply) => {
    const user = currentUser(request)
    if (user === null) return reply.redirect('/', 303)
    const course = findCourse(request.params.courseId)
    reply.type('text/html; charset=utf-8')
    if (course === undefined) return reply.code(404).send(notFoundPage(user))
    return coursePage(user, course, options.edgeUrl)
  })

  // The player's progress report (the audiobook keep-alive pattern): saves the position and renews
  // the grant. The response says when the grant ends (cloudfront-grant-expires), which the player
  // uses to schedule its next report.
  app.post<{ Params: { courseId: string }, Body: { position?: number } }>('/courses/:courseId/progress', async (request, reply) => {
    const user = currentUser(request)
    if (user === null) return reply.code(401).send({ error: 'Sign in first' })
    const course = findCourse(request.params.courseId)
    if (course === undefined || !owns(user.id, course.id)) return reply.code(403).send({ error: 'Not your course' })
    const position = Number(request.body?.position)
    if (Number.isFinite(position) && position >= 0) {
      const mine = progress.get(user.id) ?? {}
      mine[course.id] = position
      progress.set(user.id, mine)
    }
    // Served from the plugin's cache while the set has more than refreshBefore left; signed anew after.
    const grant = await reply.cloudfront.grant(course.prefix)
    return { position, expires: grant?.expires ?? null }
  })

  // When the player fails, the page asks the app why, in plain words.
  await app.register(whyRoutes, { edgeUrl: options.edgeUrl, keyPairId: options.keyPairId, privateKey: options.privateKey, now: options.now ?? Date.now, currentUser })

  for (const [url, script] of scripts) {
    app.get(url, (_request, reply) => {
      reply.type('text/javascript; charset=utf-8').send(script)
    })
  }
  // hls.js from node_modules, served by the app itself: nothing comes from a CDN.
  app.get('/vendor/hls.min.js', (_request, reply) => {
    reply.type('text/javascript; charset=utf-8').send(hlsScript)
  })
  app.get<{ Params: { file: string } }>('/vendor/fastify-cloudfront-cookies/client/:file', (request, reply) => {
    const file = clientFiles.get(request.params.file)
    if (file === undefined) return reply.code(404).send('Not found')
    return reply.type('text/javascript; charset=utf-8').send(file)
  })

  return app
}
