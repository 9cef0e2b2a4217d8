// The mirror serving DASH MPDs on every host: the type and headers, the signed query XML-escaped in
// every leaf URL (read back by a strict XML parser and verified as CloudFront would), every other
// byte kept, compression, dynamic MPDs reloaded, refusals with their codes, and the hostile request
// paths and origin bodies of the HLS tests, spelt for .mpd, on every origin kind.
import t, { type Test } from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { brotliDecompressSync } from 'node:zlib'
import { SaxesParser, type SaxesTagNS } from 'saxes'
import { createVerifier } from '../../src/index.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'
import { manualClock } from '../behaviour/options.js'
import { tempDir } from '../edge/helpers.js'
import { playlistHosts, playlistOptions, rawRequest, serve, startWith } from './apps.js'

const FIXTURES = join(__dirname, '..', 'fixtures', 'mpd')
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8')
const PLACEHOLDER = 'Policy=P&amp;Signature=S&amp;Key-Pair-Id=K'

const COURSE_42 = '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><SegmentTemplate media="seg-42-$Number$.m4s"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>\n'
const COURSE_43 = COURSE_42.replace('seg-42', 'secret-43-lesson')
const FILES: Record<string, string> = {
  '/courses/42/dash/index.mpd': fixture('template-number.mpd'),
  '/courses/42/dash/levels.mpd': fixture('base-levels.mpd'),
  '/courses/42/dash/list.mpd': fixture('segment-list.mpd'),
  '/courses/42/dash/webm.mpd': fixture('segment-base.mpd'),
  '/courses/42/dash/single.mpd': fixture('single-file.mpd'),
  '/courses/42/master.mpd': COURSE_42,
  '/courses/42/a b.mpd': COURSE_42,
  '/courses/42/..a.mpd': COURSE_42,
  '/courses/43/master.mpd': COURSE_43,
  '/courses/42/doctype.mpd': '<?xml version="1.0"?>\n<!DOCTYPE MPD [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL>&x;</BaseURL></MPD>',
  '/courses/42/out.mpd': '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">\n<Period><AdaptationSet><SegmentList><SegmentURL media="../43/a.m4s"/><SegmentURL media="b.m4s"/></SegmentList></AdaptationSet></Period></MPD>',
  '/courses/42/hls-inside.mpd': '#EXTM3U\n#EXTINF:4,\na.ts\n',
  '/courses/42/xml-inside.m3u8': COURSE_42,
  '/courses/42/xml-inside.M3U': '\ufeff\n' + COURSE_42,
  '/courses/42/remote.xml': '<Period xmlns="urn:mpeg:dash:schema:mpd:2011"><AdaptationSet><SegmentTemplate media="ad-$Number$.m4s"/></AdaptationSet></Period>',
  '/courses/42/remote-period': '<Period xmlns="urn:mpeg:dash:schema:mpd:2011"><AdaptationSet><SegmentTemplate media="ad-$Number$.m4s"/></AdaptationSet></Period>'
}

const root = tempDir(t, 'cf-dash-')
for (const [path, text] of Object.entries(FILES)) {
  mkdirSync(join(root, ...path.split('/').slice(1, -1)), { recursive: true })
  writeFileSync(join(root, ...path.split('/').slice(1)), text)
}

const verifier = createVerifier({ keys: { [rsaKey.keyPairId]: rsaKey.publicKey }, cacheSize: 0 })
const accepted = (url: string): boolean => verifier.verify({ url, cookieHeader: undefined, clientIp: undefined }).ok

interface Read { what: string, value: string, representation: string, bases: string[] }

/** The leaf URLs of a served MPD with the BaseURLs around each, read by saxes in strict mode (a bare "&" throws). */
function leaves (xml: string): Read[] {
  const out: Read[] = []
  const parser = new SaxesParser({ xmlns: true })
  const stack: Array<{ local: string, text: string, bases: string[] }> = []
  let representation = ''
  parser.on('opentag', (tag) => {
    const { local, attributes } = tag as SaxesTagNS
    const bases = [...(stack[stack.length - 1]?.bases ?? [])]
    stack.push({ local, text: '', bases })
    if (local === 'Representation') representation = attributes.id?.value ?? ''
    for (const name of ['media', 'initialization', 'index', 'sourceURL']) {
      const a = attributes[name]
      if (a !== undefined && ['SegmentTemplate', 'SegmentURL', 'Initialization', 'RepresentationIndex'].includes(local)) out.push({ what: `${local}@${name}`, value: a.value, representation, bases })
    }
  })
  parser.on('text', (text) => { const top = stack[stack.length - 1]; if (top !== undefined) top.text += text })
  parser.on('cdata', (text) => { const top = stack[stack.length - 1]; if (top !== undefined) top.text += text })
  parser.on('closetag', () => {
    const top = stack.pop()
    if (top?.local === 'BaseURL') {
      const parent = stack[stack.length - 1] as { bases: string[] }
      parent.bases.push(top.text.trim())
      out.push({ what: 'BaseURL', value: top.text.trim(), representation, bases: [...top.bases] })
    }
  })
  parser.write(xml).close()
  return out
}

/** Where a player fetches a leaf: identifiers substituted, resolved against the BaseURLs, then the mirror's URL. */
function fetched (leaf: Read, mirrorUrl: string): string {
  const value = leaf.value.replace(/\$RepresentationID\$/g, leaf.representation).replace(/\$Number(%0\d+d)?\$/g, '1').replace(/\$Bandwidth\$/g, '1000').replace(/\$\$/g, '$')
  let base = mirrorUrl
  for (const b of leaf.bases) base = new URL(b, base).href
  return new URL(value, base).href
}

const origins: Array<{ name: string, asked: string[], playlists: (t: Test) => Promise<Record<string, unknown>> }> = [
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

// The HLS tests' spellings (hostile.test.ts), for an .mpd.
const HOSTILE_PATHS = [
  '/hls/courses/42/%2e%2e/43/master.mpd', '/hls/courses/42/../43/master.mpd', '/hls/courses/42/.%2e/43/master.mpd',
  '/hls/courses/42/%2e./43/master.mpd', '/hls/courses/42/%2E%2E/43/master.mpd', '/hls/courses/42/..\\43/master.mpd',
  '/hls/courses/42/..%5c43/master.mpd', '/hls/courses/42/..%5C43/master.mpd', '/hls/courses/42/..%2f43/master.mpd',
  '/hls/courses/42/%2e%2e%2F43/master.mpd', '/hls/courses/42/x%23/../../43/master.mpd', '/hls/courses/42/x#/../../43/master.mpd',
  '/hls/courses/42/./master.mpd', '/hls/courses/42/%2e/master.mpd', '/hls/courses/42/a\\b.mpd', '/hls/courses/42/a#b.mpd',
  '/hls/courses/42/master.mpd%00', '/hls/courses/42/a%0d%0a.mpd', '/hls/courses/42/a%09.mpd', '/hls/courses/42/a%7f.mpd',
  '/hls/courses/42/a%c2%85.mpd', '/hls/courses/42/%zz.mpd', '/hls/courses/42/%ff.mpd', '/hls/courses/42/a"b.mpd', '/hls/courses/42/a{b}.mpd'
]

for (const host of playlistHosts) {
  t.test(host.name, async (t) => {
    t.test('an MPD: application/dash+xml, private; every leaf URL signed, "&amp;" escaped, every other byte kept', async (t) => {
      const clock = manualClock()
      const app = await startWith(host, t, playlistOptions(root, {}, { now: clock.now }))
      for (const [path, name] of [['index.mpd', 'template-number'], ['levels.mpd', 'base-levels'], ['list.mpd', 'segment-list'], ['webm.mpd', 'segment-base'], ['single.mpd', 'single-file']]) {
        const res = await app.get(`/hls/courses/42/dash/${path}`, { 'x-user': 'alice' })
        t.equal(res.status, 200, `${path}: 200`)
        t.equal(res.headers['content-type'], 'application/dash+xml')
        t.equal(res.headers['cache-control'], 'private, no-store')
        t.equal(res.headers['set-cookie'], undefined)
        t.equal(Number(res.headers['cloudfront-grant-expires']), clock.now() / 1000 + 900)
        const body = res.body.toString()
        const query = /Policy=[^"<#]+/.exec(body.replaceAll('&amp;', '&'))?.[0] as string
        t.match(query, /^Policy=[A-Za-z0-9_~-]+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=KTESTRSA000001$/)
        t.equal(body.split(query.replaceAll('&', '&amp;')).join(PLACEHOLDER), fixture(`${name}.expected.mpd`), `${path}: the fixture's expected text, with the user's query`)
        const read = leaves(body)
        const signed = read.filter((l) => l.value.includes('Policy='))
        t.ok(signed.length > 0)
        for (const leaf of signed) {
          const url = fetched(leaf, `${app.url}/hls/courses/42/dash/${path}`)
          t.ok(url.startsWith(`${DISTRIBUTION}/courses/42/`), `${path}: ${leaf.what} fetched from the CDN: ${url.slice(0, 80)}`)
          t.ok(accepted(url), `${path}: ${leaf.what} accepted as CloudFront would`)
          t.notOk(accepted(url.replace('Signature=', 'Signature=A')), 'a tampered query is refused')
        }
      }
      const alice = await app.get('/hls/courses/42/dash/index.mpd', { 'x-user': 'alice' })
      t.equal((await app.get('/hls/courses/42/dash/index.mpd')).status, 401, 'no user: 401')
      const br = await app.get('/hls/courses/42/dash/index.mpd', { 'x-user': 'alice', 'accept-encoding': 'br' })
      t.equal(br.headers['content-encoding'], 'br')
      t.same(brotliDecompressSync(br.body), alice.body)
      const head = await app.get('/hls/courses/42/dash/index.mpd', { 'x-user': 'alice' }, 'HEAD')
      t.equal(head.status, 200)
      t.equal(head.headers['content-type'], 'application/dash+xml')
      const remote = await app.get('/hls/courses/42/remote.xml', { 'x-user': 'alice' })
      t.equal(remote.headers['content-type'], 'application/dash+xml', 'a remote element (xlink) by its XML text')
      t.match(remote.body.toString(), 'media="https://media.example.com/courses/42/ad-$Number$.m4s?Policy=')
      const bare = await app.get('/hls/courses/42/remote-period', { 'x-user': 'alice' })
      t.equal(bare.headers['content-type'], 'application/dash+xml', 'a remote element without an extension, by its text')
    })

    t.test('refused MPDs: 502 with a code and the line; outside: keep leaves such URLs unsigned', async (t) => {
      const strict = await startWith(host, t, playlistOptions(root))
      const doctype = await strict.get('/hls/courses/42/doctype.mpd', { 'x-user': 'alice' })
      t.equal(doctype.status, 502)
      t.equal(JSON.parse(doctype.body.toString()).code, 'FST_ERR_CF_INVALID_MPD')
      t.match(JSON.parse(doctype.body.toString()).message, /line 2: a DOCTYPE/)
      t.notMatch(doctype.body.toString(), /root:|Policy=/, 'nothing read, nothing signed')
      const out = await strict.get('/hls/courses/42/out.mpd', { 'x-user': 'alice' })
      t.equal(out.status, 502)
      t.equal(JSON.parse(out.body.toString()).code, 'FST_ERR_CF_MPD_OUTSIDE')
      t.match(JSON.parse(out.body.toString()).message, /line 2: SegmentURL@media "\.\.\/43\/a\.m4s"/)
      const hls = await strict.get('/hls/courses/42/hls-inside.mpd', { 'x-user': 'alice' })
      t.equal(JSON.parse(hls.body.toString()).code, 'FST_ERR_CF_INVALID_MPD', 'a .mpd path is read as an MPD, whatever it holds')
      for (const name of ['xml-inside.m3u8', 'xml-inside.M3U']) {
        const xml = await strict.get(`/hls/courses/42/${name}`, { 'x-user': 'alice' })
        t.equal(xml.status, 502, `${name}: refused`)
        t.equal(JSON.parse(xml.body.toString()).code, 'FST_ERR_CF_INVALID_PLAYLIST', `${name}: read as HLS, whatever it holds`)
        t.notMatch(xml.body.toString(), /seg-42|Policy=/, `${name}: not served as DASH`)
      }
      t.equal(strict.stats().signatures, 0, 'nothing signed for a refused MPD')
      const lenient = await startWith(host, t, playlistOptions(root, { outside: 'keep' }))
      const kept = await lenient.get('/hls/courses/42/out.mpd', { 'x-user': 'alice' })
      t.equal(kept.status, 200)
      t.match(kept.body.toString(), '<SegmentURL media="https://media.example.com/courses/43/a.m4s"/><SegmentURL media="https://media.example.com/courses/42/b.m4s?Policy=')
    })

    t.test('a dynamic MPD is loaded again after its minimumUpdatePeriod; Location through the mirror', async (t) => {
      const clock = manualClock()
      let loads = 0
      let segments = 1
      const live = (): string => `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" minimumUpdatePeriod="PT4S">\n<Location>live.mpd</Location><Period><AdaptationSet><SegmentList>${'<SegmentURL media="s.m4s"/>'.repeat(segments)}</SegmentList></AdaptationSet></Period></MPD>`
      const app = await startWith(host, t, playlistOptions(root, { origin: { load: async () => { loads++; return live() } } }, { now: clock.now }))
      const a = await app.get('/hls/courses/42/live.mpd', { 'x-user': 'alice' })
      t.match(a.body.toString(), '<Location>/hls/courses/42/live.mpd</Location>', 'the player reloads it from the mirror')
      segments = 2
      clock.advance(3)
      t.equal((await app.get('/hls/courses/42/live.mpd', { 'x-user': 'alice' })).body.toString(), a.body.toString(), 'within minimumUpdatePeriod: the same')
      clock.advance(1)
      const c = await app.get('/hls/courses/42/live.mpd', { 'x-user': 'alice' })
      t.equal(c.body.toString().split('<SegmentURL').length - 1, 2, 'then loaded again')
      t.equal(loads, 2)
    })

    for (const origin of origins) {
      t.test(`${origin.name} origin: an .mpd path that could name another file is a 400 before any lookup, origin request or signature`, async (t) => {
        const app = await startWith(host, t, playlistOptions(root, await origin.playlists(t)))
        for (const path of HOSTILE_PATHS) {
          origin.asked.length = 0
          const res = await rawRequest(app, path)
          t.equal(res.status, 400, `${path}: 400`)
          if (res.body.startsWith('{')) t.match(JSON.parse(res.body).code, /^(FST_ERR_CF_INVALID_PARAM|FST_ERR_BAD_URL)$/, `${path}: coded`)
          t.notMatch(res.body, /secret-43|Policy=/, `${path}: nothing of course 43`)
          t.same(origin.asked, [], `${path}: the origin was not asked`)
        }
        t.equal(app.stats().signatures, 0, 'nothing signed')
        for (const [path, cdnPath] of [
          ['/hls/courses/42/master.mpd', '/courses/42/master.mpd'],
          ['/hls/courses/42/a%20b.mpd', '/courses/42/a%20b.mpd'],
          ['/hls/courses/42/..a.mpd', '/courses/42/..a.mpd']
        ] as const) {
          origin.asked.length = 0
          const ok = await rawRequest(app, path)
          t.equal(ok.status, 200, `${path}: served`)
          t.match(ok.body, /seg-42-\$Number\$\.m4s\?Policy=[^"&]+&amp;Signature=/)
          if (origin.name !== 'root') t.same(origin.asked, [cdnPath], `${path}: the origin was asked for exactly the checked path`)
        }
      })
    }

    t.test('bounds: the origin body while streaming, URIs, the rendered size', async (t) => {
      const url = await serve(t, (req, res) => {
        res.writeHead(200)
        res.write('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><!--')
        const chunk = Buffer.alloc(64 * 1024, 45)
        const endless = new Readable({ read () { this.push(chunk) } })
        pipeline(endless, res).catch(() => {})
      })
      const streaming = await startWith(host, t, playlistOptions(root, { origin: { url }, maxBytes: 1024 * 1024 }))
      const big = await streaming.get('/hls/courses/42/endless.mpd', { 'x-user': 'alice' })
      t.equal(big.status, 502)
      t.match(JSON.parse(big.body.toString()).message, /larger than 1048576 bytes/)
      const list = (n: number): string => `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><SegmentList>${'<SegmentURL media="s.m4s"/>'.repeat(n)}</SegmentList></AdaptationSet></Period></MPD>`
      const load = (p: string): string => list(p.endsWith('many.mpd') ? 3000 : 10)
      const app = await startWith(host, t, playlistOptions(root, { origin: { load }, maxUris: 2000, maxRenderedBytes: 1024 * 1024 }))
      const many = await app.get('/hls/courses/42/many.mpd', { 'x-user': 'alice' })
      t.equal(JSON.parse(many.body.toString()).code, 'FST_ERR_CF_PLAYLIST_TOO_LARGE')
      t.match(JSON.parse(many.body.toString()).message, /more than 2000 URIs/)
      const small = await startWith(host, t, playlistOptions(root, { origin: { load }, maxRenderedBytes: 1024 * 1024 }))
      const rendered = await small.get('/hls/courses/42/many.mpd', { 'x-user': 'alice' })
      t.match(JSON.parse(rendered.body.toString()).message, /would be \d+ bytes rewritten, more than 1048576 \(playlists\.maxRenderedBytes\)/)
      t.equal((await small.get('/hls/courses/42/few.mpd', { 'x-user': 'alice' })).status, 200, 'a small one is served')
    })
  })
}
