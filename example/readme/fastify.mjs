import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyCloudfrontCookies from 'fastify-cloudfront-cookies'

const required = ['CLOUDFRONT_KEY_PAIR_ID', 'CLOUDFRONT_PRIVATE_KEY_PATH', 'CLOUDFRONT_DISTRIBUTION', 'SESSION_SECRET']
const missing = required.filter((name) => !process.env[name])
if (missing.length > 0) {
  console.error(`Set ${missing.join(', ')} first: the key ID CloudFront shows, the private key's file, the CDN's URL, a secret.`)
  process.exit(1)
}
const { CLOUDFRONT_KEY_PAIR_ID, CLOUDFRONT_PRIVATE_KEY_PATH, CLOUDFRONT_DISTRIBUTION, SESSION_SECRET } = process.env

// Your data: who may have which CDN prefix (a course's folder, an audiobook's).
const owners = new Map([['/courses/42/', 'alice'], ['/courses/43/', 'bob'], ['/audiobooks/7/', 'alice']])
const userOf = (request) => {
  const session = request.unsignCookie(request.cookies.session ?? '')
  return session.valid ? session.value : null
}
const mayHave = (request, prefix) => userOf(request) !== null && owners.get(prefix) === userOf(request)

const app = Fastify({ trustProxy: 1 }) // request.ip is what ipBound grants use: trust only your proxies
await app.register(fastifyCookie, { secret: SESSION_SECRET })

await app.register(fastifyCloudfrontCookies, {
  keyPairId: CLOUDFRONT_KEY_PAIR_ID,                       // the public key's ID in CloudFront
  privateKey: readFileSync(CLOUDFRONT_PRIVATE_KEY_PATH),   // parsed once, here
  distribution: CLOUDFRONT_DISTRIBUTION,                   // the CDN, e.g. https://media.example.com (no path)
  // cookie: { domain: 'example.com' },                    // when the app and the CDN share a parent domain
  rules: [
    // A 2xx response from any app route under /courses/<id>/ grants /courses/<id>/* on the CDN
    { match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }
  ],
  getUser: (request) => userOf(request),                   // no user: nothing is issued
  authorize: (request, params, prefix) => mayHave(request, prefix) // asked for every rule and route grant, and (params {}) for grant() prefixes no rule covers
})

// A stand-in for your sign-in: POST /login {"user":"alice"} (no password: replace it with yours)
app.post('/login', async (request, reply) => {
  reply.setCookie('session', String(request.body?.user), { signed: true, path: '/', httpOnly: true, sameSite: 'lax' })
  return { ok: true }
})

// The response carries the course's cookie set, if the user owns the course
app.get('/courses/:courseId/player', async (request) => {
  return { playlist: `${CLOUDFRONT_DISTRIBUTION}/courses/${request.params.courseId}/index.m3u8` }
})

// A route with its own grant and ttl: config.cloudfront (false opts a route out of the rules)
app.get('/api/audiobooks/:bookId/open', {
  config: { cloudfront: { resource: '/audiobooks/:bookId/*', ttl: '30m' } }
}, async (request) => ({ book: request.params.bookId }))

// Keep a long stream alive: the page's keepGrantAlive() posts here before the grant ends
app.post('/courses/:courseId/progress', async (request, reply) => {
  const prefix = `/courses/${request.params.courseId}/`
  if (!mayHave(request, prefix)) return reply.code(userOf(request) === null ? 401 : 403).send({ error: 'Not yours' })
  const grant = await reply.cloudfront.grant(prefix)
  // Only the expiry: the grant also holds the signed query and Cookie value, which HttpOnly keeps from page scripts
  return { expires: grant?.expires ?? null }
})

app.post('/logout', async (request, reply) => {
  await reply.cloudfront.revoke() // clears the cookies, drops the user's cached sets
  reply.clearCookie('session', { path: '/' })
  return { ok: true }
})

// A signed URL for one file
app.get('/api/courses/:courseId/notes', async (request, reply) => {
  if (!mayHave(request, `/courses/${request.params.courseId}/`)) return reply.code(403).send({ error: 'Not yours' })
  const url = `${CLOUDFRONT_DISTRIBUTION}/courses/${request.params.courseId}/notes.pdf`
  return { url: await app.cloudfront.signUrl(url, { expiresIn: '10m' }) }
})

// localhost, not 127.0.0.1: browsers keep cookies per host name, and cookies set on one are never sent to the other
await app.listen({ port: Number(process.env.PORT ?? 3000), host: 'localhost' })
console.log(`Listening on http://localhost:${app.server.address().port}`)
