// A mirrored playlist goes through the same pipeline as a cookie grant: every refusal on the
// playlist path reaches onDecision with the same reason and prefix as on the cookie path.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createGrantServices } from '../../../src/core/grants/compose.js'
import type { GrantDecision, GrantOptions } from '../../../src/core/grants/types.js'
import { rsaKey } from '../../helpers/keys.js'
import { DISTRIBUTION } from '../../helpers/cookies.js'
import { tempDir } from '../../edge/helpers.js'

interface Req { user?: string }

const root = tempDir(t, 'cf-playlist-decisions-')
mkdirSync(join(root, 'courses', '42'), { recursive: true })
writeFileSync(join(root, 'courses', '42', 'a.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n')

function build (overrides: Partial<GrantOptions<Req>> = {}): { decisions: GrantDecision[], services: ReturnType<typeof createGrantServices<Req>> } {
  const decisions: GrantDecision[] = []
  const services = createGrantServices<Req>({
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    distribution: DISTRIBUTION,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', ipBound: true }],
    getUser: (req) => req.user,
    authorize: (req) => req.user !== 'stranger',
    playlists: { prefix: '/hls', origin: { root } },
    onDecision: (decision) => { decisions.push(decision) },
    ...overrides
  })
  return { decisions, services }
}

const serve = async (services: ReturnType<typeof createGrantServices<Req>>, user: string | undefined, ip: string): Promise<string> => {
  const playlists = services.playlists
  if (playlists === null) throw new Error('no mirror')
  try {
    const res = await playlists.serve({ user }, { cookieHeader: undefined, ip }, '/hls/courses/42/a.m3u8', undefined)
    return res.body.toString().includes('Signature=') ? 'signed' : 'unsigned'
  } catch (err) {
    return (err as { code: string }).code
  }
}

t.test('an IPv6 client of an IP-bound grant is refused, counted and reported', async (t) => {
  const { decisions, services } = build()
  t.equal(await serve(services, 'alice', '203.0.113.7'), 'signed', 'an IPv4 client gets the playlist')
  t.strictSame(decisions, [], 'and nothing is reported')
  t.equal(await serve(services, 'alice', '2001:db8::1'), 'FST_ERR_CF_PLAYLIST_FORBIDDEN')
  t.strictSame(decisions, [{ reason: 'ipv6-refused', prefix: '/courses/42/' }])
  t.equal(services.engine.stats().refused, 1)
})

t.test('with ipv6: unbound, the IPv6 client gets an unbound playlist and nothing is reported', async (t) => {
  const { decisions, services } = build({ ipv6: 'unbound' })
  t.equal(await serve(services, 'alice', '2001:db8::1'), 'signed')
  t.strictSame(decisions, [])
})

t.test('no user and not authorised: reported as on the cookie path', async (t) => {
  const { decisions, services } = build()
  t.equal(await serve(services, undefined, '203.0.113.7'), 'FST_ERR_CF_PLAYLIST_NO_USER')
  t.equal(await serve(services, 'stranger', '203.0.113.7'), 'FST_ERR_CF_PLAYLIST_FORBIDDEN')
  t.strictSame(decisions, [{ reason: 'no-user', prefix: '/courses/42/' }, { reason: 'not-authorized', prefix: '/courses/42/' }])
  t.equal(services.engine.stats().refused, 1, 'a refusal counted once; nobody signed in is no refusal')
})

t.test('a bad playlists option is named as the app wrote it', async (t) => {
  for (const prefix of ['hls', '/hls/', '/a/../hls', 42]) {
    t.throws(() => build({ playlists: { prefix, origin: { root } } as never }),
      { code: 'FST_ERR_CF_INVALID_OPTION', message: /playlists\.prefix/ }, String(prefix))
  }
  t.throws(() => build({ playlists: { prefix: '/hls', origin: { root }, maxUris: 0 } }), { message: /playlists\.maxUris/ })
  t.doesNotThrow(() => build({ playlists: { prefix: '/media/hls', origin: { root } } }), 'a valid prefix (the check can pass)')
})
