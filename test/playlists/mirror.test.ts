// The mirror's responses on every host: headers, compression and bytes on the wire, lifetimes
// and their refresh, live playlists reloaded, URIs out of the grant, the signed query and Cookie
// header that grant() hands to native apps, and the options.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { createVerifier } from '../../src/index.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'
import { manualClock } from '../behaviour/options.js'
import { tempDir } from '../edge/helpers.js'
import { fastifyHost, playlistHosts, playlistOptions, type AppOptions } from './apps.js'

const root = tempDir(t, 'cf-mirror-')
mkdirSync(join(root, 'courses', '42', 'hd'), { recursive: true })
mkdirSync(join(root, 'courses', '43'), { recursive: true })
const SEGMENTS = 1000
let long = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n'
for (let i = 0; i < SEGMENTS; i++) long += `#EXTINF:2.000000,\nseg-${String(i).padStart(4, '0')}.ts\n`
long += '#EXT-X-ENDLIST\n'
const SHORT = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n'
writeFileSync(join(root, 'courses', '42', 'hd', 'long.m3u8'), long)
writeFileSync(join(root, 'courses', '42', 'hd', 'short.m3u8'), SHORT)
writeFileSync(join(root, 'courses', '42', 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhd/short.m3u8\n')
writeFileSync(join(root, 'courses', '42', 'out.m3u8'), '#EXTM3U\n#EXTINF:4,\n../43/a.ts\n#EXTINF:4,\nb.ts\n')
writeFileSync(join(root, 'courses', '42', 'broken.m3u8'), '#EXTM3U\n#EXT-X-MAP:URI="init\n')

const verifier = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey }, cacheSize: 0 })

const options = (overrides: Partial<AppOptions> = {}, playlists: Record<string, unknown> = {}): AppOptions => playlistOptions(root, playlists, overrides)

const signedLines = (body: string): string[] => body.split('\n').filter((l) => l.startsWith('https://'))

for (const host of playlistHosts) {
  t.test(host.name, async (t) => {
    t.test('headers: the playlist type, private and never stored, the grant\'s expiry; no cookies', async (t) => {
      const clock = manualClock()
      const app = await host.start(options({ now: clock.now }))
      t.teardown(() => app.close())
      const res = await app.get('/hls/courses/42/hd/short.m3u8', { 'x-user': 'alice' })
      t.equal(res.status, 200)
      t.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl')
      t.equal(res.headers['cache-control'], 'private, no-store')
      t.equal(res.headers['set-cookie'], undefined, 'cookie-less: the query is the grant')
      const expires = Number(res.headers['cloudfront-grant-expires'])
      t.equal(expires, clock.now() / 1000 + 900, 'a short playlist: the rule\'s ttl (15 minutes)')
      const lines = signedLines(res.body.toString())
      t.equal(lines.length, 2)
      for (const line of lines) {
        const verdict = verifier.verify({ url: line, cookieHeader: undefined, clientIp: undefined })
        t.ok(verdict.ok, 'a signed URL CloudFront accepts')
        if (verdict.ok) t.equal(verdict.policy.resource, `${DISTRIBUTION}/courses/42/*`, 'one custom policy for the prefix')
      }
      const head = await app.get('/hls/courses/42/hd/short.m3u8', { 'x-user': 'alice' }, 'HEAD')
      t.equal(head.status, 200)
      t.equal(head.body.length, 0)
      const master = await app.get('/hls/courses/42/master.m3u8', { 'x-user': 'alice' })
      t.equal(master.body.toString(), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/hls/courses/42/hd/short.m3u8\n', 'variants stay on the mirror')
      t.equal(master.headers['cloudfront-grant-expires'], undefined, 'a master playlist signs nothing')
    })

    t.test('compression: br or gzip when accepted, bytes on the wire measured', async (t) => {
      const app = await host.start(options())
      t.teardown(() => app.close())
      const plain = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice' })
      const br = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice', 'accept-encoding': 'gzip, deflate, br' })
      const gz = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice', 'accept-encoding': 'gzip' })
      t.equal(plain.headers['content-encoding'], undefined)
      t.equal(br.headers['content-encoding'], 'br')
      t.equal(gz.headers['content-encoding'], 'gzip')
      t.equal(br.headers.vary, 'accept-encoding')
      t.same(brotliDecompressSync(br.body), plain.body)
      t.same(gunzipSync(gz.body), plain.body)
      const unsignedGzip = gzipSync(long).length
      t.ok(plain.body.length > long.length * 10, `the signed playlist: ${plain.body.length} bytes (${long.length} unsigned)`)
      t.ok(br.body.length < unsignedGzip * 1.5, `br ${br.body.length} bytes, the unsigned file gzipped ${unsignedGzip}`)
      t.ok(gz.body.length < plain.body.length / 50, `gzip ${gz.body.length} bytes`)
      t.equal(Number(br.headers['content-length']), br.body.length)
      const small = await app.get('/hls/courses/42/master.m3u8', { 'x-user': 'alice', 'accept-encoding': 'br' })
      t.equal(small.headers['content-encoding'], undefined, 'a small playlist is sent as it is')
      const before = app.stats().signatures
      await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice', 'accept-encoding': 'br' })
      t.equal(app.stats().signatures, before)
    })

    t.test('a long playlist\'s grant outlives it: twice (duration + margin), reused until only that much is left', async (t) => {
      const clock = manualClock()
      const app = await host.start(options({ now: clock.now }))
      t.teardown(() => app.close())
      const start = clock.now() / 1000
      const first = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice' })
      const expires = Number(first.headers['cloudfront-grant-expires'])
      t.equal(expires - start, 4140, '2 × (2,000 s + 60 s), in whole minutes')
      const verdict = verifier.verify({ url: signedLines(first.body.toString())[0] as string, cookieHeader: undefined, clientIp: undefined })
      t.ok(verdict.ok && verdict.policy.expires === expires)
      clock.advance(4140 - 2061)
      const same = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice' })
      t.equal(Number(same.headers['cloudfront-grant-expires']), expires, 'more than duration + margin left: the same set')
      t.equal(app.stats().signatures, 1)
      clock.advance(2)
      const next = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice' })
      t.ok(Number(next.headers['cloudfront-grant-expires']) > expires, 'less left than the stream lasts: a new set')
      t.equal(app.stats().signatures, 2)
    })

    t.test('a URI out of the granted prefix: refused by default (502), kept unsigned with outside: keep', async (t) => {
      const strict = await host.start(options())
      t.teardown(() => strict.close())
      const refused = await strict.get('/hls/courses/42/out.m3u8', { 'x-user': 'alice' })
      t.equal(refused.status, 502)
      t.equal(JSON.parse(refused.body.toString()).code, 'FST_ERR_CF_PLAYLIST_OUTSIDE')
      const broken = await strict.get('/hls/courses/42/broken.m3u8', { 'x-user': 'alice' })
      t.equal(broken.status, 502)
      t.equal(JSON.parse(broken.body.toString()).code, 'FST_ERR_CF_INVALID_PLAYLIST')
      const lenient = await host.start(options({}, { outside: 'keep' }))
      t.teardown(() => lenient.close())
      const kept = await lenient.get('/hls/courses/42/out.m3u8', { 'x-user': 'alice' })
      t.equal(kept.status, 200)
      const lines = kept.body.toString().split('\n')
      t.equal(lines[2], `${DISTRIBUTION}/courses/43/a.ts`, 'unsigned')
      t.match(lines[4], /^https:\/\/media\.example\.com\/courses\/42\/b\.ts\?Policy=/)
    })

    t.test('a live playlist is loaded again once its target duration has passed', async (t) => {
      const clock = manualClock()
      let text = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n'
      let loads = 0
      const app = await host.start(options({ now: clock.now }, { origin: { load: async () => { loads++; return text } } }))
      t.teardown(() => app.close())
      const a = await app.get('/hls/courses/42/live.m3u8', { 'x-user': 'alice' })
      text += '#EXTINF:4,\nb.ts\n'
      clock.advance(3)
      const b = await app.get('/hls/courses/42/live.m3u8', { 'x-user': 'alice' })
      t.equal(b.body.toString(), a.body.toString(), 'within the target duration: the same')
      clock.advance(1)
      const c = await app.get('/hls/courses/42/live.m3u8', { 'x-user': 'alice' })
      t.equal(signedLines(c.body.toString()).length, 2, 'then reloaded')
      t.equal(loads, 2)
    })

    t.test('an IP-bound rule: the playlist\'s query is bound to the client\'s address', async (t) => {
      const app = await host.start(options({ rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', ipBound: true }] }))
      t.teardown(() => app.close())
      const res = await app.get('/hls/courses/42/hd/short.m3u8', { 'x-user': 'alice' })
      const line = signedLines(res.body.toString())[0] as string
      const verdict = verifier.verify({ url: line, cookieHeader: undefined, clientIp: '127.0.0.1' })
      t.ok(verdict.ok && verdict.policy.ipAddress === '127.0.0.1/32', 'bound to 127.0.0.1')
      t.notOk(verifier.verify({ url: line, cookieHeader: undefined, clientIp: '203.0.113.9' }).ok, 'refused from elsewhere')
    })

    t.test('grant() also carries the signed query and the Cookie header for the prefix', async (t) => {
      const clock = manualClock()
      const app = await host.start(options({ now: clock.now }))
      t.teardown(() => app.close())
      const res = await app.get('/api/courses/42/stream', { 'x-user': 'alice' })
      const grant = JSON.parse(res.body.toString()) as { prefix: string, expires: number, query: string, cookie: string }
      t.equal(grant.prefix, '/courses/42/')
      t.match(grant.query, /^Policy=[A-Za-z0-9_~-]+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=/)
      t.match(grant.cookie, /^CloudFront-Policy=[^;]+; CloudFront-Signature=[^;]+; CloudFront-Key-Pair-Id=[^;]+$/)
      const url = `${DISTRIBUTION}/courses/42/any/file.ts`
      t.ok(verifier.verify({ url: `${url}?${grant.query}`, cookieHeader: undefined, clientIp: undefined }).ok, 'the query signs any URL of the prefix (ExoPlayer, AVPlayer without cookies)')
      t.ok(verifier.verify({ url, cookieHeader: grant.cookie, clientIp: undefined }).ok, 'the Cookie header opens it too (a native player\'s request headers)')
      const setCookie = res.headers['set-cookie']
      const held = [setCookie].flat().filter((c): c is string => typeof c === 'string').map((c) => c.slice(0, c.indexOf(';'))).join('; ')
      const again = await app.get('/api/courses/42/stream', { 'x-user': 'alice', cookie: held })
      t.equal(again.headers['set-cookie'], undefined, 'the client holds the set: no cookies sent again')
      t.same(JSON.parse(again.body.toString()), grant, 'and the same query and Cookie header all the same')
      const playlist = await app.get('/hls/courses/42/hd/short.m3u8', { 'x-user': 'alice' })
      t.match(playlist.body.toString(), grant.query, 'the mirror\'s query is the cached set\'s')
      t.equal(app.stats().signatures, 1)
    })
  })
}

t.test('past the response keys the mirror remembers (2,048): every answer is still the asked playlist with the user\'s own set', async (t) => {
  const COUNT = 1100
  mkdirSync(join(root, 'courses', '42', 'many'), { recursive: true })
  for (let i = 0; i < COUNT; i++) {
    writeFileSync(join(root, 'courses', '42', 'many', `p${i}.m3u8`), `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-${i}.ts\n#EXT-X-ENDLIST\n`)
  }
  const clock = manualClock()
  const app = await fastifyHost.start(options({ now: clock.now }))
  t.teardown(() => app.close())
  const queryOf = async (user: string): Promise<string> =>
    (JSON.parse((await app.get('/api/courses/42/stream', { 'x-user': user })).body.toString()) as { query: string }).query
  const queries: Record<string, string> = { alice: await queryOf('alice') }
  clock.advance(60)
  queries.bob = await queryOf('bob')
  t.not(queries.alice, queries.bob, 'two sets signed a minute apart')
  let wrong = 0
  const check = async (user: string, i: number): Promise<void> => {
    const body = (await app.get(`/hls/courses/42/many/p${i}.m3u8`, { 'x-user': user })).body.toString()
    if (!body.includes(`${DISTRIBUTION}/courses/42/many/seg-${i}.ts?${queries[user] as string}\n`)) wrong++
  }
  // 2,200 keys: the remembered ones are forgotten once on the way.
  for (let i = 0; i < COUNT; i++) for (const user of ['alice', 'bob']) await check(user, i)
  // Asked again after that: the responses cached before, under keys made anew.
  for (const i of [0, 1, 1023, 1024, COUNT - 1]) for (const user of ['bob', 'alice']) await check(user, i)
  t.equal(wrong, 0, 'each playlist its own segment, signed with the asking user\'s query')
  t.equal(app.stats().signatures, 2)
})

t.test('the playlists option is checked at registration, on both adapters', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['/hls', /playlists/], [{ origin: { root } }, /mirror|prefix/], [{ prefix: 'hls', origin: { root } }, /mirror|prefix/],
    [{ prefix: '/hls/', origin: { root } }, /mirror|prefix/], [{ prefix: '/hls' }, /playlists\.origin/], [{ prefix: '/hls', origin: { url: 'x' } }, /playlists\.origin\.url/],
    [{ prefix: '/hls', origin: { root }, outside: 'allow' }, /playlists\.outside/], [{ prefix: '/hls', origin: { root }, margin: '1ms' }, /playlists\.margin/],
    [{ prefix: '/hls', origin: { root }, cache: { max: 0 } }, /playlists\.cache\.max/], [{ prefix: '/hls', origin: { root }, compress: 'yes' }, /playlists\.compress/]
  ]
  for (const [playlists, message] of bad) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(fastifyCloudfrontCookies, { ...options(), playlists } as never)
      await app.ready()
    }, { message }, `fastify: ${JSON.stringify(playlists)}`)
    await app.close()
    t.throws(() => expressCloudfrontCookies({ ...options(), playlists } as never), { message }, `express: ${JSON.stringify(playlists)}`)
  }
})
