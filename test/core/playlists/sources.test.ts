// Where source playlists come from (a folder, an HTTP origin, the CDN itself through the local
// edge with the app's own signed URL, a function), the cache of compiled sources (VOD kept, live
// reloaded after its target duration), playlist lifetimes and the encoding negotiation.
import t from 'tap'
import { createServer } from 'node:http'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSigner } from '../../../src/core/signer.js'
import { createEdgeServer } from '../../../src/edge/index.js'
import { compilePlaylist, createLoader, fileFor, negotiateEncoding, playlistLifetime } from '../../../src/core/playlists/index.js'
import { PlaylistSources } from '../../../src/core/playlists/sources.js'
import { listen, rsaKeys, tempDir } from '../../edge/helpers.js'

const VOD = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n'
const keys = rsaKeys()
const signer = createSigner({ keyPairId: 'K1', privateKey: keys.privateKey })
const settings = (distribution = 'https://media.example.com') => ({
  distribution, signUrl: (url: string, o: { expiresIn: number }) => signer.signUrl(url, o), maxBytes: 1000, timeout: 2000
})

t.test('{ root }: files under the folder, and nothing outside it', async (t) => {
  const root = tempDir(t, 'cf-playlists-root-')
  mkdirSync(join(root, 'courses', '42', 'a b'), { recursive: true })
  writeFileSync(join(root, 'courses', '42', 'index.m3u8'), VOD)
  writeFileSync(join(root, 'courses', '42', 'a b', 'x.m3u8'), VOD)
  writeFileSync(join(root, 'courses', '42', 'big.m3u8'), VOD + '#'.repeat(1000))
  writeFileSync(join(root, 'secret.txt'), 'secret')
  const load = createLoader({ root }, settings())
  t.equal(await load('/courses/42/index.m3u8'), VOD)
  t.equal(await load('/courses/42/a%20b/x.m3u8'), VOD, 'segments are percent-decoded, as a file server does')
  t.equal(await load('/courses/42/missing.m3u8'), null)
  t.equal(await load('/courses/42/index.m3u8/x'), null, 'a file is not a folder')
  t.equal(await load('/courses/42'), null, 'a folder is not a playlist')
  for (const hostile of ['/courses/42/../../secret.txt', '/courses/42/%2e%2e/%2e%2e/secret.txt', '/courses/42/..%2F..%2Fsecret.txt',
    '/courses/42/%5c..%5csecret.txt', '/courses//secret.txt', '/courses/42/%00.m3u8', '/courses/42/%zz.m3u8', 'courses/42/index.m3u8', '/']) {
    t.equal(await load(hostile), null, `refused: ${hostile}`)
  }
  t.equal(fileFor(root, '/secret.txt'), join(root, 'secret.txt'), 'inside the root is allowed')
  await t.rejects(load('/courses/42/big.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /larger than 1000 bytes/ })
  symlinkSync('/nonexistent-target', join(root, 'courses', '42', 'dangling.m3u8'))
  t.equal(await load('/courses/42/dangling.m3u8'), null)
  mkdirSync(join(root, 'courses', '42', 'locked.m3u8'))
  t.equal(await load('/courses/42/locked.m3u8'), null)
})

t.test('{ url }: an HTTP origin; the CDN itself is asked with a short-lived signed URL', async (t) => {
  const root = tempDir(t, 'cf-playlists-url-')
  mkdirSync(join(root, 'courses', '42'), { recursive: true })
  writeFileSync(join(root, 'courses', '42', 'index.m3u8'), VOD)
  const edge = await createEdgeServer({ keys: { K1: keys.publicKey }, origin: { root } })
  const edgePort = await listen(edge)
  const seen: string[] = []
  const plain = createServer((req, res) => {
    seen.push(req.url as string)
    if (req.url === '/courses/42/index.m3u8') res.end(VOD)
    else if (req.url === '/courses/42/big.m3u8') res.end('#'.repeat(2000))
    else if (req.url === '/courses/42/chunked.m3u8') { res.write('#'.repeat(600)); res.end('#'.repeat(600)) } else if (req.url === '/courses/42/gone.m3u8') { res.statusCode = 410; res.end() } else if (req.url === '/courses/42/slow.m3u8') setTimeout(() => res.end(VOD), 3000)
    else if (req.url === '/courses/42/moved.m3u8') { res.statusCode = 302; res.setHeader('location', '/courses/42/index.m3u8'); res.end() } else { res.statusCode = req.url === '/courses/42/broken.m3u8' ? 500 : 404; res.end() }
  })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  const plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}`
  t.teardown(async () => {
    await edge.close()
    plain.closeAllConnections()
    await new Promise((resolve) => plain.close(resolve))
  })

  const edgeUrl = `http://127.0.0.1:${edgePort}`
  const cdn = createLoader({ url: edgeUrl }, settings(edgeUrl))
  t.equal(await cdn('/courses/42/index.m3u8'), VOD, 'the edge let the app\'s own signed URL through')
  t.equal(edge.cloudfrontEdge.stats().verifications, 1)
  t.equal(await cdn('/courses/42/missing.m3u8'), null)
  const unsigned = createLoader({ url: edgeUrl + '/' }, settings('https://media.example.com'))
  await t.rejects(unsigned('/courses/42/index.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /answered 403/ }, 'not the CDN: not signed, refused')

  const origin = createLoader({ url: plainUrl }, settings())
  t.equal(await origin('/courses/42/index.m3u8'), VOD)
  t.equal(await origin('/courses/42/nope.m3u8'), null)
  t.equal(await origin('/courses/42/gone.m3u8'), null)
  t.same(seen.slice(0, 1), ['/courses/42/index.m3u8'], 'asked for the CDN path, unsigned')
  await t.rejects(origin('/courses/42/broken.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /answered 500/ })
  await t.rejects(origin('/courses/42/moved.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /request failed/ }, 'redirects are not followed')
  await t.rejects(origin('/courses/42/big.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /larger than/ })
  await t.rejects(origin('/courses/42/chunked.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /larger than/ }, 'without content-length too')
  await t.rejects(origin('/courses/42/slow.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /did not answer in time/ })
})

t.test('{ load }: strings, Buffers, nothing, failures', async (t) => {
  const load = createLoader({
    load: async (p: string) => {
      if (p === '/a.m3u8') return VOD
      if (p === '/b.m3u8') return Buffer.from(VOD)
      if (p === '/c.m3u8') return 42 as unknown as string
      if (p === '/d.m3u8') return '#'.repeat(1001)
      if (p === '/e.m3u8') throw new Error('db down')
      return undefined
    }
  }, settings())
  t.equal(await load('/a.m3u8'), VOD)
  t.equal(await load('/b.m3u8'), VOD)
  t.equal(await load('/z.m3u8'), null)
  await t.rejects(load('/c.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /must return a string/ })
  await t.rejects(load('/d.m3u8'), { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /larger than/ })
  const err = await load('/e.m3u8').catch((e: Error) => e) as Error
  t.match(err, { code: 'FST_ERR_CF_PLAYLIST_ORIGIN', message: /the load function failed/ })
  t.equal((err.cause as Error).message, 'db down', 'the cause is kept')
  t.equal(await createLoader({ load: () => null }, settings())('/a.m3u8'), null, 'a synchronous function too')
})

t.test('origin options are checked', async (t) => {
  const bad = [undefined, null, 'dir', {}, { root: '' }, { root: 1 }, { url: 'ftp://x' }, { url: 'not a url' }, { url: 'https://x/?a=1' },
    { load: 'f' }, { upstream: 'http://x' }, { root: '/a', url: 'http://x' }]
  for (const origin of bad) t.throws(() => createLoader(origin, settings()), { code: 'FST_ERR_CF_INVALID_OPTION', message: /playlists\.origin/ }, JSON.stringify(origin))
})

t.test('the cache of sources: VOD kept, live reloaded after its target duration, loads shared', async (t) => {
  let now = 1_000_000
  const texts: Record<string, string> = {
    '/vod.m3u8': VOD,
    '/live.m3u8': '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n',
    '/bad.m3u8': 'nope'
  }
  let loads = 0
  const sources = new PlaylistSources(async (p) => { loads++; return texts[p] ?? null },
    (playlistPath, text, prefix) => compilePlaylist(text, { playlistPath, distribution: 'https://cdn.example.com', prefix, mirror: '/hls' }),
    { max: 10, maxBytes: 100_000, maxLoads: 4, now: () => now })
  const [a, b] = await Promise.all([sources.get('/vod.m3u8', '/'), sources.get('/vod.m3u8', '/')])
  t.equal(a, b, 'concurrent requests share one load')
  t.equal(loads, 1)
  now += 86_400_000
  t.equal(sources.get('/vod.m3u8', '/'), a, 'a VOD playlist is kept, synchronously')
  const live = await sources.get('/live.m3u8', '/')
  now += 3999
  t.equal(sources.fresh('/live.m3u8'), live, 'live: kept within its target duration')
  now += 1
  t.equal(sources.fresh('/live.m3u8'), undefined, 'and not after')
  texts['/live.m3u8'] += '#EXTINF:4,\nb.ts\n'
  const next = await sources.get('/live.m3u8', '/')
  t.not(next, live)
  t.equal(next.signed, 2, 'reloaded')
  await t.rejects(Promise.resolve(sources.get('/none.m3u8', '/')), { code: 'FST_ERR_CF_PLAYLIST_NOT_FOUND', statusCode: 404 })
  await t.rejects(Promise.resolve(sources.get('/bad.m3u8', '/')), { code: 'FST_ERR_CF_INVALID_PLAYLIST' })
  await t.rejects(Promise.resolve(sources.get('/bad.m3u8', '/')), { code: 'FST_ERR_CF_INVALID_PLAYLIST' }, 'a failure is not kept')
  t.same(sources.stats(), { loads: 6, hits: 2, size: 2 })
})

t.test('playlist lifetimes', async (t) => {
  const rule = { ttl: 900, refreshBefore: 300 }
  const s = { margin: 60, maxTtl: 43200 }
  t.same(playlistLifetime(rule, 0, s), rule, 'nothing to outlive: the rule\'s own (so the cookie grant\'s set is shared)')
  t.same(playlistLifetime(rule, 300, s), { ttl: 900, refreshBefore: 360 }, 'fits the ttl: only refreshBefore grows, so a served set outlives the stream')
  t.same(playlistLifetime(rule, 2000, s), { ttl: 4140, refreshBefore: 2060 }, 'twice (duration + margin), in whole minutes')
  t.equal(playlistLifetime(rule, 1990.5, s).ttl, playlistLifetime(rule, 2000, s).ttl, 'variants a few seconds apart get the same ttl: one set (sets are kept by prefix and ttl)')
  t.same(playlistLifetime(rule, 86400, s), { ttl: 43200, refreshBefore: 21600 }, 'capped by maxTtl')
  t.same(playlistLifetime({ ttl: 86400, refreshBefore: 300 }, 30000, s), { ttl: 86400, refreshBefore: 30060 }, 'never shorter than the rule\'s ttl')
  t.same(playlistLifetime({ ttl: 30, refreshBefore: 10 }, 16, { margin: 60, maxTtl: 60 }), { ttl: 60, refreshBefore: 30 })
})

t.test('encoding negotiation', async (t) => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'identity'], ['', 'identity'], ['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['x-gzip', 'gzip'], ['br;q=0, gzip', 'gzip'],
    ['BR', 'br'], ['*', 'br'], ['*;q=0', 'identity'], ['br;q=0, *', 'gzip'], ['gzip;q=0, *;q=0.5', 'br'], ['deflate', 'identity'],
    ['gzip;q=0', 'identity'], ['identity', 'identity'], ['gzip ; q=0.8, br;q=1.0', 'br'], ['__proto__', 'identity']
  ]
  for (const [header, expected] of cases) t.equal(negotiateEncoding(header), expected, String(header))
})
