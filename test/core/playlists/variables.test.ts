// Variables mode: the signed query written once, in an EXT-X-DEFINE, and referenced by each signed
// URI (RFC 8216bis variable substitution, protocol version 8). Exact expected text for each shape.
import t from 'tap'
import { rewritePlaylist } from '../../../src/core/playlists/index.js'
import { DIST, QUERY } from './oracle.js'

const base = { playlistPath: '/courses/42/hd/index.m3u8', distribution: DIST, prefix: '/courses/42/', mirror: '/hls', query: QUERY }
const define = (name: string): string => `#EXT-X-DEFINE:NAME="${name}",VALUE="${QUERY}"`

const MEDIA = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-KEY:METHOD=AES-128,URI="key.bin?v=2"
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4,
a.ts
#EXTINF:4,
b.ts?token=x#frag
#EXTINF:4,
https://elsewhere.example/c.ts
#EXT-X-ENDLIST
`

t.test('a media playlist: one EXT-X-DEFINE after #EXTM3U, version raised to 8, every signed URI references it', async (t) => {
  t.equal(rewritePlaylist(MEDIA, { ...base, outside: 'keep', variables: true }), `#EXTM3U
${define('cfq')}
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:4
#EXT-X-KEY:METHOD=AES-128,URI="${DIST}/courses/42/hd/key.bin?v=2&{$cfq}"
#EXT-X-MAP:URI="${DIST}/courses/42/hd/init.mp4?{$cfq}"
#EXTINF:4,
${DIST}/courses/42/hd/a.ts?{$cfq}
#EXTINF:4,
${DIST}/courses/42/hd/b.ts?token=x&{$cfq}#frag
#EXTINF:4,
https://elsewhere.example/c.ts
#EXT-X-ENDLIST
`)
})

t.test('a version of 8 or more is kept; a missing one is added; CRLF is kept; a chosen name', async (t) => {
  t.equal(rewritePlaylist('#EXTM3U\r\n#EXT-X-VERSION:9\r\n#EXTINF:4,\r\na.ts\r\n', { ...base, variables: 'sig_1-a' }),
    `#EXTM3U\r\n${define('sig_1-a')}\r\n#EXT-X-VERSION:9\r\n#EXTINF:4,\r\n${DIST}/courses/42/hd/a.ts?{$sig_1-a}\r\n`)
  t.equal(rewritePlaylist('#EXTM3U\n#EXTINF:4,\na.ts', { ...base, variables: true }),
    `#EXTM3U\n${define('cfq')}\n#EXT-X-VERSION:8\n#EXTINF:4,\n${DIST}/courses/42/hd/a.ts?{$cfq}`)
})

t.test('the playlist\'s own variables are kept; a clash with the name is refused', async (t) => {
  const own = '#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\na.ts?v={$v}\n'
  t.equal(rewritePlaylist(own, { ...base, variables: true }),
    `#EXTM3U\n${define('cfq')}\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\n${DIST}/courses/42/hd/a.ts?v={$v}&{$cfq}\n`)
  for (const clash of [
    '#EXTM3U\n#EXT-X-DEFINE:NAME="cfq",VALUE="1"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:IMPORT="cfq"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="cfq"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXTINF:4,\na.ts?x={$cfq}\n'
  ]) {
    t.throws(() => rewritePlaylist(clash, { ...base, variables: true }), { code: 'FST_ERR_CF_INVALID_PLAYLIST', message: /already uses the variable "cfq".*another name/ })
    t.doesNotThrow(() => rewritePlaylist(clash, { ...base, variables: 'other' }), 'another name is fine')
  }
  t.throws(() => rewritePlaylist('#EXTM3U\n#EXT-X-DEFINE:NAME\n#EXTINF:4,\na.ts\n', { ...base, variables: true }), { code: 'FST_ERR_CF_INVALID_PLAYLIST', message: /EXT-X-DEFINE/ })
})

t.test('nothing to sign (a master playlist): the output of the default mode', async (t) => {
  const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhd/index.m3u8\n'
  t.equal(rewritePlaylist(master, { ...base, playlistPath: '/courses/42/master.m3u8', variables: true }), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/hls/courses/42/hd/index.m3u8\n')
  t.equal(rewritePlaylist(MEDIA, { ...base, outside: 'keep', variables: false }), rewritePlaylist(MEDIA, { ...base, outside: 'keep' }))
})

t.test('the option is checked', async (t) => {
  for (const bad of ['', 'a b', 'x{', 'q"', 1, null, {}]) {
    t.throws(() => rewritePlaylist(MEDIA, { ...base, variables: bad as never }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /variables/ })
  }
})
