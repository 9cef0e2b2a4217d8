// Compiled by `npm run typecheck` (part of `npm test`): each @ts-expect-error must be an error,
// and everything else must type-check, so the public types are tested both ways.
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { type FastifyCloudfrontCookiesOptions, type GrantResult, type GrantStats } from '../../src/index.js'

const app = Fastify()

const opts: FastifyCloudfrontCookiesOptions = {
  keyPairId: 'K2JCJMDEHXQW5F',
  privateKey: '-----BEGIN PRIVATE KEY-----...',
  distribution: 'https://media.example.com',
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', ttl: '10m', ipBound: false }],
  getUser: (request) => request.headers['x-user'] as string | undefined,
  authorize: async (request, params, prefix) => params.courseId === '42' && prefix.startsWith('/courses/'),
  cookie: { domain: 'example.com', sameSite: 'Lax' },
  cache: { max: 1000, maxBytes: 1_000_000 },
  statuses: [200, 204]
}
export const registered = app.register(fastifyCloudfrontCookies, opts)

// @ts-expect-error getUser is required
export const noUser: FastifyCloudfrontCookiesOptions = { distribution: 'https://media.example.com' }

// Every signed-in user may have every course: said in so many words, globally or on a rule.
export const anyUser: FastifyCloudfrontCookiesOptions = { ...opts, authorize: 'any-signed-in-user' }
export const anyUserOnARule: FastifyCloudfrontCookiesOptions = { ...opts, authorize: undefined, rules: [{ match: '/free/:id/*', resource: '/free/:id/*', authorize: 'any-signed-in-user' }] }
// @ts-expect-error the opt-in is one exact string
export const anyone: FastifyCloudfrontCookiesOptions = { ...opts, authorize: 'anyone' }

// @ts-expect-error sameSite takes the cookie spelling
export const badSameSite: FastifyCloudfrontCookiesOptions = { ...opts, cookie: { sameSite: 'lax' } }

app.get('/api/:bookId', { config: { cloudfront: { resource: '/audiobooks/:bookId/*', ttl: 120 } } }, async (request, reply) => {
  const grant: GrantResult | null = await reply.cloudfront.grant('/audiobooks/1/', { ttl: '2m' })
  await reply.cloudfront.revoke()
  // @ts-expect-error grant takes a prefix string
  await reply.cloudfront.grant(42)
  if (grant !== null) {
    const summary: { prefix: string, expires: number } = grant.toJSON()
    const forPlayer: string[] = [grant.signedQuery(), grant.cookieHeader(), summary.prefix]
    // @ts-expect-error the signed values are asked for by name, never read as properties
    const query: string = grant.query
    return [forPlayer, query]
  }
  return grant
})
app.get('/health', { config: { cloudfront: false } }, async () => 'ok')
// @ts-expect-error route config needs a resource
app.get('/bad', { config: { cloudfront: { ttl: 60 } } }, async () => 'ok')

export async function decorators (): Promise<unknown[]> {
  const url: string = await app.cloudfront.signUrl('https://media.example.com/a.mp4', { expiresIn: '5m' })
  const cookies = await app.cloudfront.signCookies('https://media.example.com/courses/1/*', { expires: new Date() })
  const sig: string = cookies['CloudFront-Signature']
  const stats: GrantStats = app.cloudfront.stats()
  app.cloudfront.rotate('K2')
  const active: string = app.cloudfront.activeKeyPairId
  // @ts-expect-error expiresIn is seconds or a duration string
  await app.cloudfront.signUrl('https://media.example.com/a.mp4', { expiresIn: true })
  return [url, sig, stats, active]
}
