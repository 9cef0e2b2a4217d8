// The app's side of static signed manifests: manifestUrl() hands out the signed URL of a templated
// manifest, without cookies, through the same pipeline as every grant (user, authorize, refusals,
// one cached set per user and prefix), on every host. The URLs are checked as CloudFront checks
// them, for the manifest and for the files the templated query then opens.
import t from 'tap'
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hosts, type HostApp, type HostResponse } from '../behaviour/hosts.js'
import { options, userFromHeader } from '../behaviour/options.js'
import { rsaKey, rsaKey2 } from '../helpers/keys.js'
import { tempDir } from '../edge/helpers.js'
import { createVerifier } from '../../src/core/verifier.js'
import { templateManifests } from '../../src/core/manifests/index.js'
import type { GrantDecision } from '../../src/core/grants/types.js'

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nv/index.m3u8\n'
const MEDIA = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4,\nseg-000.ts\n' +
  '#EXT-X-ENDLIST\n'

const root = tempDir(t, 'cf-manifest-url-')
const published = join(root, 'published')
const otherKey = join(root, 'other-key')
t.before(async () => {
  for (const id of ['42', '43']) {
    mkdirSync(join(root, 'source', 'courses', id, 'v'), { recursive: true })
    writeFileSync(join(root, 'source', 'courses', id, 'master.m3u8'), MASTER)
    writeFileSync(join(root, 'source', 'courses', id, 'v', 'index.m3u8'), MEDIA)
  }
  await templateManifests(join(root, 'source'), published, { keyPairId: rsaKey.keyPairId })
  await templateManifests(join(root, 'source'), otherKey, { keyPairId: rsaKey2.keyPairId })
})

// CloudFront's check, at a time the test sets (milliseconds from now).
let ahead = 0
const verifier = createVerifier({
  keys: { [rsaKey.keyPairId]: rsaKey.publicPem, [rsaKey2.keyPairId]: rsaKey2.publicPem },
  now: () => Date.now() + ahead,
  cacheSize: 0
})
const opens = (url: string, clientIp?: string): boolean => verifier.verify({ url, clientIp }).ok

/** The URI a player requests for a templated URI: the variables replaced by the values of the playlist's own URL. */
function asPlayed (playlistUrl: string, uri: string): string {
  const query = new URLSearchParams(playlistUrl.slice(playlistUrl.indexOf('?') + 1))
  const filled = uri.replace(/\{\$(\w+)\}/g, (m, name: string) => encodeURIComponent(query.get(name) ?? m))
  return new URL(filled, playlistUrl).href
}

/** The one URI line of a published playlist. */
function uriOf (path: string): string {
  const lines = readFileSync(join(published, ...path.split('/')), 'utf8').split('\n')
  return lines.find((l) => l !== '' && !l.startsWith('#')) as string
}

/** The URLs a player requests after the manifest: the media playlist, then its segment. */
function followed (masterUrl: string): { media: string, segment: string } {
  const media = asPlayed(masterUrl, uriOf('courses/42/master.m3u8'))
  return { media, segment: asPlayed(media, uriOf('courses/42/v/index.m3u8')) }
}

const json = (res: HostResponse): { url: string | null, code?: string, message?: string } => JSON.parse(res.body)

function ask (app: HostApp, path: string, headers: Record<string, string> = {}): Promise<HostResponse> {
  return app.request({ method: 'POST', url: '/manifest-url', headers: { 'x-path': path, ...headers } })
}

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const decisions: GrantDecision[] = []
    const app = await host.build(options({
      manifests: { templates: published },
      authorize: (req) => userFromHeader(req) !== 'stranger',
      onDecision: (decision) => { decisions.push(decision) }
    }))
    t.teardown(() => app.close())
    const alice = { 'x-user': 'alice' }
    t.beforeEach(() => { decisions.length = 0 })

    t.test('a signed-in user gets a URL that opens the manifest and what it lists, and no cookie', async (t) => {
      const res = await ask(app, '/courses/42/master.m3u8', alice)
      t.equal(res.status, 200)
      const url = json(res).url as string
      t.ok(url.startsWith('https://media.example.com/courses/42/master.m3u8?Policy='), url)
      t.match(url, /\?Policy=[^&]+&Signature=[^&]+&Key-Pair-Id=K[A-Z0-9]+$/)
      t.equal(res.headers['set-cookie'], undefined, 'no Set-Cookie')
      t.equal(res.headers['cache-control'], 'private, no-store', 'the response is the user\'s alone')
      t.ok(res.headers['cloudfront-grant-expires'], 'the expiry header, as for a grant')
      t.ok(opens(url), 'the manifest')
      const { media, segment } = followed(url)
      t.match(segment, /\/courses\/42\/v\/seg-000\.ts\?Policy=/, 'the templated query filled in')
      t.ok(opens(media), 'the media playlist, with the templated query')
      t.ok(opens(segment), 'a segment under it')
      t.notOk(opens(url.replace('/courses/42/', '/courses/43/')), 'another course with the same query: refused')
      const tampered = url.replace(/Signature=(.)/, (m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`)
      t.notOk(opens(tampered), 'a tampered signature: refused')
      t.strictSame(decisions, [])
    })

    t.test('anonymous: null, nothing signed, reported as no-user', async (t) => {
      const before = app.stats().signatures
      const res = await ask(app, '/courses/45/master.m3u8')
      t.equal(res.status, 200)
      t.equal(json(res).url, null)
      t.notMatch(res.body, /Signature|Policy/)
      t.equal(res.headers['set-cookie'], undefined)
      t.equal(app.stats().signatures, before, 'no signature')
      t.strictSame(decisions, [{ reason: 'no-user', prefix: '/courses/45/' }])
      t.type(json(await ask(app, '/courses/45/master.m3u8', alice)).url, 'string', 'the same path signed in')
      t.equal(app.stats().signatures, before + 1, 'signed (the count can tell)')
    })

    t.test('authorize false: null, reported; the handler\'s own { authorized: true } is a URL', async (t) => {
      const before = app.stats().signatures
      const stranger = { 'x-user': 'stranger' }
      t.equal(json(await ask(app, '/courses/46/master.m3u8', stranger)).url, null)
      t.equal(app.stats().signatures, before, 'no signature')
      t.strictSame(decisions, [{ reason: 'not-authorized', prefix: '/courses/46/' }])
      const authorized = json(await ask(app, '/courses/46/master.m3u8', { ...stranger, 'x-authorized': '1' })).url
      t.ok(opens(authorized as string), 'authorised by the handler')
    })

    t.test('a path outside the covering rule\'s prefix, in any spelling: 400, nothing signed', async (t) => {
      const before = app.stats().signatures
      for (const path of [
        '/books/1/master.m3u8', '/Courses/42/master.m3u8', '/courses/42/../43/master.m3u8',
        '/courses/42/%2e%2e/43/master.m3u8', '/courses/42/%2E%2E%2F43/master.m3u8', '/courses/42/..%5C43/master.m3u8',
        '/courses/4%32/master.m3u8', '//courses/42/master.m3u8', '/courses/42/', '/courses/42',
        '/courses/42/master.m3u8?x=1', '/courses/42/master.m3u8#x', 'courses/42/master.m3u8', '/courses/*/x.m3u8',
        '/courses/42\\..\\43/master.m3u8', ''
      ]) {
        const res = await ask(app, path, alice)
        t.equal(res.status, 400, path)
        t.equal(json(res).code, 'FST_ERR_CF_MANIFEST_PATH', path)
      }
      t.equal(app.stats().signatures, before, 'no signature')
      const url = json(await ask(app, '/courses/43/master.m3u8', alice)).url as string
      t.ok(opens(url), 'another course\'s own path is its URL')
      t.notOk(opens(url.replace('/courses/43/', '/courses/42/')), 'and opens only that course')
    })

    t.test('one cached set per user and prefix, the cookie grant\'s own', async (t) => {
      const first = json(await ask(app, '/courses/47/master.m3u8', alice)).url as string
      const signatures = app.stats().signatures
      const second = json(await ask(app, '/courses/47/v/index.m3u8', alice)).url as string
      t.equal(app.stats().signatures, signatures, 'a second call signs nothing')
      t.equal(second.slice(second.indexOf('?')), first.slice(first.indexOf('?')), 'the same set')
      const cookies = await app.request({ method: 'POST', url: '/progress/47', headers: alice })
      t.ok(cookies.headers['set-cookie'], 'the cookie grant of the prefix')
      t.equal(app.stats().signatures, signatures, 'is the same set')
      await ask(app, '/courses/51/master.m3u8', alice)
      t.equal(app.stats().signatures, signatures + 1, 'another prefix has a set of its own')
    })

    t.test('duration: the URL outlives a 3 h stream; the rule\'s ttl does not', async (t) => {
      const long = json(await ask(app, '/courses/48/master.m3u8', { ...alice, 'x-duration': '10800' })).url as string
      const short = json(await ask(app, '/courses/48/master.m3u8', alice)).url as string
      t.teardown(() => { ahead = 0 })
      ahead = (3 * 3600 + 60) * 1000
      t.ok(opens(long), 'after 3 h: the manifest')
      t.ok(opens(followed(long).segment), 'after 3 h: a segment')
      t.notOk(opens(short), 'without duration the URL lives the rule\'s 15 min')
      ahead = 10 * 60 * 1000
      t.ok(opens(short), 'which it does')
    })

    t.test('an error status carries nothing: reported as for a grant, no expiry header', async (t) => {
      const res = await ask(app, '/courses/49/master.m3u8', { ...alice, 'x-status': '500' })
      t.equal(res.status, 500)
      t.equal(res.headers['cloudfront-grant-expires'], undefined)
      t.equal(res.headers['set-cookie'], undefined)
      t.strictSame(decisions, [{ reason: 'status', prefix: '/courses/49/' }])
      decisions.length = 0
      const ok = await ask(app, '/courses/49/master.m3u8', { ...alice, 'x-status': '201' })
      t.ok(ok.headers['cloudfront-grant-expires'], 'a 201 carries it')
      t.strictSame(decisions, [])
    })

    t.test('a cookie grant and a manifest URL of the same prefix on one response: the cookies are sent', async (t) => {
      const headers = { ...alice, 'x-path': '/courses/50/master.m3u8', 'x-duration': '7200' }
      const res = await ask(app, '/courses/50/master.m3u8', { ...headers, 'x-grant': '/courses/50/' })
      t.ok(opens(json(res).url as string), 'the URL')
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] as string[] | string ?? [])
      t.equal(cookies.filter((c) => c.startsWith('CloudFront-Signature=') && c.includes('Path=/courses/50/')).length, 1,
        'and the grant\'s cookies, not replaced by the URL\'s longer set')
      const alone = await ask(app, '/courses/50/master.m3u8', headers)
      t.equal(alone.headers['set-cookie'], undefined, 'the URL alone sets none')
    })

    t.test('registration', async (t) => {
      const refused = async (manifests: unknown): Promise<Error & { code?: string }> => {
        try {
          const built = await host.build(options({ manifests } as never))
          await built.close()
        } catch (err) {
          return err as Error & { code?: string }
        }
        throw new Error('registered')
      }
      const foreign = await refused({ templates: otherKey })
      t.equal(foreign.code, 'FST_ERR_CF_MANIFEST_KEY', 'a sidecar naming another key')
      t.match(foreign.message, `templated for key ${rsaKey2.keyPairId} (SHA1) and the app signs with ` +
        rsaKey.keyPairId)
      const command = `"cloudfront-cookies manifests template <in-dir> <out-dir> --key-pair-id ${rsaKey.keyPairId}"`
      t.match(foreign.message, command, 'the command that templates them for the app\'s key')
      const missing = await refused({ templates: join(root, 'source') })
      t.equal(missing.code, 'FST_ERR_CF_INVALID_OPTION', 'a folder without a sidecar')
      t.match(missing.message, 'manifests.templates')
      t.match(missing.message, '.cloudfront-manifests.json')
      const typo = await refused({ template: published })
      t.equal(typo.code, 'FST_ERR_CF_INVALID_OPTION')
      t.match(typo.message, 'templates')
      t.equal((await refused('dir')).code, 'FST_ERR_CF_INVALID_OPTION')
      const rotating = await host.build(options({
        keyPairId: undefined,
        privateKey: undefined,
        keys: [{ keyPairId: rsaKey2.keyPairId, privateKey: rsaKey2.privatePem }],
        manifests: { templates: otherKey }
      }))
      t.teardown(() => rotating.close())
      const url = json(await ask(rotating, '/courses/42/master.m3u8', alice)).url as string
      t.ok(opens(url), 'the sidecar of the key: registers')
    })

    t.test('after rotate() to a key the templates do not name: refused with the command', async (t) => {
      const rotating = await host.build(options({
        keyPairId: undefined,
        privateKey: undefined,
        keys: [
          { keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem },
          { keyPairId: rsaKey2.keyPairId, privateKey: rsaKey2.privatePem }
        ],
        manifests: { templates: published }
      }))
      t.teardown(() => rotating.close())
      t.ok(opens(json(await ask(rotating, '/courses/42/master.m3u8', alice)).url as string), 'the templates\' key')
      rotating.rotate(rsaKey2.keyPairId)
      const res = await ask(rotating, '/courses/42/master.m3u8', alice)
      t.equal(res.status, 500)
      t.equal(json(res).code, 'FST_ERR_CF_MANIFEST_KEY')
      t.match(json(res).message, `--key-pair-id ${rsaKey2.keyPairId}`)
      t.notMatch(res.body, /Policy=|Signature=/, 'nothing signed in the error')
    })

    t.test('without the option manifests: a coded error that names it', async (t) => {
      const plain = await host.build(options())
      t.teardown(() => plain.close())
      const res = await ask(plain, '/courses/42/master.m3u8', alice)
      t.equal(res.status, 500)
      t.equal(json(res).code, 'FST_ERR_CF_INVALID_OPTION')
      t.match(json(res).message, 'manifests.templates')
    })

    t.test('ipBound: the URL is bound to the client\'s address', async (t) => {
      const bound = await host.build(options({ manifests: { templates: published }, ipBound: true }))
      t.teardown(() => bound.close())
      const res = await ask(bound, '/courses/42/master.m3u8', { ...alice, 'x-forwarded-for': '203.0.113.7' })
      const url = json(res).url as string
      t.ok(opens(url, '203.0.113.7'), 'from that address')
      t.notOk(opens(url, '203.0.113.8'), 'not from another')
      const v6 = await ask(bound, '/courses/42/master.m3u8', { ...alice, 'x-forwarded-for': '2001:db8::1' })
      t.equal(json(v6).url, null, 'an IPv6 client: refused, as for cookies')
    })
  })
}
