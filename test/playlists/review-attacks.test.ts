// Attacks on the playlist mirror by a playlist's author (the text at the origin) and by a signed-in
// user (the request). The promise checked throughout: the signed query is written only where a
// player, reading the playlist its own way, fetches a URL on the distribution under the granted
// prefix. hls.js is the reference player: `asHlsJs` reads a media playlist the way hls.js 1.7 does
// (its attribute-list regex, last attribute wins, names trimmed, first definition of a name kept,
// quoted values substituted, a URI line counts only after #EXTINF), and one test runs hls.js itself.
import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { rewritePlaylist } from '../../src/core/playlists/rewrite.js'
import { findBrowser } from '../helpers/browser.js'
import { tempDir } from '../edge/helpers.js'
import { fastifyHost, playlistHosts, playlistOptions, rawRequest, serve, startWith, type AppOptions } from './apps.js'

const MEDIA = 'https://media.example.com'
const PREFIX = '/courses/42/'
const QUERY = 'Policy=PPP&Signature=SSS&Key-Pair-Id=KKK'
const CTX = { playlistPath: '/courses/42/v/index.m3u8', distribution: MEDIA, prefix: PREFIX, mirror: '/hls' }

// hls.js 1.7, src/utils/attr-list.ts and src/utils/variable-substitution.ts.
const ATTR_LIST_REGEX = /(.+?)=(".*?"|.*?)(?:,|$)/g
const REFERENCE = /\{\$([a-zA-Z0-9-_]+)\}/g

function substitute (vars: Map<string, string>, value: string): string {
  return value.replace(REFERENCE, (ref, name: string) => vars.get(name) ?? ref)
}

function attributes (input: string, vars: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  ATTR_LIST_REGEX.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = ATTR_LIST_REGEX.exec(input)) !== null) {
    let value = m[2] as string
    const quoted = value.startsWith('"') && value.endsWith('"') && value.length > 1
    if (quoted) value = substitute(vars, value.slice(1, -1))
    out[(m[1] as string).trim()] = value
  }
  return out
}

/** The media URLs hls.js fetches for a media playlist served at `base`: segments, EXT-X-MAP and EXT-X-KEY. */
function asHlsJs (text: string, base: string): string[] {
  const vars = new Map<string, string>()
  const urls: string[] = []
  let duration = false
  const resolveUrl = (u: string): string => {
    try { return new URL(u, base).href } catch { return 'unparsable:' + u }
  }
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#EXT-X-DEFINE:')) {
      const a = attributes(line.slice(14), vars)
      const name = a.NAME ?? ''
      if (!vars.has(name)) vars.set(name, a.VALUE ?? '')
    } else if (line.startsWith('#EXTINF:')) {
      duration = true
    } else if (line.startsWith('#EXT-X-MAP:') || line.startsWith('#EXT-X-KEY:')) {
      const uri = attributes(line.slice(line.indexOf(':') + 1), vars).URI
      if (uri !== undefined) urls.push(resolveUrl(uri))
    } else if (!line.startsWith('#') && line.trim() !== '' && duration) {
      urls.push(resolveUrl(substitute(vars, line.replace(/^ +/, ''))))
    }
  }
  return urls
}

/** The URLs hls.js would send the signed query to that are not under the granted prefix on the distribution. */
function leaks (text: string, base = 'http://app.example/hls/courses/42/v/index.m3u8'): string[] {
  return asHlsJs(text, base).filter((u) => /Signature=/.test(u)).filter((u) => {
    try {
      const url = new URL(u)
      return url.origin !== MEDIA || !url.pathname.startsWith(PREFIX)
    } catch {
      return true
    }
  })
}

function rewrite (text: string, extra: Record<string, unknown> = {}): string {
  return rewritePlaylist(text, { ...CTX, query: QUERY, ...extra })
}

// ---------------------------------------------------------------------------------------------
// Playlists written by the course's author.

const HEAD = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n'
const TAIL = '#EXT-X-ENDLIST\n'
const AUTHORED: Record<string, { text: string, options?: Record<string, unknown> }> = {
  // The mirror reads the first VALUE; hls.js keeps the last attribute of a name.
  'define-two-values': { text: HEAD + '#EXT-X-DEFINE:NAME="h",VALUE="https://media.example.com/courses/42/",VALUE="https://evil.example/"\n#EXTINF:4,\n{$h}a.ts\n' + TAIL },
  // hls.js trims attribute names; the mirror does not see " VALUE" as VALUE.
  'define-spaced-value': { text: HEAD + '#EXT-X-DEFINE:NAME="h",VALUE="https://media.example.com/courses/42/", VALUE="https://evil.example/"\n#EXTINF:4,\n{$h}a.ts\n' + TAIL },
  // Two definitions of a name: the mirror keeps the last, hls.js the first (and reports a non-fatal parsing error).
  'define-twice': { text: HEAD + '#EXT-X-DEFINE:NAME="h",VALUE="https://evil.example/"\n#EXT-X-DEFINE:NAME="h",VALUE="https://media.example.com/courses/42/"\n#EXTINF:4,\n{$h}a.ts\n' + TAIL },
  // Variables mode: the signed URL as written (a reference kept) does not hold the origin, so the
  // factoring takes the start of the "already signed" line above it, across the line break, into
  // cfqb's VALUE: the DEFINE line is cut, and hls.js reads its second (unquoted) VALUE.
  'variables-factoring': {
    text: HEAD + '#EXT-X-DEFINE:NAME="h",VALUE="https://"\n#EXTINF:4,\nhttps://media.example.com/courses/42/x.ts?Policy=1,VALUE=https://evil.example/\n{$h}media.example.com/courses/42/a.ts\n' + TAIL,
    options: { variables: true }
  },
  // The same with outside: 'keep' and a kept line elsewhere.
  'variables-factoring-keep': {
    text: HEAD + '#EXT-X-DEFINE:NAME="h",VALUE="https://"\n#EXTINF:4,\nhttps://media.example.com,VALUE=https://evil.example/x.ts\n{$h}media.example.com/courses/42/a.ts\n' + TAIL,
    options: { variables: true, outside: 'keep' }
  }
}

t.test('authored EXT-X-DEFINEs: the query is written only where hls.js resolves into the prefix', async (t) => {
  for (const [name, { text, options }] of Object.entries(AUTHORED)) {
    let out: string
    try {
      out = rewrite(text, options)
    } catch (err) {
      t.match((err as { code?: string }).code, /^FST_ERR_CF_/, `${name}: refused with a coded error`)
      continue
    }
    t.same(leaks(out), [], `${name}: no signed URL off the prefix\n${out}`)
  }
})

t.test('authored EXT-X-DEFINEs through every host: 502 or a playlist that keeps the query in its prefix', async (t) => {
  for (const host of playlistHosts) {
    for (const variables of [false, true]) {
      const load = (p: string): string | null => AUTHORED[p.slice('/courses/42/'.length, -'.m3u8'.length)]?.text ?? null
      const app = await startWith(host, t, playlistOptions('/nonexistent', { origin: { load }, variables }))
      for (const name of Object.keys(AUTHORED)) {
        if (name.endsWith('-keep')) continue
        const res = await app.get(`/hls/courses/42/${name}.m3u8`, { 'x-user': 'alice' })
        const body = res.body.toString()
        if (res.status !== 200) {
          t.equal(res.status, 502, `${host.name} ${name}: refused`)
          continue
        }
        t.same(leaks(body, app.url + `/hls/courses/42/${name}.m3u8`), [], `${host.name} ${name} (variables ${String(variables)}): no signed URL off the prefix`)
      }
    }
  }
})

// The valid twins: URI spellings that one parser or another reads differently; every signed line
// must land under the prefix for WHATWG and for hls.js.
t.test('URI spellings and variable values: every signed URL is under the prefix (held)', async (t) => {
  const uris = [
    'a.ts', '/courses/42/a.ts', '//media.example.com/courses/42/a.ts', '//evil.example/courses/42/a.ts',
    'https:media.example.com/courses/42/a.ts', 'https:/media.example.com/courses/42/a.ts', 'https:evil.example/a.ts',
    'HTTPS://MEDIA.EXAMPLE.COM/courses/42/a.ts', 'https://media.example.com:443/courses/42/a.ts', 'https://media.example.com:8443/courses/42/a.ts',
    'https://media.example.com@evil.example/courses/42/a.ts', 'https://evil.example#@media.example.com/courses/42/a.ts',
    'https://evil.example?@media.example.com/courses/42/a.ts', 'https://evil.example\\@media.example.com/courses/42/a.ts',
    '\\\\evil.example\\courses\\42\\a.ts', '/\\evil.example/courses/42/a.ts', '\\/evil.example/a.ts', 'https:\\\\evil.example\\a.ts',
    'https://media.example.com%2eevil.example/courses/42/a.ts', 'https://media%2eexample%2ecom/courses/42/a.ts',
    'https://xn--mdia-dma.example.com/courses/42/a.ts', 'https://médïa.example.com/courses/42/a.ts', 'https://ｍｅｄｉａ.example.com/courses/42/a.ts',
    'https://media.example.com./courses/42/a.ts', 'https://0x7f.1/courses/42/a.ts', '../43/a.ts', '%2e%2e/%2e%2e/43/a.ts', '..%2f..%2f43/a.ts',
    'a.ts?x=1#frag', 'a.ts#x?Policy=1', 'https://media.example.com/courses/42/../43/a.ts', 'https://media.example.com/courses/42/%2e%2e/43/a.ts'
  ]
  const values = [
    ['https://media.example.com/courses/42/', '{$v}a.ts'], ['https://evil.example/', '{$v}a.ts'], ['media.example.com', 'https://{$v}/courses/42/a.ts'],
    ['media.example.com@evil.example', 'https://{$v}/courses/42/a.ts'], ['evil.example#', 'https://{$v}@media.example.com/courses/42/a.ts'],
    ['/../43', '{$v}/a.ts'], ['%2e%2e/43', '{$v}/a.ts'], ['..', '{$v}/43/a.ts'], ['//evil.example', '{$v}/courses/42/a.ts'],
    ['https:', '{$v}//evil.example/courses/42/a.ts'], ['https:', '{$v}//media.example.com/courses/42/a.ts'], ['a.ts?', '{$v}x'],
    ['https://media.example.com/courses/42', '{$v}/../43/a.ts'], ['{$w}', '{$v}a.ts'], ['\\\\evil.example', '{$v}\\a.ts'],
    ['media.example.com:443', 'https://{$v}/courses/42/a.ts'], ['MEDIA.example.com', 'https://{$v}/courses/42/a.ts']
  ]
  const playlists: string[] = []
  for (const uri of uris) {
    playlists.push(HEAD + `#EXTINF:4,\n${uri}\n#EXT-X-MAP:URI="${uri}"\n#EXT-X-KEY:METHOD=AES-128,URI="${uri}",URI="x.key"\n` + TAIL)
  }
  for (const [value, uri] of values) {
    playlists.push(HEAD + `#EXT-X-DEFINE:NAME="w",VALUE="https://evil.example/"\n#EXT-X-DEFINE:NAME="v",VALUE="${value as string}"\n#EXTINF:4,\n${uri as string}\n` + TAIL)
  }
  for (const text of playlists) {
    for (const options of [{ outside: 'keep' }, { outside: 'keep', variables: true }]) {
      let out: string
      try {
        out = rewrite(text, options)
      } catch (err) {
        t.match((err as { code?: string }).code, /^FST_ERR_CF_/)
        continue
      }
      t.same(leaks(out), [], `${JSON.stringify(text.split('\n')[3])} (${JSON.stringify(options)}): no signed URL off the prefix`)
      for (const line of out.split('\n')) {
        if (!line.includes('Signature=') || line.includes('{$') || line.startsWith('#EXT-X-DEFINE:')) continue
        const uri = line.startsWith('#') ? (/URI="([^"]*)"/.exec(line)?.[1] ?? '') : line
        t.ok(uri.startsWith(MEDIA + PREFIX), `written from the parsed URL: ${uri.slice(0, 60)}`)
      }
    }
  }
})

// ---------------------------------------------------------------------------------------------
// hls.js itself, in Chromium, on the two leaks.

const browser = findBrowser()
const PAGE = 'http://127.0.0.1:9'
t.test('hls.js in Chromium: no request off the prefix carries the signature', { skip: browser.path === undefined ? browser.message : false }, async (t) => {
  const HLS_JS = readFileSync(resolve(__dirname, '..', '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js'))
  const load = (p: string): string | null => AUTHORED[p.slice('/courses/42/'.length, -'.m3u8'.length)]?.text ?? null
  const plain = await startWith(fastifyHost, t, playlistOptions('/nonexistent', { origin: { load } }))
  const compact = await startWith(fastifyHost, t, playlistOptions('/nonexistent', { origin: { load }, variables: true }))
  const userDataDir = mkdtempSync(join(tmpdir(), 'cf-review-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browser.path,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000
  })
  t.teardown(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 })
  })
  for (const [name, app] of [['define-two-values', plain], ['variables-factoring', compact]] as const) {
    const page = await context.newPage()
    const fetched: string[] = []
    let playlistStatus = 0
    await page.route(PAGE + '/**', async (route) => {
      const url = new URL(route.request().url())
      if (url.pathname === '/') {
        return await route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><video id="v" muted></video><script src="/hls.js"></script><script>
const hls = new Hls(); hls.loadSource('/hls/courses/42/${name}.m3u8'); hls.attachMedia(document.getElementById('v'))</script>`
        })
      }
      if (url.pathname === '/hls.js') return await route.fulfill({ contentType: 'text/javascript', body: HLS_JS })
      const response = await route.fetch({ url: app.url + url.pathname, headers: { ...route.request().headers(), 'x-user': 'alice' } })
      if (url.pathname.startsWith('/hls/')) playlistStatus = response.status()
      await route.fulfill({ response })
    })
    await page.route(/^https?:\/\/(?!127\.0\.0\.1:9\/)/, async (route) => {
      fetched.push(route.request().url())
      await route.fulfill({ status: 404, headers: { 'access-control-allow-origin': '*' }, body: '' })
    })
    await page.goto(PAGE + '/')
    // Waits for hls.js's first media request (an event, not a duration).
    for (let i = 0; i < 200; i++) {
      if (fetched.length > 0 || playlistStatus === 502) break
      await page.waitForTimeout(50)
    }
    // Either the mirror refused the playlist (nothing to fetch), or hls.js fetched what it was given.
    if (playlistStatus === 502) t.same(fetched, [], `${name}: refused by the mirror (502), nothing fetched`)
    else t.ok(fetched.length > 0, `${name}: hls.js asked for a segment`)
    const off = fetched.filter((u) => /Signature=/.test(u) && !u.startsWith(MEDIA + PREFIX))
    t.same(off, [], `${name}: the signed query stayed on the distribution's prefix (hls.js fetched ${JSON.stringify(fetched)})`)
    await page.close()
  }
})

// ---------------------------------------------------------------------------------------------
// Requests of a signed-in user.

const C42 = HEAD + '#EXTINF:4,\nseg-42.ts\n' + TAIL
const C43 = HEAD + '#EXTINF:4,\nsecret-43.ts\n' + TAIL
const root = tempDir(t, 'cf-review-')
for (const [path, text] of [['courses/42/master.m3u8', C42], ['courses/43/master.m3u8', C43],
  ['courses/42/cross.m3u8', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../43/master.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nhttps://media.example.com/courses/43/master.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="a",URI="/courses/43/master.m3u8"\n']] as const) {
  mkdirSync(join(root, path, '..'), { recursive: true })
  writeFileSync(join(root, path), text)
}
const authorize = { authorize: (_req: unknown, params: Record<string, string>) => params.courseId === '42' } as Partial<AppOptions>

const NEIGHBOURS = [
  '/hls/courses/42/%252e%252e/43/master.m3u8', '/hls/courses/42/%c0%ae%c0%ae/43/master.m3u8', '/hls/courses/42/%e0%80%ae%e0%80%ae/43/master.m3u8',
  '/hls/courses/42;x/../43/master.m3u8', '/hls/courses/42/..;/43/master.m3u8', '/hls/courses/42//../43/master.m3u8', '/hls/courses/42/%2E%2e/43/master.m3u8',
  '/hls/courses/42/%ef%bc%8e%ef%bc%8e/43/master.m3u8', '/hls/courses/42/\uff0e\uff0e/43/master.m3u8', '/hls/courses/42/.../43/master.m3u8',
  '/hls/courses/42/..%20/43/master.m3u8', '/hls/courses/42/.. /43/master.m3u8', '/hls/courses/42/..%00/43/master.m3u8', '/hls/courses/42%2f..%2f43/master.m3u8',
  '/hls/courses/%34%33/master.m3u8', '/hls/courses/42/master.m3u8.', '/hls//courses/43/master.m3u8', '/HLS/courses/43/master.m3u8', '//hls/courses/43/master.m3u8',
  'http://127.0.0.1/hls/courses/42/../43/master.m3u8', '/hls/./courses/43/master.m3u8', '/hls/courses/43/../42/master.m3u8', '/hls%2fcourses/43/master.m3u8',
  '/hls/courses/42/..%5c..%5c43/master.m3u8', '/hls/courses/42/%2e%2e%2f%2e%2e%2f43/master.m3u8', '/hls/courses/42/..%u002f43/master.m3u8'
]

for (const host of playlistHosts) {
  t.test(`${host.name}: path neighbours never reach course 43 and the origin is asked only for the checked path (held)`, async (t) => {
    const asked: string[] = []
    const url = await serve(t, (req, res) => {
      asked.push(req.url as string)
      const p = decodeURIComponent(new URL(req.url as string, 'http://x').pathname)
      res.statusCode = p === '/courses/43/master.m3u8' ? 200 : p === '/courses/42/master.m3u8' ? 200 : 404
      res.end(p === '/courses/43/master.m3u8' ? C43 : p === '/courses/42/master.m3u8' ? C42 : '')
    })
    const loaded: string[] = []
    const origins = [{ root }, { url }, { load: (p: string) => { loaded.push(p); return decodeURIComponent(p) === '/courses/43/master.m3u8' ? C43 : null } }]
    for (const origin of origins) {
      const app = await startWith(host, t, playlistOptions(root, { origin }, authorize))
      for (const path of NEIGHBOURS) {
        asked.length = 0
        loaded.length = 0
        const res = await rawRequest(app, path)
        t.notMatch(res.body, /secret-43/, `${Object.keys(origin)[0] as string} ${path}: ${res.status}, nothing of course 43`)
        for (const p of [...asked, ...loaded]) t.equal(p, path.slice('/hls'.length), `${path}: the origin was asked for the checked path only`)
      }
      const cross = await app.get('/hls/courses/42/cross.m3u8', { 'x-user': 'alice' })
      if (Object.keys(origin)[0] === 'root') {
        const body = cross.body.toString()
        t.equal((body.match(/\/hls\/courses\/43\/master\.m3u8/g) ?? []).length, 3, 'variants of another course point to the mirror')
        t.equal((await app.get('/hls/courses/43/master.m3u8', { 'x-user': 'alice' })).status, 403, 'which checks that course\'s grant again')
      }
    }
  })
}

t.test('spellings of one playlist: one is served, the others refused, one origin load', async (t) => {
  for (const host of playlistHosts) {
    let loads = 0
    const big = HEAD + Array.from({ length: 2000 }, (_, i) => `#EXTINF:2,\nsegment-with-a-long-name-${i}.ts\n`).join('') + TAIL
    const app = await startWith(host, t, playlistOptions(root, {
      origin: {
        load: (p: string) => {
          loads++
          return decodeURIComponent(p) === '/courses/42/big.m3u8' ? big : null
        }
      }
    }))
    // The same file for S3, a file server and `load` (an unreserved character percent-encoded, RFC 3986 6.2.2.2).
    const spellings = ['big', '%62ig', 'b%69g', 'bi%67', '%62%69g', '%62i%67', 'b%69%67', '%62%69%67']
    const answers = await Promise.all(spellings.map((s) => app.get(`/hls/courses/42/${s}.m3u8`, { 'x-user': 'alice' })))
    t.equal(answers[0]?.status, 200, `${host.name}: the playlist's own spelling is served`)
    t.ok(answers.slice(1).every((a) => a.status === 400 && JSON.parse(a.body.toString()).code === 'FST_ERR_CF_INVALID_PARAM'),
      `${host.name}: needless escapes are refused (400)`)
    t.equal(loads, 1, `${host.name}: one load for one playlist, whatever its spelling`)
  }
})

// ---------------------------------------------------------------------------------------------
// Origin bodies (held).

t.test('stacked encodings and lying lengths from an { url } origin: coded 502, bounded', async (t) => {
  const bomb = Buffer.alloc(8 * 1024 * 1024, 35)
  bomb.write('#EXTM3U\n')
  const url = await serve(t, (req, res) => {
    const name = (req.url as string).split('/').pop()
    if (name === 'gzip-gzip.m3u8') {
      res.writeHead(200, { 'content-encoding': 'gzip, gzip' })
      res.end(gzipSync(gzipSync(bomb)))
    } else if (name === 'br-gzip-deflate.m3u8') {
      res.writeHead(200, { 'content-encoding': 'deflate, gzip, br' })
      res.end(brotliCompressSync(gzipSync(deflateSync(bomb))))
    } else if (name === 'short-length.m3u8') {
      // Says 10 bytes, sends 8 MiB: the body is cut by the HTTP parser, or refused by size.
      res.writeHead(200, { 'content-length': '10' })
      res.end(bomb)
    } else if (name === 'long-length.m3u8') {
      res.writeHead(200, { 'content-length': String(1024) })
      res.write(C42)
      setTimeout(() => res.destroy(), 20)
    } else {
      res.writeHead(200)
      res.end(C42)
    }
  })
  for (const host of playlistHosts) {
    const app = await startWith(host, t, playlistOptions(root, { origin: { url }, maxBytes: 1024 * 1024, timeout: 2000 }))
    for (const name of ['gzip-gzip', 'br-gzip-deflate', 'long-length']) {
      const res = await app.get(`/hls/courses/42/${name}.m3u8`, { 'x-user': 'alice' })
      t.equal(res.status, 502, `${host.name} ${name}: 502`)
      t.equal(JSON.parse(res.body.toString()).code, 'FST_ERR_CF_PLAYLIST_ORIGIN', `${host.name} ${name}: coded`)
      t.notMatch(res.body.toString(), /Signature=|Policy=/)
    }
    // The HTTP framing wins: the first 10 bytes ("#EXTM3U\n##") are a playlist of one comment.
    const short = await app.get('/hls/courses/42/short-length.m3u8', { 'x-user': 'alice' })
    t.equal(short.status, 200, `${host.name} short-length: read as its Content-Length says`)
    t.equal(short.body.toString(), '#EXTM3U\n##', `${host.name} short-length: nothing past it`)
    t.equal((await app.get('/hls/courses/42/ok.m3u8', { 'x-user': 'alice' })).status, 200, `${host.name}: the valid twin is served`)
  }
})
