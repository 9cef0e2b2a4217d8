// The mirror in variables mode on every host: the signed query once, in an EXT-X-DEFINE, each
// signed URI referencing it; the substituted URLs are the grant; compression; a clashing source.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import Fastify from 'fastify'
import fastifyCloudfrontCookies, { createVerifier } from '../../src/index.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'
import { tempDir } from '../edge/helpers.js'
import { playlistHosts, playlistOptions, type AppOptions } from './apps.js'

const root = tempDir(t, 'cf-vars-')
mkdirSync(join(root, 'courses', '42', 'hd'), { recursive: true })
let long = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n'
for (let i = 0; i < 1000; i++) long += `#EXTINF:2.000000,\nseg-${String(i).padStart(4, '0')}.ts\n`
long += '#EXT-X-ENDLIST\n'
writeFileSync(join(root, 'courses', '42', 'hd', 'long.m3u8'), long)
writeFileSync(join(root, 'courses', '42', 'hd', 'clash.m3u8'), '#EXTM3U\n#EXT-X-DEFINE:NAME="cfq",VALUE="1"\n#EXTINF:4,\na.ts\n')
writeFileSync(join(root, 'courses', '42', 'hd', 'clash-base.m3u8'), '#EXTM3U\n#EXT-X-DEFINE:NAME="cfqb",VALUE="1"\n#EXTINF:4,\na.ts\n')
writeFileSync(join(root, 'courses', '42', 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhd/long.m3u8\n')

/** Replaces each {$name} in a URI as a player does, from EXT-X-DEFINE lines. */
function substitute (uri: string, defines: string[]): string {
  const values = new Map(defines.map((d) => {
    const m = /^#EXT-X-DEFINE:NAME="([^"]+)",VALUE="([^"]*)"$/.exec(d) as RegExpExecArray
    return [m[1] as string, m[2] as string]
  }))
  return uri.replace(/\{\$([A-Za-z0-9_-]+)\}/g, (_, name: string) => values.get(name) as string)
}

const verifier = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey }, cacheSize: 0 })
const BR = { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } }

const options = (playlists: Record<string, unknown> = {}): AppOptions => playlistOptions(root, { variables: true, ...playlists })

for (const host of playlistHosts) {
  t.test(host.name, async (t) => {
    t.test('two EXT-X-DEFINEs, version 8, references on every segment; the substituted URLs are the grant', async (t) => {
      const app = await host.start(options())
      t.teardown(() => app.close())
      const res = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice' })
      t.equal(res.status, 200)
      const lines = res.body.toString().split('\n')
      t.equal(lines[0], '#EXTM3U')
      // seg-0000.ts to seg-0999.ts: all start with "seg-0".
      t.equal(lines[1], `#EXT-X-DEFINE:NAME="cfqb",VALUE="${DISTRIBUTION}/courses/42/hd/seg-0"`, 'what every signed URL starts with')
      const define = /^#EXT-X-DEFINE:NAME="cfq",VALUE="\.ts\?([^"]+)"$/.exec(lines[2] as string)
      t.ok(define, 'the query, after what every signed URL ends with')
      t.equal(lines[3], '#EXT-X-VERSION:8')
      const query = (define as RegExpExecArray)[1] as string
      t.match(query, /^Policy=[^&]+&Signature=[^&]+&Key-Pair-Id=/)
      const segments = lines.filter((l) => l.startsWith('{$cfqb}'))
      t.equal(segments.length, 1000)
      t.ok(segments.every((l, i) => l === `{$cfqb}${String(i).padStart(3, '0')}{$cfq}`))
      const expected = long.replace('#EXT-X-VERSION:3', '#EXT-X-VERSION:8').replace(/^seg-0(\d+)\.ts$/gm, '{$cfqb}$1{$cfq}')
      t.equal(lines.filter((_, i) => i !== 1 && i !== 2).join('\n'), expected, 'every other byte as in the default mode')
      // What a player does: each reference replaced by its VALUE.
      const url = substitute(segments[7] as string, lines.slice(1, 3))
      t.equal(url, `${DISTRIBUTION}/courses/42/hd/seg-0007.ts?${query}`)
      const verdict = verifier.verify({ url, cookieHeader: undefined, clientIp: undefined })
      t.ok(verdict.ok, 'the substituted URL is one CloudFront accepts')
      if (verdict.ok) t.equal(verdict.policy.resource, `${DISTRIBUTION}/courses/42/*`)
      t.equal(Number(res.headers['cloudfront-grant-expires']) > 0, true)
      const master = await app.get('/hls/courses/42/master.m3u8', { 'x-user': 'alice' })
      t.equal(master.body.toString(), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/hls/courses/42/hd/long.m3u8\n', 'a master playlist as in the default mode')
    })

    t.test('compressed: smaller than the default mode with the same encoder', async (t) => {
      const app = await host.start(options())
      t.teardown(() => app.close())
      const plainApp = await host.start(options({ variables: false }))
      t.teardown(() => plainApp.close())
      const br = await app.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice', 'accept-encoding': 'br' })
      const every = await plainApp.get('/hls/courses/42/hd/long.m3u8', { 'x-user': 'alice', 'accept-encoding': 'br' })
      t.equal(br.headers['content-encoding'], 'br')
      t.match(brotliDecompressSync(br.body).toString(), /#EXT-X-DEFINE/)
      t.notMatch(brotliDecompressSync(every.body).toString(), /#EXT-X-DEFINE/)
      // Variables-mode bodies at brotli quality 10, the default mode's at 5 (compress.ts): the same bytes again.
      const Q10 = { params: { ...BR.params, [constants.BROTLI_PARAM_QUALITY]: 10 } }
      t.equal(br.body.length, brotliCompressSync(brotliDecompressSync(br.body), Q10).length, 'variables mode: quality 10')
      t.equal(every.body.length, brotliCompressSync(brotliDecompressSync(every.body), BR).length, 'default mode: quality 5')
      const unsigned = brotliCompressSync(long, BR).length
      t.ok(br.body.length < every.body.length - 200, `br ${br.body.length} bytes (${(br.body.length / unsigned).toFixed(2)}x unsigned ${unsigned}), ` +
        `the query on every line ${every.body.length} (${(every.body.length / unsigned).toFixed(2)}x)`)
    })

    t.test('a source that already defines the name: 502; another name serves it', async (t) => {
      const app = await host.start(options())
      t.teardown(() => app.close())
      const res = await app.get('/hls/courses/42/hd/clash.m3u8', { 'x-user': 'alice' })
      t.equal(res.status, 502)
      t.equal(JSON.parse(res.body.toString()).code, 'FST_ERR_CF_INVALID_PLAYLIST')
      const other = await host.start(options({ variables: 'sig' }))
      t.teardown(() => other.close())
      const ok = await other.get('/hls/courses/42/hd/clash.m3u8', { 'x-user': 'alice' })
      t.equal(ok.status, 200)
      t.match(ok.body.toString(), /^#EXTM3U\n#EXT-X-DEFINE:NAME="sigb",VALUE="https:\/\/\S+\/courses\/42\/hd\/a\.ts\?"\n#EXT-X-DEFINE:NAME="sig",VALUE="Policy=[^"]+"\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="cfq",VALUE="1"\n#EXTINF:4,\n\{\$sigb\}\{\$sig\}\n$/)
      // The base variable's name ("cfq" + "b") clashes too.
      t.equal((await app.get('/hls/courses/42/hd/clash-base.m3u8', { 'x-user': 'alice' })).status, 502)
    })
  })
}

t.test('playlists.variables is checked at registration, on both adapters', async (t) => {
  for (const variables of ['a b', 7]) {
    const playlists = { prefix: '/hls', origin: { root }, variables }
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(fastifyCloudfrontCookies, { ...options(), playlists } as never)
      await app.ready()
    }, { message: /playlists\.variables/ })
    await app.close()
    t.throws(() => expressCloudfrontCookies({ ...options(), playlists } as never), { message: /playlists\.variables/ })
  }
})
