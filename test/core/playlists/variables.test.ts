// Variables mode: the signed query written once, in an EXT-X-DEFINE, with what every signed URL
// starts with in a second one, both referenced by each signed URI (RFC 8216bis variable
// substitution, protocol version 8). Exact expected text for each shape, and for every shape: a
// player's substitution gives back the default mode's playlist.
import t from 'tap'
import { rewritePlaylist } from '../../../src/core/playlists/index.js'
import { DIST, QUERY } from './oracle.js'

const base = { playlistPath: '/courses/42/hd/index.m3u8', distribution: DIST, prefix: '/courses/42/', mirror: '/hls', query: QUERY }
const define = (name: string, start = `${DIST}/courses/42/hd/`, end = ''): string =>
  `#EXT-X-DEFINE:NAME="${name}b",VALUE="${start}"\n#EXT-X-DEFINE:NAME="${name}",VALUE="${end}${QUERY}"`

/** What a player does with the defines this mode adds (the first two lines after #EXTM3U). */
function substituted (text: string): string {
  const lines = text.split('\n')
  const values = new Map<string, string>()
  for (const line of lines.slice(1, 3)) {
    const m = /^#EXT-X-DEFINE:NAME="([^"]+)",VALUE="([^"]*)"\r?$/.exec(line)
    if (m === null) throw new Error(`not a define: ${line}`)
    // A player substitutes references on the lines, not in a define's VALUE.
    if ((m[2] as string).includes('{$')) throw new Error(`a reference inside a VALUE: ${line}`)
    values.set(m[1] as string, m[2] as string)
  }
  return [lines[0], ...lines.slice(3)].join('\n').replace(/\{\$([A-Za-z0-9_-]+)\}/g, (ref, name: string) => values.get(name) ?? ref)
}

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
#EXT-X-KEY:METHOD=AES-128,URI="{$cfqb}key.bin?v=2&{$cfq}"
#EXT-X-MAP:URI="{$cfqb}init.mp4?{$cfq}"
#EXTINF:4,
{$cfqb}a.ts?{$cfq}
#EXTINF:4,
{$cfqb}b.ts?token=x&{$cfq}#frag
#EXTINF:4,
https://elsewhere.example/c.ts
#EXT-X-ENDLIST
`)
})

t.test('a version of 8 or more is kept; a missing one is added; CRLF is kept; a chosen name', async (t) => {
  t.equal(rewritePlaylist('#EXTM3U\r\n#EXT-X-VERSION:9\r\n#EXTINF:4,\r\na.ts\r\n', { ...base, variables: 'sig_1-a' }),
    `#EXTM3U\r\n${define('sig_1-a', `${DIST}/courses/42/hd/a.ts?`).replace('\n', '\r\n')}\r\n#EXT-X-VERSION:9\r\n#EXTINF:4,\r\n{$sig_1-ab}{$sig_1-a}\r\n`)
  t.equal(rewritePlaylist('#EXTM3U\n#EXTINF:4,\na.ts', { ...base, variables: true }),
    `#EXTM3U\n${define('cfq', `${DIST}/courses/42/hd/a.ts?`)}\n#EXT-X-VERSION:8\n#EXTINF:4,\n{$cfqb}{$cfq}`)
})

t.test('the playlist\'s own variables are kept; a clash with the name is refused', async (t) => {
  const own = '#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\na.ts?v={$v}\n'
  t.equal(rewritePlaylist(own, { ...base, variables: true }),
    `#EXTM3U\n${define('cfq', `${DIST}/courses/42/hd/a.ts?v=`)}\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\n{$cfqb}{$v}&{$cfq}\n`, 'its reference stays on the line')
  for (const clash of [
    '#EXTM3U\n#EXT-X-DEFINE:NAME="cfq",VALUE="1"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:IMPORT="cfq"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="cfq"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:NAME="cfq",VALUE="1"\n#EXTINF:4,\na.ts?x={$cfq}\n',
    '#EXTM3U\n#EXT-X-DEFINE:NAME="cfqb",VALUE="1"\n#EXTINF:4,\na.ts\n',
    '#EXTM3U\n#EXT-X-DEFINE:NAME="cfqb",VALUE="1"\n#EXTINF:4,\na.ts?x={$cfqb}\n'
  ]) {
    t.throws(() => rewritePlaylist(clash, { ...base, variables: true }), { code: 'FST_ERR_CF_INVALID_PLAYLIST', message: /already uses the variable "cfq" or "cfqb".*another name/ })
    t.doesNotThrow(() => rewritePlaylist(clash, { ...base, variables: 'other' }), 'another name is fine')
  }
  t.throws(() => rewritePlaylist('#EXTM3U\n#EXT-X-DEFINE:NAME\n#EXTINF:4,\na.ts\n', { ...base, variables: true }), { code: 'FST_ERR_CF_INVALID_PLAYLIST', message: /EXT-X-DEFINE/ })
  // A reference nothing defines (a player fails to parse such a playlist) is refused in every mode.
  for (const variables of [true, 'other', false]) {
    for (const name of ['cfq', 'cfqb', 'v']) {
      t.throws(() => rewritePlaylist(`#EXTM3U\n#EXTINF:4,\na.ts?x={$${name}}\n`, { ...base, variables }),
        { code: 'FST_ERR_CF_INVALID_PLAYLIST', message: new RegExp(`line 3: .*uses \\{\\$${name}\\}, which no EXT-X-DEFINE`) })
    }
  }
})

t.test('the URLs\' common start goes in one variable, their common end before the query in the other', async (t) => {
  let long = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MAP:URI="seg-init.mp4"\n'
  for (let i = 0; i < 12; i++) long += `#EXTINF:2,\nseg-${String(i).padStart(3, '0')}.mp4\n`
  t.equal(rewritePlaylist(long, { ...base, variables: true }).split('\n').slice(0, 9).join('\n'), `#EXTM3U
${define('cfq', `${DIST}/courses/42/hd/seg-`, '.mp4?')}
#EXT-X-VERSION:8
#EXT-X-MAP:URI="{$cfqb}init{$cfq}"
#EXTINF:2,
{$cfqb}000{$cfq}
#EXTINF:2,
{$cfqb}001{$cfq}`)
})

t.test('neither variable holds a \'"\' (VALUE is a quoted-string): a quote in a URL is percent-encoded, as a player\'s URL parser does', async (t) => {
  const quoted = '#EXTM3U\n#EXTINF:4,\na.ts?x="1"\n#EXTINF:4,\nb.ts?x="1"\n#EXTINF:4,\nb.ts?x="1"\n'
  const out = rewritePlaylist(quoted, { ...base, variables: true })
  t.equal(out.split('\n').slice(0, 3).join('\n'), `#EXTM3U\n${define('cfq', `${DIST}/courses/42/hd/`, '.ts?x=%221%22&')}`)
  t.match(out, /\n\{\$cfqb\}a\{\$cfq\}\n/)
  t.notMatch(out, /"1"/)
  const same = '#EXTM3U\n#EXTINF:4,\na.ts?x="1"\n#EXTINF:4,\na.ts?x="1"\n'
  t.equal(rewritePlaylist(same, { ...base, variables: true }).split('\n').slice(0, 3).join('\n'), `#EXTM3U\n${define('cfq', `${DIST}/courses/42/hd/a.ts?x=%221%22&`)}`)
})

t.test('every shape: substituting the defines gives the default mode\'s playlist, version aside', async (t) => {
  const shapes = [
    [MEDIA, { outside: 'keep' as const }],
    ['#EXTM3U\r\n#EXT-X-VERSION:9\r\n#EXTINF:4,\r\na.ts\r\n', {}],
    ['#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\na.ts?v={$v}\n#EXTINF:4,\nb.ts\n', {}],
    ['#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME="v",VALUE="2"\n#EXTINF:4,\na.ts?v={$v}\n#EXTINF:4,\nc.ts?v={$v}\n', {}],
    ['#EXTM3U\n#EXTINF:4,\na.ts?x="1"\n#EXTINF:4,\nb.ts?x="1"\n', {}],
    ['#EXTM3U\n#EXTINF:4,\na.ts?x="1"\n#EXTINF:4,\na.ts?x="1"\n', {}],
    ['#EXTM3U\n#EXT-X-PART:DURATION=1,URI="p1.mp4"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p2.mp4"\n#EXTINF:2,\n../hd/s1.mp4\n#EXTINF:2,\n/courses/42/sd/s2.mp4\n', {}]
  ] as const
  for (const [text, extra] of shapes) {
    const plain = rewritePlaylist(text, { ...base, ...extra }).replace(/#EXT-X-VERSION:\d+\r?\n/, '')
    const vars = substituted(rewritePlaylist(text, { ...base, ...extra, variables: true })).replace(/#EXT-X-VERSION:\d+\r?\n/, '')
    // A player substitutes the playlist's own variables too; the default mode leaves them.
    t.equal(vars, plain, JSON.stringify(text).slice(0, 60))
  }
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
