import { readFileSync } from 'node:fs'
import express from 'express'
import session from 'express-session'
import { expressCloudfrontCookies } from 'fastify-cloudfront-cookies/express'

const required = ['CLOUDFRONT_KEY_PAIR_ID', 'CLOUDFRONT_PRIVATE_KEY_PATH', 'CLOUDFRONT_DISTRIBUTION', 'SESSION_SECRET']
const missing = required.filter((name) => !process.env[name])
if (missing.length > 0) {
  console.error(`Set ${missing.join(', ')} first: the key ID CloudFront shows, the private key's file, the CDN's URL, a secret.`)
  process.exit(1)
}
const { CLOUDFRONT_KEY_PAIR_ID, CLOUDFRONT_PRIVATE_KEY_PATH, CLOUDFRONT_DISTRIBUTION, SESSION_SECRET } = process.env

// Your data: who may have which CDN prefix (a course's folder, an audiobook's).
const owners = new Map([['/courses/42/', 'alice'], ['/courses/43/', 'bob'], ['/audiobooks/7/', 'alice']])
const mayHave = (req, prefix) => req.session.userId !== undefined && owners.get(prefix) === req.session.userId

const app = express()
app.set('trust proxy', 1) // req.ip is what ipBound grants use: trust only your proxies
app.use(express.json())
// First whatever getUser reads (the session, passport, a JWT check...), then the middleware
app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }))

const cloudfront = expressCloudfrontCookies({   // options are checked here: a bad one throws a coded error
  keyPairId: CLOUDFRONT_KEY_PAIR_ID,
  privateKey: readFileSync(CLOUDFRONT_PRIVATE_KEY_PATH),
  distribution: CLOUDFRONT_DISTRIBUTION,
  // cookie: { domain: 'example.com' },         // when the app and the CDN share a parent domain
  rules: [
    { match: '/courses/:courseId/*', resource: '/courses/:courseId/*' },
    { match: '/api/audiobooks/:bookId/*', resource: '/audiobooks/:bookId/*', ttl: '30m' }
  ],
  getUser: (req) => req.session.userId,
  authorize: (req, params, prefix) => mayHave(req, prefix) // asked for every rule's grant
})
app.use(cloudfront)

// A stand-in for your sign-in: POST /login {"user":"alice"} (no password: replace it with yours)
app.post('/login', (req, res) => {
  req.session.userId = String(req.body?.user)
  res.json({ ok: true })
})

// Matches the rule: a 2xx response carries the course's cookie set, if the user owns the course
app.get('/courses/:courseId/player', (req, res) => {
  res.json({ playlist: `${CLOUDFRONT_DISTRIBUTION}/courses/${req.params.courseId}/index.m3u8` })
})

app.get('/api/audiobooks/:bookId/open', (req, res) => {
  res.json({ book: req.params.bookId })
})

// Keep a long stream alive: the page's keepGrantAlive() posts here before the grant ends. Await grant().
app.post('/courses/:courseId/progress', async (req, res) => {
  const prefix = `/courses/${req.params.courseId}/`
  if (!mayHave(req, prefix)) return res.status(req.session.userId === undefined ? 401 : 403).json({ error: 'Not yours' })
  const grant = await req.cloudfront.grant(prefix)
  // Only the expiry: the grant also holds the signed query and Cookie value, which HttpOnly keeps from page scripts
  res.json({ expires: grant?.expires ?? null })
})

// Clears the cookies in the browser and drops the user's cached sets. Await revoke().
app.post('/logout', async (req, res) => {
  await req.cloudfront.revoke()
  req.session.destroy(() => res.json({ ok: true }))
})

// A signed URL for one file
app.get('/api/courses/:courseId/notes', async (req, res) => {
  if (!mayHave(req, `/courses/${req.params.courseId}/`)) return res.status(403).json({ error: 'Not yours' })
  const url = `${CLOUDFRONT_DISTRIBUTION}/courses/${req.params.courseId}/notes.pdf`
  res.json({ url: await cloudfront.signUrl(url, { expiresIn: '10m' }) })
})

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`Listening on http://localhost:${server.address().port}`)
})
