// The rewrite on playlists of the shapes found in the wild: Apple's HLS examples (multivariant with
// alternate renditions, I-frame playlists, session keys and data), Low-Latency HLS (parts, preload
// hints, rendition reports), byte ranges, keys of every method, and hand-made edge cases. Each
// output is checked line by line against an independent statement (oracle.ts) and, for the
// typical shapes, against the exact text expected.
import t from 'tap'
import { rewritePlaylist, compilePlaylist, renderPlaylist } from '../../../src/core/playlists/index.js'
import { renderPlaylistBody, renderedSize } from '../../../src/core/playlists/rewrite.js'
import { DIST, QUERY, expectedPlaylist, type Ctx } from './oracle.js'

const ctx = (playlistPath: string, extra: Partial<Ctx> = {}): Ctx => ({ playlistPath, distribution: DIST, prefix: '/courses/42/', mirror: '/hls', ...extra })

// Apple's "Advanced stream" multivariant playlist, shortened: alternate audio and subtitles, I-frames.
const APPLE_MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS

#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="title.json"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://key65",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-SESSION-KEY:METHOD=AES-128,URI="keys/session.key"
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=2168183,BANDWIDTH=2177116,CODECS="avc1.640020,mp4a.40.2",RESOLUTION=960x540,FRAME-RATE=60.000,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
v5/prog_index.m3u8
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=7968416,BANDWIDTH=8001098,CODECS="avc1.64002a,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=60.000,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
v9/prog_index.m3u8?token=a%2Cb

#EXT-X-I-FRAME-STREAM-INF:AVERAGE-BANDWIDTH=186522,BANDWIDTH=187492,CODECS="avc1.640020",RESOLUTION=960x540,URI="v5/iframe_index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud1",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",URI="a1/prog_index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="sub1",CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog, public.accessibility.describes-music-and-sound",NAME="English, CC",AUTOSELECT=YES,DEFAULT=YES,FORCED=NO,LANGUAGE="en",URI="s1/en/prog_index.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc1",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,INSTREAM-ID="CC1"
`

const APPLE_MASTER_EXPECTED = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS

#EXT-X-SESSION-DATA:DATA-ID="com.example.title",URI="${DIST}/courses/42/title.json?${QUERY}"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://key65",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-SESSION-KEY:METHOD=AES-128,URI="${DIST}/courses/42/keys/session.key?${QUERY}"
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=2168183,BANDWIDTH=2177116,CODECS="avc1.640020,mp4a.40.2",RESOLUTION=960x540,FRAME-RATE=60.000,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
/hls/courses/42/v5/prog_index.m3u8
#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=7968416,BANDWIDTH=8001098,CODECS="avc1.64002a,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=60.000,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
/hls/courses/42/v9/prog_index.m3u8?token=a%2Cb

#EXT-X-I-FRAME-STREAM-INF:AVERAGE-BANDWIDTH=186522,BANDWIDTH=187492,CODECS="avc1.640020",RESOLUTION=960x540,URI="/hls/courses/42/v5/iframe_index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud1",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",URI="/hls/courses/42/a1/prog_index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="sub1",CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog, public.accessibility.describes-music-and-sound",NAME="English, CC",AUTOSELECT=YES,DEFAULT=YES,FORCED=NO,LANGUAGE="en",URI="/hls/courses/42/s1/en/prog_index.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc1",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,INSTREAM-ID="CC1"
`

// Apple's fMP4 media playlist with byte ranges (one file per variant) and an I-frame playlist.
const BYTE_RANGES = `#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-VERSION:7
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="main.mp4",BYTERANGE="719@0"
#EXTINF:6.00000,
#EXT-X-BYTERANGE:1508000@719
main.mp4
#EXTINF:6.00000,
#EXT-X-BYTERANGE:1510000@1508719
main.mp4
#EXTINF:4.5,
#EXT-X-BYTERANGE:800000
main.mp4
#EXT-X-ENDLIST
`

const BYTE_RANGES_EXPECTED = `#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-VERSION:7
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="${DIST}/courses/42/v5/main.mp4?${QUERY}",BYTERANGE="719@0"
#EXTINF:6.00000,
#EXT-X-BYTERANGE:1508000@719
${DIST}/courses/42/v5/main.mp4?${QUERY}
#EXTINF:6.00000,
#EXT-X-BYTERANGE:1510000@1508719
${DIST}/courses/42/v5/main.mp4?${QUERY}
#EXTINF:4.5,
#EXT-X-BYTERANGE:800000
${DIST}/courses/42/v5/main.mp4?${QUERY}
#EXT-X-ENDLIST
`

// Low-Latency HLS, after the spec's example: parts, a preload hint, rendition reports, skip.
const LL_HLS = `#EXTM3U
#EXT-X-TARGETDURATION:4
#EXT-X-VERSION:9
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0
#EXT-X-PART-INF:PART-TARGET=0.33334
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-SKIP:SKIPPED-SEGMENTS=3
#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.00008,
fileSequence269.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart270.0.mp4"
#EXT-X-PART:DURATION=0.33334,URI="filePart270.1.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="fileSequence270.mp4",BYTERANGE="20000@0"
#EXTINF:4.00008,
fileSequence270.mp4
#EXT-X-DATERANGE:ID="ad1",START-DATE="2019-02-14T02:13:40.106Z",X-COM-EXAMPLE-URI="ads/1.m3u8"
#EXT-X-PART:DURATION=0.33334,URI="filePart271.0.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart271.1.mp4"
#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="init2.mp4",BYTERANGE-START=0,BYTERANGE-LENGTH=700

#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=273,LAST-PART=2
#EXT-X-RENDITION-REPORT:URI="../4M/waitForMSN.php",LAST-MSN=273,LAST-PART=1
`

// Keys of every kind in one media playlist, with query strings, fragments and absolute URIs.
const KEYS = `#EXTM3U\r
#EXT-X-VERSION:5\r
#EXT-X-TARGETDURATION:10\r
# a comment with URI="not-a-uri.ts" in it\r
#EXT-X-KEY:METHOD=AES-128,URI="https://media.example.com/courses/42/keys/k1.bin?v=2",IV=0x9c7db8778570d05c3177c349fd9236aa\r
#EXTINF:9.009,\r
seg1.ts?cb=1#t=0\r
#EXT-X-KEY:METHOD=NONE\r
#EXTINF:9.009,title with, comma\r
  /courses/42/hd/seg2.ts  \r
#EXT-X-KEY:METHOD=SAMPLE-AES,KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",URI="data:text/plain;base64,AAAAPnBzc2gAAAAA"\r
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://twelve",KEYFORMAT="com.apple.streamingkeydelivery"\r
#EXTINF:9.009,\r
HTTPS://MEDIA.EXAMPLE.COM:443/courses/42/hd/seg3.ts?\r
#EXTINF:9.009,\r
seg%204.ts?Policy=already&Signature=s&Key-Pair-Id=K\r
#EXT-X-ENDLIST\r
`

t.test('Apple-style multivariant playlist: playlists to the mirror, session keys and data signed, the rest byte for byte', async (t) => {
  const c = ctx('/courses/42/master.m3u8')
  const out = rewritePlaylist(APPLE_MASTER, { ...c, query: QUERY })
  t.equal(out, APPLE_MASTER_EXPECTED)
  t.equal(out, expectedPlaylist(APPLE_MASTER, c, QUERY), 'the oracle agrees')
  const compiled = compilePlaylist(APPLE_MASTER, c)
  t.equal(compiled.master, true)
  t.equal(compiled.immutable, true, 'a master playlist does not change')
  t.equal(compiled.signed, 2, 'session data and the AES-128 session key')
  t.equal(compiled.duration, 0)
})

t.test('byte ranges: every range of the file carries the query, EXT-X-BYTERANGE untouched', async (t) => {
  const c = ctx('/courses/42/v5/main.m3u8')
  t.equal(rewritePlaylist(BYTE_RANGES, { ...c, query: QUERY }), BYTE_RANGES_EXPECTED)
  const compiled = compilePlaylist(BYTE_RANGES, c)
  t.equal(compiled.signed, 4)
  t.equal(compiled.duration, 16.5)
  t.equal(compiled.targetDuration, 6)
  t.equal(compiled.immutable, true)
})

t.test('LL-HLS: parts and preload hints signed, rendition reports to the mirror, DATERANGE kept', async (t) => {
  const c = ctx('/courses/42/2M/live.m3u8')
  const out = rewritePlaylist(LL_HLS, { ...c, query: QUERY })
  t.equal(out, expectedPlaylist(LL_HLS, c, QUERY))
  t.match(out, `#EXT-X-PART:DURATION=0.33334,URI="${DIST}/courses/42/2M/filePart270.1.mp4?${QUERY}",INDEPENDENT=YES\n`)
  t.match(out, `#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="${DIST}/courses/42/2M/init2.mp4?${QUERY}",BYTERANGE-START=0,BYTERANGE-LENGTH=700\n`)
  t.match(out, '#EXT-X-RENDITION-REPORT:URI="/hls/courses/42/1M/waitForMSN.php",LAST-MSN=273,LAST-PART=2\n')
  t.match(out, 'X-COM-EXAMPLE-URI="ads/1.m3u8"', 'attributes other than URI are not URIs')
  const compiled = compilePlaylist(LL_HLS, c)
  t.equal(compiled.immutable, false, 'no ENDLIST: live')
  t.equal(compiled.targetDuration, 4)
  t.equal(compiled.signed, 9)
})

t.test('keys, queries, fragments, CRLF, spaces, other schemes, already signed URIs', async (t) => {
  const c = ctx('/courses/42/hd/index.m3u8')
  const out = rewritePlaylist(KEYS, { ...c, query: QUERY })
  t.equal(out, expectedPlaylist(KEYS, c, QUERY))
  const lines = out.split('\n')
  t.equal(lines[4], `#EXT-X-KEY:METHOD=AES-128,URI="${DIST}/courses/42/keys/k1.bin?v=2&${QUERY}",IV=0x9c7db8778570d05c3177c349fd9236aa\r`, 'existing query kept, ours after it')
  t.equal(lines[6], `${DIST}/courses/42/hd/seg1.ts?cb=1&${QUERY}#t=0\r`, 'the fragment stays last')
  t.equal(lines[3], '# a comment with URI="not-a-uri.ts" in it\r', 'comments untouched')
  t.equal(lines[9], `  ${DIST}/courses/42/hd/seg2.ts?${QUERY}  \r`, 'spaces around a URI line kept')
  t.match(lines[10], 'URI="data:text/plain;base64,AAAAPnBzc2gAAAAA"', 'data: URI kept')
  t.equal(lines[13], `${DIST}/courses/42/hd/seg3.ts?${QUERY}\r`, 'absolute URI on the CDN (any case, default port) signed; an empty query replaced')
  t.equal(lines[15], `${DIST}/courses/42/hd/seg%204.ts?Policy=already&Signature=s&Key-Pair-Id=K\r`, 'a URI signed already is not signed twice')
  t.equal(out.split('\r\n').length, KEYS.split('\r\n').length, 'line endings kept')
  t.equal(compilePlaylist(KEYS, c).duration, 9.009 * 4)
})

t.test('a quoted value holding "URI=" is not the URI attribute', async (t) => {
  const text = '#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0",X-NOTE="a,URI=\\"x.mp4",URI="init.mp4"\n'
  // HLS quoted strings have no escapes: the value of X-NOTE ends at the second quote.
  t.throws(() => compilePlaylist(text, ctx('/courses/42/a.m3u8')), { code: 'FST_ERR_CF_INVALID_PLAYLIST' })
  const ok = '#EXTM3U\n#EXT-X-MAP:X-NOTE="a,URI=x.mp4",URI="init.mp4"\n'
  t.equal(rewritePlaylist(ok, { ...ctx('/courses/42/a.m3u8'), query: QUERY }), `#EXTM3U\n#EXT-X-MAP:X-NOTE="a,URI=x.mp4",URI="${DIST}/courses/42/init.mp4?${QUERY}"\n`)
})

t.test('chunks: one compile, one join per query', async (t) => {
  const compiled = compilePlaylist(BYTE_RANGES, ctx('/courses/42/v5/main.m3u8'))
  t.equal(compiled.chunks.length, compiled.signed + 1)
  t.equal(renderPlaylist(compiled, QUERY), BYTE_RANGES_EXPECTED)
  t.equal(renderPlaylist(compiled, 'Policy=x&Signature=y&Key-Pair-Id=z'), BYTE_RANGES_EXPECTED.split(QUERY).join('Policy=x&Signature=y&Key-Pair-Id=z'))
  const none = compilePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n', ctx('/courses/42/m.m3u8'))
  t.equal(renderPlaylist(none, QUERY), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/hls/courses/42/a.m3u8\n', 'nothing to sign')
  // The bytes a response carries: the same text, its size known before it is made.
  for (const c of [compiled, none, compilePlaylist('#EXTM3U\n# é ✓ 𝄞\n#EXTINF:1,\nà.ts\n#EXTINF:1,\nb.ts\n', ctx('/courses/42/a.m3u8'))]) {
    for (const query of [QUERY, 'Policy=x&Signature=y&Key-Pair-Id=z']) {
      const body = renderPlaylistBody(c, query)
      t.equal(body.toString('utf8'), renderPlaylist(c, query))
      t.equal(body.length, renderedSize(c, Buffer.byteLength(query)))
    }
  }
})

t.test('URIs out of the granted prefix', async (t) => {
  const text = '#EXTM3U\n#EXTINF:1,\n../../43/seg.ts\n#EXTINF:1,\nhttps://other.example.com/courses/42/seg.ts\n' +
    '#EXTINF:1,\n/courses/4%32/seg.ts\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://other.example.com/x.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/shared/audio.m3u8\n'
  const c = ctx('/courses/42/hd/index.m3u8')
  const err = t.throws(() => compilePlaylist(text, c), { code: 'FST_ERR_CF_PLAYLIST_OUTSIDE', statusCode: 502 }) as Error
  t.match(err.message, /line 3: "\.\.\/\.\.\/43\/seg\.ts" is not under https:\/\/media\.example\.com\/courses\/42\//)
  t.match(err.message, /outside: 'keep'/, 'the message says how to allow them')
  const kept = rewritePlaylist(text, { ...c, outside: 'keep', query: QUERY })
  t.equal(kept, '#EXTM3U\n#EXTINF:1,\nhttps://media.example.com/courses/43/seg.ts\n#EXTINF:1,\nhttps://other.example.com/courses/42/seg.ts\n' +
    '#EXTINF:1,\nhttps://media.example.com/courses/4%32/seg.ts\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://other.example.com/x.m3u8\n' +
    '#EXT-X-STREAM-INF:BANDWIDTH=1\n/hls/shared/audio.m3u8\n',
  'kept unsigned: a relative one made absolute (it still names what it named), another host byte for byte; a playlist of the CDN anywhere is the mirror\'s')
  t.notMatch(kept, QUERY, 'the signed query never leaves the prefix')
  t.throws(() => compilePlaylist('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k"\n', c), { code: 'FST_ERR_CF_PLAYLIST_OUTSIDE' }, 'a key server elsewhere, too')
  t.throws(() => compilePlaylist('#EXTM3U\n#EXTINF:1,\n%2e%2e/%2e%2e/43/seg.ts\n', c), { code: 'FST_ERR_CF_PLAYLIST_OUTSIDE' }, 'encoded dot segments resolve as players resolve them')
})

t.test('malformed playlists: a coded error naming the line, never a crash', async (t) => {
  const c = ctx('/courses/42/a.m3u8')
  const cases: Array<[string, RegExp]> = [
    ['', /starts with "#EXTM3U"/],
    ['<html>not found</html>', /starts with "#EXTM3U"/],
    ['#EXTM3U8\n', /starts with "#EXTM3U"/],
    ['\ufeff#EXTM3U\n', /starts with "#EXTM3U"/],
    ['#EXTM3U\nseg\u0000.ts\n', /line 2: the line holds the control character U\+0000/],
    ['#EXTM3U\n#EXTINF:abc,\nseg.ts\n', /line 2: EXTINF needs a duration/],
    ['#EXTM3U\n#EXTINF:\nseg.ts\n', /line 2: EXTINF needs a duration/],
    ['#EXTM3U\n#EXTINF:-1,\nseg.ts\n', /line 2: EXTINF/],
    ['#EXTM3U\n#EXT-X-TARGETDURATION:1.5\n', /line 2: EXT-X-TARGETDURATION/],
    ['#EXTM3U\n#EXT-X-MAP:URI="init.mp4\n', /line 2: the quoted value of URI has no closing quote/],
    ['#EXTM3U\n#EXT-X-MAP:URI=init.mp4\n', /line 2: URI must be a quoted string/],
    ['#EXTM3U\n#EXT-X-MAP:URI=""\n', /line 2: URI is empty/],
    ['#EXTM3U\n#EXT-X-KEY:METHOD\n', /line 2: the attribute list has a name without "=value"/],
    ['#EXTM3U\n#EXT-X-KEY:URI="a"x,METHOD=AES-128\n', /line 2: expected "," after the value of URI/],
    ['#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n', /line 2: EXT-X-STREAM-INF has no URI line/],
    ['#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n', /line 3: EXT-X-STREAM-INF follows the one on line 2/],
    ['#EXTM3U\nhttp://[::1/seg.ts\n', /line 2: the URI "http:\/\/\[::1\/seg\.ts" cannot be resolved/],
    // Lists players read differently: a name twice (hls.js keeps the last), a padded name (hls.js trims it).
    ['#EXTM3U\n#EXT-X-MAP:URI="a.mp4",URI="https://evil.example/b.mp4"\n', /line 2: the attribute list names URI twice/],
    ['#EXTM3U\n#EXT-X-KEY:METHOD=AES-128, URI="https://evil.example/k"\n', /line 2: the attribute name " URI" is not letters/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="h",VALUE="a",VALUE="https://evil.example/"\n#EXTINF:4,\n{$h}a.ts\n', /line 2: EXT-X-DEFINE: the attribute list names VALUE twice/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="h",VALUE="good", VALUE="evil"\n', /line 2: EXT-X-DEFINE: the attribute name " VALUE"/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="h",VALUE="a"\n#EXT-X-DEFINE:NAME="h",VALUE="b"\n', /line 3: EXT-X-DEFINE defines "h" again/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="h",VALUE="a",IMPORT="g"\n', /line 2: EXT-X-DEFINE has both NAME and IMPORT/],
    ['#EXTM3U\n#EXT-X-DEFINE:VALUE="a"\n', /line 2: EXT-X-DEFINE needs NAME, IMPORT or QUERYPARAM/],
    ['#EXTM3U\n#EXT-X-DEFINE:NAME="h"\n', /line 2: EXT-X-DEFINE NAME="h" has no VALUE/]
  ]
  for (const [text, message] of cases) {
    t.throws(() => compilePlaylist(text, c), { code: 'FST_ERR_CF_INVALID_PLAYLIST', statusCode: 502, message }, JSON.stringify(text.slice(0, 40)))
  }
  t.throws(() => compilePlaylist(Buffer.from('#EXTM3U\n') as unknown as string, c), { code: 'FST_ERR_CF_INVALID_PLAYLIST' })
  const long = '#EXTM3U\n#EXTINF:1,\nhttps://other.example.com/' + 'x'.repeat(500) + '\n'
  const err = t.throws(() => compilePlaylist(long, c)) as Error
  t.ok(err.message.length < 400, 'a long URI is shortened in the message')
})

t.test('a comment line, a blank line and a tag between EXT-X-STREAM-INF and its URI', async (t) => {
  const text = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n\n# note\n#EXT-X-UNKNOWN:1\nlow.m3u8\nseg.ts\n'
  t.equal(rewritePlaylist(text, { ...ctx('/courses/42/m.m3u8'), query: QUERY }),
    `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n\n# note\n#EXT-X-UNKNOWN:1\n/hls/courses/42/low.m3u8\n${DIST}/courses/42/seg.ts?${QUERY}\n`)
})

t.test('options are checked', async (t) => {
  const good = { ...ctx('/courses/42/a.m3u8'), query: QUERY }
  const text = '#EXTM3U\n'
  const bad: Array<[string, unknown]> = [
    ['distribution', 'media.example.com'], ['distribution', 'https://media.example.com/cdn'], ['distribution', 'ftp://media.example.com'],
    ['distribution', 42], ['prefix', '/courses/42'], ['prefix', 'courses/42/'], ['prefix', '/courses/../'], ['prefix', '/courses/*/'],
    ['mirror', '/hls/'], ['mirror', 'hls'], ['mirror', ''], ['mirror', '/a/../b'], ['playlistPath', 'a.m3u8'], ['playlistPath', '/a b.m3u8'],
    ['outside', 'allow'], ['query', ''], ['query', 'Policy=a b'], ['query', '?Policy=a'], ['query', 'a#b']
  ]
  for (const [name, value] of bad) {
    t.throws(() => rewritePlaylist(text, { ...good, [name]: value }), { code: 'FST_ERR_CF_INVALID_OPTION', message: new RegExp(name) }, `${name}: ${String(value)}`)
  }
  t.throws(() => rewritePlaylist(text, null as never), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.throws(() => compilePlaylist(text, null as never), { code: 'FST_ERR_CF_INVALID_OPTION' })
  t.equal(rewritePlaylist(text, { ...good, distribution: 'http://127.0.0.1:8080/' }), text, 'a trailing slash and a port are fine')
})
