// The rewrite on ffmpeg's own playlists, made now by Debian's ffmpeg: a master with two TS
// variants, fMP4 with EXT-X-MAP, AES-128 with EXT-X-KEY, and fMP4 in one file as byte ranges.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compilePlaylist, rewritePlaylist } from '../../../src/core/playlists/index.js'
import { tempDir } from '../../edge/helpers.js'
import { makeCourse, STREAM_SECONDS } from '../../helpers/media.js'
import { DIST, QUERY, expectedPlaylist } from './oracle.js'

const root = tempDir(t, 'cf-playlists-ffmpeg-')
const streams = makeCourse(root, '42')
const read = (cdnPath: string): string => readFileSync(join(root, cdnPath), 'utf8')
const ctx = (playlistPath: string) => ({ playlistPath, distribution: DIST, prefix: '/courses/42/', mirror: '/hls' })

function rewritten (cdnPath: string): { input: string, output: string } {
  const input = read(cdnPath)
  const output = rewritePlaylist(input, { ...ctx(cdnPath), query: QUERY })
  return { input, output }
}

t.test('master with two variants: both to the mirror, nothing signed, every other byte kept', async (t) => {
  const { input, output } = rewritten(streams.tsMaster)
  t.equal(output, expectedPlaylist(input, ctx(streams.tsMaster), QUERY))
  t.equal(output, input.replace('\nhigh/index.m3u8\n', '\n/hls/courses/42/ts/high/index.m3u8\n').replace('\nlow/index.m3u8\n', '\n/hls/courses/42/ts/low/index.m3u8\n'))
  t.equal(compilePlaylist(input, ctx(streams.tsMaster)).signed, 0)
})

t.test('TS variant: every segment absolute on the CDN with the signed query', async (t) => {
  const path = '/courses/42/ts/high/index.m3u8'
  const { input, output } = rewritten(path)
  t.equal(output, expectedPlaylist(input, ctx(path), QUERY))
  const segments = output.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  t.equal(segments.length, STREAM_SECONDS)
  segments.forEach((s, i) => t.equal(s, `${DIST}/courses/42/ts/high/seg-00${i}.ts?${QUERY}`))
  const compiled = compilePlaylist(input, ctx(path))
  t.equal(compiled.duration, STREAM_SECONDS)
  t.equal(compiled.immutable, true, 'ffmpeg writes EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST')
})

t.test('fMP4: EXT-X-MAP signed', async (t) => {
  const { input, output } = rewritten(streams.fmp4)
  t.equal(output, expectedPlaylist(input, ctx(streams.fmp4), QUERY))
  t.match(output, `#EXT-X-MAP:URI="${DIST}/courses/42/fmp4/init.mp4?${QUERY}"\n`)
  t.equal(compilePlaylist(input, ctx(streams.fmp4)).signed, STREAM_SECONDS + 1)
})

t.test('AES-128: EXT-X-KEY signed, IV kept', async (t) => {
  const { input, output } = rewritten(streams.aes)
  t.equal(output, expectedPlaylist(input, ctx(streams.aes), QUERY))
  t.match(output, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="${DIST}/courses/42/aes/key\\.bin\\?${QUERY.replace(/[.?*+^$|()[\]{}\\]/g, '\\$&')}",IV=0x[0-9a-f]{32}\\n`))
})

t.test('byte ranges: the map and every range of the one file signed', async (t) => {
  const { input, output } = rewritten(streams.range)
  t.equal(output, expectedPlaylist(input, ctx(streams.range), QUERY))
  t.match(input, '#EXT-X-BYTERANGE:')
  t.equal(output.split(`${DIST}/courses/42/range/index.m4s?${QUERY}`).length - 1, input.split('index.m4s').length - 1)
})
